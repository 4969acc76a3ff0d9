"""The ``fulfillment`` payload: new shipments, cancellations and withdrawals of an order's
lines, in the fulfill request's own shape (``withdrawn`` is ours), checked before it is stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Final

from pydantic import Field

from feedamp_sync.outbox.fields import (
    Loc,
    Problem,
    Quantity,
    Shape,
    ShippedDate,
    Text,
    TrimmedText,
    Url,
    named_twice,
    one_of,
    path,
    shown,
    without_offset,
)
from feedamp_sync.outbox.payloads import OTHER_REASON_WARNING

CANCELLATION_REASONS: Final = (
    "customer_cancelled",
    "unable_to_ship",
    "out_of_stock",
    "price_error",
    "tax_error",
    "shipping_price_error",
    "other",
)


class Shipment(Shape):
    quantity_shipped: Quantity
    shipped_date: ShippedDate
    carrier: Text
    tracking_number: TrimmedText
    tracking_url: Url | None = None

    def notes(self) -> Iterator[tuple[Loc, str]]:
        if without_offset(self.shipped_date):
            yield ("shipped_date",), f"{shown(self.shipped_date)} has no UTC offset; taken as UTC"


class Cancellation(Shape):
    quantity_cancelled: Quantity
    cancellation_reason: Annotated[str, one_of(CANCELLATION_REASONS)]

    def notes(self) -> Iterator[tuple[Loc, str]]:
        if self.cancellation_reason == "other":
            yield ("cancellation_reason",), OTHER_REASON_WARNING


class Withdrawal(Shape):
    """An earlier shipment of the line to take back (a mistyped tracking number, say), known
    by its tracking number and quantity, whoever entered it; its units are free again."""

    tracking_number: TrimmedText
    quantity_shipped: Quantity


_ENTRIES: Final = ("fulfillments", "cancellations", "withdrawn")


class OrderLine(Shape):
    mp_line_number: Text
    sku: Text | None = None
    fulfillments: list[Shipment] = Field(default_factory=list)
    cancellations: list[Cancellation] = Field(default_factory=list)
    withdrawn: list[Withdrawal] = Field(
        default_factory=list, exclude_if=lambda withdrawn: not withdrawn
    )

    @classmethod
    def object_problems(cls, given: Mapping[str, Any]) -> list[Problem]:
        """A shipment given twice is a copy-paste mistake, not two parcels; a line that ships,
        cancels and withdraws nothing would change nothing."""
        found = _copies(given.get("fulfillments"))
        if all(given.get(key) in (None, []) for key in _ENTRIES):
            found.append(Problem((), "needs at least one fulfillment, cancellation or withdrawal"))
        return found


class FulfillmentPayload(Shape):
    invoice_number: Text | None = None
    order_lines: Annotated[list[OrderLine], Field(min_length=1)]

    @classmethod
    def object_problems(cls, given: Mapping[str, Any]) -> list[Problem]:
        """All of a line's entries belong in one element, so a line named twice is refused."""
        lines = given.get("order_lines")
        return [
            Problem(
                ("order_lines", index, "mp_line_number"),
                f"{shown(number)} is named twice (also {path(('order_lines', first))}); "
                "put all of a line's entries in one element",
                listed_at=("order_lines", index),
            )
            for index, first, number in named_twice(lines, "mp_line_number")
        ]


def _copies(shipments: Any) -> list[Problem]:
    """Each shipment identical to an earlier one in what it sends, beside any mistake in
    both (a copy of a copy-pasted shipment has the same mistake)."""
    if not isinstance(shipments, list) or len(shipments) < 2:
        return []
    sent = [Shipment.valid_part(s) if isinstance(s, dict) else None for s in shipments]
    return [
        Problem(
            ("fulfillments", index),
            f"is identical to fulfillments[{sent.index(shipment)}]",
            listed_at=("fulfillments", len(sent)),
        )
        for index, shipment in enumerate(sent)
        if shipment is not None and shipment in sent[:index]
    ]
