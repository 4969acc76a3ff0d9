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
class OutboxMessage:
    """A message claimed for delivery; ``attempts`` counts this attempt too."""

    id: int
    account: str
    kind: str
    target_id: str
    payload: Any
    attempts: int

    @property
    def earlier_attempt_may_have_applied(self) -> bool:
        """True when a previous claim may have reached FeedAMP (crash, timeout, lost lease)."""
        return self.attempts > 1
