"""Domain values: FeedAMP objects reduced to the typed fields we index, and outbox messages.

Parsing is tolerant by design (docs/feedamp-api.md: FeedAMP adds fields without notice and the
samples disagree): a field of the wrong type becomes ``None`` in its typed column while the
whole object is kept as received, so nothing a seller might need is ever dropped. What cannot
be stored as received at all (no usable id, text or nesting some database refuses, a number
or date no column holds) raises :class:`~feedamp_sync.errors.Unstorable` naming the field, and
the object is quarantined instead of failing its page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from feedamp_sync.errors import Unstorable
from feedamp_sync.storable import json_problems

Json = dict[str, Any]

FEEDAMP_ID_MAX_CHARS: Final = 64
INTEGER_RANGE: Final = (-(2**31), 2**31 - 1)
"""What an integer column (a quantity) holds on every backend."""
MONEY_LIMIT: Final = 10**10
"""Money columns keep 14 digits, 4 of them decimals: amounts below ten billion."""
YEARS: Final = (1000, 9999)
"""The years a date-time column holds on every backend (MariaDB's DATETIME range)."""


def parse_time(value: Any) -> datetime | None:
    """An API date-time as aware UTC; FeedAMP returns UTC (``2018-05-01T23:52:01.000Z``)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _text(value: Any, limit: int) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text[:limit] if text else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except (ValueError, OverflowError):
        return None


def _integer(value: Any, path: str) -> int | None:
    number = _number(value)
    if number is None or not (math.isinf(number) or number.is_integer()):
        return None
    low, high = INTEGER_RANGE
    if not low <= number <= high:
        raise Unstorable(f"{path}: {_shown(value)} does not fit an integer column")
    return int(number)


def _money(value: Any, path: str) -> float | None:
    number = _number(value)
    if number is not None and not abs(number) < MONEY_LIMIT:
        raise Unstorable(f"{path}: {_shown(value)} does not fit a money column")
    return number


def _stored_time(value: Any, path: str) -> datetime | None:
    """A date-time for a typed column: None if it does not parse, Unstorable if it parses to
    a moment no column holds (a year past 9999 once moved to UTC)."""
    try:
        parsed = parse_time(value)
    except OverflowError:
        parsed = None
        out_of_range = True
    else:
        out_of_range = parsed is not None and not YEARS[0] <= parsed.year <= YEARS[1]
    if out_of_range:
        raise Unstorable(f"{path}: {_shown(value)} is outside the years {YEARS[0]}-{YEARS[1]}")
    return parsed


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def feedamp_id_of(obj: Any, what: str) -> str:
    """The object's FeedAMP id as stored (an int or a non-empty string of at most 64
    characters); Unstorable otherwise, also for an object that is not an object."""
    if not isinstance(obj, Mapping):
        raise Unstorable(f"{what}: is a {type(obj).__name__}, not an object")
    identifier = obj.get("id")
    if isinstance(identifier, bool) or not isinstance(identifier, str | int) or identifier == "":
        raise Unstorable(f"id: {_shown(identifier)} is not a usable id (a string or an integer)")
    text = str(identifier)
    if len(text) > FEEDAMP_ID_MAX_CHARS:
        raise Unstorable(f"id: {_shown(identifier)} is over {FEEDAMP_ID_MAX_CHARS} characters")
    return text


def require_storable(obj: Any, what: str) -> str:
    """The id of an object that can be stored as received; Unstorable naming the first
    problem (its id, then text or nesting some database refuses) otherwise."""
    identifier = feedamp_id_of(obj, what)
    problems = json_problems(obj)
    if problems:
        raise Unstorable("; ".join(problems[:3]))
    return identifier


@dataclass(frozen=True)
class OrderLineRecord:
    mp_line_number: str
    sku: str | None
    product_name: str | None
    quantity: int | None
    unit_price: float | None
    sales_tax: float | None
    shipping_price: float | None
    shipping_tax: float | None
    data: Json


@dataclass(frozen=True)
class OrderRecord:
    feedamp_id: str
    mp_order_number: str | None
    marketplace: str | None
    state: str | None
    marketplace_state: str | None
    purchase_date: datetime | None
    data: Json
    lines: list[OrderLineRecord] = field(default_factory=list)
    skipped_lines: int = 0


def order_record(order: Mapping[str, Any]) -> OrderRecord:
    """The typed view of one order as received; Unstorable if it cannot be stored."""
    feedamp_id = require_storable(order, "order")
    info = order.get("order_info")
    info = info if isinstance(info, Mapping) else {}
    raw_lines = info.get("order_lines")
    lines: list[OrderLineRecord] = []
    skipped = 0
    seen: set[str] = set()
    for index, line in enumerate(raw_lines if isinstance(raw_lines, list) else []):
        number = _text(line.get("mp_line_number"), 128) if isinstance(line, Mapping) else None
        if number is None or number in seen or not isinstance(line, Mapping):
            skipped += 1
            continue
        seen.add(number)
        path = f"order_info.order_lines[{index}]"
        lines.append(
            OrderLineRecord(
                mp_line_number=number,
                sku=_text(line.get("sku"), 255),
                product_name=_text(line.get("product_name"), 512),
                quantity=_integer(line.get("quantity"), f"{path}.quantity"),
                unit_price=_money(line.get("unit_price"), f"{path}.unit_price"),
                sales_tax=_money(line.get("sales_tax"), f"{path}.sales_tax"),
                shipping_price=_money(line.get("shipping_price"), f"{path}.shipping_price"),
                shipping_tax=_money(line.get("shipping_tax"), f"{path}.shipping_tax"),
                data=dict(line),
            )
        )
    return OrderRecord(
        feedamp_id=feedamp_id,
        mp_order_number=_text(info.get("mp_order_number"), 128),
        marketplace=_text(info.get("marketplace_name") or order.get("integration_name"), 128),
        state=_text(order.get("state"), 64),
        marketplace_state=_text(order.get("marketplace_state"), 64),
        purchase_date=_stored_time(info.get("purchase_date"), "order_info.purchase_date"),
        data={**order, "id": feedamp_id},
        lines=lines,
        skipped_lines=skipped,
    )


@dataclass(frozen=True)
class ReturnLineRecord:
    mp_return_line_number: str
    feedamp_return_line_id: str | None
    mp_order_line_number: str | None
    sku: str | None
    product_name: str | None
    quantity: int | None
    reason: str | None
    data: Json


@dataclass(frozen=True)
class ReturnRecord:
    feedamp_id: str
    order_feedamp_id: str | None
    mp_return_number: str | None
    mp_order_number: str | None
    merchant_return_number: str | None
    state: str | None
    request_date: datetime | None
    respond_by_date: datetime | None
    data: Json
    lines: list[ReturnLineRecord] = field(default_factory=list)
    skipped_lines: int = 0


def return_record(obj: Mapping[str, Any]) -> ReturnRecord:
    """The typed view of one return as received; Unstorable if it cannot be stored.

    The line id a return refund needs is the line's ``feedamp_return_line_id``, else its
    ``id`` (docs/feedamp-api.md: the published samples show neither).
    """
    feedamp_id = require_storable(obj, "return")
    info = obj.get("return_info")
    info = info if isinstance(info, Mapping) else {}
    raw_lines = info.get("return_lines")
    lines: list[ReturnLineRecord] = []
    skipped = 0
    seen: set[str] = set()
    for index, line in enumerate(raw_lines if isinstance(raw_lines, list) else []):
        number = (
            _text(line.get("mp_return_line_number"), 128) if isinstance(line, Mapping) else None
        )
        if number is None or number in seen or not isinstance(line, Mapping):
            skipped += 1
            continue
        seen.add(number)
        lines.append(
            ReturnLineRecord(
                mp_return_line_number=number,
                feedamp_return_line_id=(
                    _text(line.get("feedamp_return_line_id"), 64) or _text(line.get("id"), 64)
                ),
                mp_order_line_number=_text(line.get("mp_order_line_number"), 128),
                sku=_text(line.get("sku"), 255),
                product_name=_text(line.get("product_name"), 512),
                quantity=_integer(
                    line.get("quantity"), f"return_info.return_lines[{index}].quantity"
                ),
                reason=_text(line.get("reason"), 128),
                data=dict(line),
            )
        )
    return ReturnRecord(
        feedamp_id=feedamp_id,
        order_feedamp_id=_text(obj.get("order_id"), 64),
        mp_return_number=_text(info.get("mp_return_number"), 128),
        mp_order_number=_text(info.get("mp_order_number"), 128),
        merchant_return_number=_text(info.get("merchant_return_number"), 128),
        state=_text(obj.get("state"), 64),
        request_date=_stored_time(info.get("request_date"), "return_info.request_date"),
        respond_by_date=_stored_time(info.get("respond_by_date"), "return_info.respond_by_date"),
        data={**obj, "id": feedamp_id},
        lines=lines,
        skipped_lines=skipped,
    )


@dataclass(frozen=True)
class Undecodable:
    """A stored JSON value that cannot be read back: text inserted by hand that is not JSON,
    or JSON nested too deep to decode. Carried in place of the value so the one row can be
    refused while the rest are read.

    ``where`` names what cannot be read: the value itself, or, in place of an outbox
    message's payload, an identifying column of its row (``target_id``, say) that cannot be
    given back to the database.
    """

    text: str
    reason: str
    where: str = "payload"


@dataclass(frozen=True)
class OutboxMessage:
    """A message claimed for delivery; ``attempts`` counts this attempt too.

    ``attempts`` never goes back (it is the fencing token, and it tells a handler that an
    earlier attempt may have applied); an operator's retry instead starts a new budget at
    ``attempts_budget_start``, so only ``attempts_in_budget`` counts towards giving up.
    """

    id: int
    account: str
    kind: str
    target_id: str
    payload: Any
    """The decoded JSON, or :class:`Undecodable`."""
    attempts: int
    attempts_budget_start: int = 0
    plan: Any = None
    """What a seller action's handler sends, prepared from stored data by the claiming thread
    (``outbox/prepare.py``), since handlers never run SQL; None for confirms."""
    earlier_outcome_unknown: bool = False
    """An earlier attempt may have taken effect without our learning it: it timed out, lost
    its connection after sending or met a 5xx, or it was never recorded (a crash, a lost
    lease). Read from the attempts' records at the claim
    (:func:`~feedamp_sync.core.attempts.earlier_outcome_unknown`)."""
    own_number: bool = False
    """The payload's number (``cp_refund_number``) was generated here with a random part of
    its own (``{nonce}``), so FeedAMP can hold it only by this message's doing; False for a
    number the seller gave or a template without ``{nonce}``."""

    @property
    def earlier_attempt_may_have_applied(self) -> bool:
        """True after any earlier attempt: a kind that reads FeedAMP's copy back before
        acting again uses it, since a read settles the question whatever that attempt met.
        A kind that must trust a refusal instead asks :attr:`earlier_outcome_unknown`."""
        return self.attempts > 1

    @property
    def retried_by_operator(self) -> bool:
        """True once an operator has put the message back in the queue (``outbox retry``)."""
        return self.attempts_budget_start > 0

    @property
    def attempts_in_budget(self) -> int:
        """Attempts since the message was last put back in the queue by an operator."""
        return self.attempts - self.attempts_budget_start
