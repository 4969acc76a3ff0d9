"""Fulfillments accumulate: the set FeedAMP must hold, and whether it already holds it.

``PUT .../fulfill`` replaces every shipment and cancellation of the order, while a fulfillment
message holds only the *new* ones. So each send is the union of every fulfillment already
sent for the order plus the new message, merged per ``mp_line_number`` (DESIGN.md,
"Fulfillments accumulate"). A shipment identical to one already in the union is not added
again (a re-sent shipment is one shipment). Cancellations carry no identity, and a message
holds only new entries, so two equal cancellations in two messages are two cancellations; the
quantity check keeps them from exceeding the line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Json = dict[str, Any]
_Key = tuple[str, str, int]


def union(payloads: Sequence[Mapping[str, Any]]) -> Json:
    """The request body that holds every entry of ``payloads`` (normalised, oldest first).

    Lines keep the order in which they first appear; ``invoice_number`` is the newest given.
    """
    lines: dict[str, Json] = {}
    invoice: str | None = None
    for payload in payloads:
        invoice = payload.get("invoice_number") or invoice
        for line in payload["order_lines"]:
            number = line["mp_line_number"]
            merged = lines.get(number)
            if merged is None:
                merged = lines[number] = {"mp_line_number": number}
                if line.get("sku"):
                    merged["sku"] = line["sku"]
                merged |= {"fulfillments": [], "cancellations": []}
            merged["fulfillments"] += [
                shipment
                for shipment in line["fulfillments"]
                if shipment not in merged["fulfillments"]
            ]
            merged["cancellations"] += line["cancellations"]
    body: Json = {} if invoice is None else {"invoice_number": invoice}
    body["order_lines"] = list(lines.values())
    return body


def covered(body: Mapping[str, Any]) -> dict[str, int]:
    """Units of each line a fulfill body ships or cancels."""
    return {
        line["mp_line_number"]: sum(s["quantity_shipped"] for s in line["fulfillments"])
        + sum(c["quantity_cancelled"] for c in line["cancellations"])
        for line in body["order_lines"]
    }


def holds(order: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether an order read back from FeedAMP already holds every entry of ``body``.

    Shipments are matched by tracking number and quantity, cancellations by reason and
    quantity, counting repeats. After an attempt with an unknown outcome this tells "the PUT
    took effect" (FeedAMP holds the whole union, new entries included) from "it did not"
    (FeedAMP still holds only what earlier messages sent). Reads the order tolerantly: the
    docs do not show how a GET order presents fulfillments.
    """
    held = _held_entries(order)
    for line in body["order_lines"]:
        wanted = Counter(_entry_keys(line))
        have = held.get(str(line["mp_line_number"]), Counter())
        if any(have[key] < count for key, count in wanted.items()):
            return False
    return True


def _held_entries(order: Mapping[str, Any]) -> dict[str, Counter[_Key]]:
    info = order.get("order_info")
    lines = info.get("order_lines") if isinstance(info, Mapping) else None
    held: dict[str, Counter[_Key]] = {}
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, Mapping) and line.get("mp_line_number") is not None:
            held[str(line["mp_line_number"])] = Counter(_entry_keys(line))
    return held


def _entry_keys(line: Mapping[str, Any]) -> Iterable[_Key]:
    for shipment in _dicts(line.get("fulfillments")):
        quantity = _quantity(shipment.get("quantity_shipped"))
        if quantity is not None:
            yield ("shipment", str(shipment.get("tracking_number")), quantity)
    for cancellation in _dicts(line.get("cancellations")):
        quantity = _quantity(cancellation.get("quantity_cancelled"))
        if quantity is not None:
            yield ("cancellation", str(cancellation.get("cancellation_reason")), quantity)


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _quantity(value: Any) -> int | None:
    """A quantity FeedAMP may echo as a number or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
