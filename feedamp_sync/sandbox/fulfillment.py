"""The fulfill rules: what a replacement set of shipments and cancellations may contain, and
how GET order shows the set.

FeedAMP's ``PUT .../fulfill`` replaces every fulfillment the order holds, and the order is done
(and frozen) once each unit is shipped or cancelled. These pure functions on an order object
decide whether a request is acceptable and what state it leaves the order in; the world calls
them under its lock.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from feedamp_sync.sandbox.parse import FulfillRequest
from feedamp_sync.sandbox.vocab import CANCELLED, COMPLETE_ORDER_STATES, FULFILLED, ORDERED
from feedamp_sync.sandbox.wire import JSON, Rejected

COMPLETE_MESSAGE = "order is complete and accepts no further updates"


@dataclass(frozen=True)
class Echo:
    """How GET order shows the shipments and cancellations an order holds, which the docs
    leave open: per line in the request's shape by default; or not at all (``hidden``); or
    with tracking numbers upper-cased and trimmed (``normalised_tracking``); or with a line's
    shipments under one tracking number shown as one, their units summed (``summed``)."""

    hidden: bool = False
    normalised_tracking: bool = False
    summed: bool = False

    def show(self, line: JSON) -> None:
        """Change a copy of an order line into what GET order shows of it."""
        if self.hidden:
            line.pop("fulfillments", None)
            line.pop("cancellations", None)
            return
        shipments = line.get("fulfillments")
        if not isinstance(shipments, list):
            return
        if self.normalised_tracking:
            for shipment in shipments:
                shipment["tracking_number"] = shipment["tracking_number"].strip().upper()
        if self.summed:
            line["fulfillments"] = _summed(shipments)


def _summed(shipments: list[JSON]) -> list[JSON]:
    """One shipment per tracking number: the first one's fields with all their units."""
    summed: dict[str, JSON] = {}
    for shipment in shipments:
        number = shipment["tracking_number"]
        if number in summed:
            summed[number]["quantity_shipped"] += shipment["quantity_shipped"]
        else:
            summed[number] = dict(shipment)
    return list(summed.values())


def check(order: JSON, request: FulfillRequest) -> None:
    """Raise a 400 unless ``request`` can replace the fulfillments of ``order``."""
    if order["state"] == ORDERED:
        raise Rejected(400, "order not confirmed")
    if order["state"] in COMPLETE_ORDER_STATES:
        raise Rejected(400, COMPLETE_MESSAGE)
    lines = {line["mp_line_number"]: line for line in order["order_info"]["order_lines"]}
    seen: set[str] = set()
    for index, item in enumerate(request.lines):
        where = f"order_lines[{index}]"
        stored = lines.get(item.mp_line_number)
        if stored is None:
            raise Rejected(
                400, f"{where}.mp_line_number {item.mp_line_number} is not a line of this order"
            )
        if item.mp_line_number in seen:
            raise Rejected(400, f"{where}.mp_line_number {item.mp_line_number} is named twice")
        seen.add(item.mp_line_number)
        if item.sku is not None and item.sku != stored["sku"]:
            raise Rejected(400, f"{where}.sku {item.sku} does not match line {item.mp_line_number}")
        shipped = sum(f["quantity_shipped"] for f in item.fulfillments)
        cancelled = sum(c["quantity_cancelled"] for c in item.cancellations)
        if shipped + cancelled > stored["quantity"]:
            raise Rejected(
                400,
                f"{where}: {shipped} shipped + {cancelled} cancelled exceeds the ordered "
                f"quantity {stored['quantity']}",
            )


def apply(order: JSON, request: FulfillRequest) -> None:
    """Replace the order's shipments and cancellations (lines not named get none) and update
    its state: FULFILLED when every unit is shipped or cancelled, CANCELLED when all are
    cancelled, otherwise unchanged."""
    given = {item.mp_line_number: item for item in request.lines}
    info = order["order_info"]
    if request.invoice_number is not None:
        info["invoice_number"] = request.invoice_number
    shipped_total = 0
    complete = True
    for line in info["order_lines"]:
        item = given.get(line["mp_line_number"])
        line["fulfillments"] = copy.deepcopy(item.fulfillments) if item else []
        line["cancellations"] = copy.deepcopy(item.cancellations) if item else []
        shipped = sum(f["quantity_shipped"] for f in line["fulfillments"])
        cancelled = sum(c["quantity_cancelled"] for c in line["cancellations"])
        shipped_total += shipped
        complete = complete and shipped + cancelled == line["quantity"]
    if complete:
        all_cancelled = shipped_total == 0
        order["state"] = CANCELLED if all_cancelled else FULFILLED
        order["marketplace_state"] = "CANCELLED" if all_cancelled else "SHIPPED"


def effect(order: JSON, request: FulfillRequest) -> JSON:
    """The ledger's record of a fulfill: the replacement set exactly as accepted."""
    return {
        "kind": "fulfill",
        "order_id": order["id"],
        "state": order["state"],
        "invoice_number": request.invoice_number,
        "order_lines": [
            {
                "mp_line_number": item.mp_line_number,
                "fulfillments": copy.deepcopy(item.fulfillments),
                "cancellations": copy.deepcopy(item.cancellations),
            }
            for item in request.lines
        ],
    }
