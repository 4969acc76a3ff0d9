"""Domain values: FeedAMP objects reduced to the typed fields we index, and outbox messages.

Parsing is tolerant by design (feedamp-api.md: FeedAMP adds fields without notice and the
samples disagree): a field of the wrong type becomes ``None`` in its typed column while the
whole object is kept as received, so nothing a seller might need is ever dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]


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
    except ValueError:
        return None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


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
    """The typed view of one order as received (the client guarantees a string ``id``)."""
    info = order.get("order_info")
    info = info if isinstance(info, Mapping) else {}
    raw_lines = info.get("order_lines")
    lines: list[OrderLineRecord] = []
    skipped = 0
    seen: set[str] = set()
    for line in raw_lines if isinstance(raw_lines, list) else []:
        number = _text(line.get("mp_line_number"), 128) if isinstance(line, Mapping) else None
        if number is None or number in seen or not isinstance(line, Mapping):
            skipped += 1
            continue
        seen.add(number)
        lines.append(
            OrderLineRecord(
                mp_line_number=number,
                sku=_text(line.get("sku"), 255),
                product_name=_text(line.get("product_name"), 512),
                quantity=_integer(line.get("quantity")),
                unit_price=_number(line.get("unit_price")),
                sales_tax=_number(line.get("sales_tax")),
                shipping_price=_number(line.get("shipping_price")),
                shipping_tax=_number(line.get("shipping_tax")),
                data=dict(line),
            )
        )
    return OrderRecord(
        feedamp_id=str(order["id"]),
        mp_order_number=_text(info.get("mp_order_number"), 128),
        marketplace=_text(info.get("marketplace_name") or order.get("integration_name"), 128),
        state=_text(order.get("state"), 64),
        marketplace_state=_text(order.get("marketplace_state"), 64),
        purchase_date=parse_time(info.get("purchase_date")),
        data=dict(order),
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
    """The typed view of one return as received (the client guarantees a string ``id``).

    The line id a return refund needs is the line's ``feedamp_return_line_id``, else its
    ``id`` (feedamp-api.md: the published samples show neither).
    """
    info = obj.get("return_info")
    info = info if isinstance(info, Mapping) else {}
    raw_lines = info.get("return_lines")
    lines: list[ReturnLineRecord] = []
    skipped = 0
    seen: set[str] = set()
    for line in raw_lines if isinstance(raw_lines, list) else []:
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
                quantity=_integer(line.get("quantity")),
                reason=_text(line.get("reason"), 128),
                data=dict(line),
            )
        )
    return ReturnRecord(
        feedamp_id=str(obj["id"]),
        order_feedamp_id=_text(obj.get("order_id"), 64),
        mp_return_number=_text(info.get("mp_return_number"), 128),
        mp_order_number=_text(info.get("mp_order_number"), 128),
        merchant_return_number=_text(info.get("merchant_return_number"), 128),
        state=_text(obj.get("state"), 64),
        request_date=parse_time(info.get("request_date")),
        respond_by_date=parse_time(info.get("respond_by_date")),
        data=dict(obj),
        lines=lines,
        skipped_lines=skipped,
    )


@dataclass(frozen=True)
class Undecodable:
    """A stored JSON value that cannot be read back: text inserted by hand that is not JSON,
    or JSON nested too deep to decode. Carried in place of the value so the one row can be
    refused while the rest are read."""

    text: str
    reason: str


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

    @property
    def earlier_attempt_may_have_applied(self) -> bool:
        """True when a previous claim may have reached FeedAMP (crash, timeout, lost lease)."""
        return self.attempts > 1

    @property
    def attempts_in_budget(self) -> int:
        """Attempts since the message was last put back in the queue by an operator."""
        return self.attempts - self.attempts_budget_start
