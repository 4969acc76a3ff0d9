"""The shape of each seller action's payload, checked without any stored data.

Each payload is the API's own request body for its action (DESIGN.md, "Outbox payloads";
feedamp-api.md §5, §6, §9, §10), holding only what is new. :func:`check_payload` accepts it,
with the exact API enums, strict types and no unknown keys, and returns it *normalised*: the
refund wrapper ``{"refund_info": {...}}`` unwrapped, a date-time without an offset given
``+00:00``, absent lists made empty. Everything wrong is reported at once in
:class:`InvalidPayload`; the checks against the stored order or return are in ``context.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.fields import Fields, Report, join, shown, top_object

Json = dict[str, Any]

SELLER_KINDS: Final = ("fulfillment", "refund", "return_authorization", "return_refund")
"""The outbox kinds a seller enqueues (``confirm`` is the daemon's own)."""

CANCELLATION_REASONS: Final = (
    "customer_cancelled",
    "unable_to_ship",
    "out_of_stock",
    "price_error",
    "tax_error",
    "shipping_price_error",
    "other",
)
REFUND_REASONS: Final = (
    "customer_cancelled",
    "customer_return",
    "accidental_order",
    "wrong_item_received",
    "defective_item_received",
    "damaged_item_received",
    "item_never_received",
    "item_received_late",
    "wrong_quantity_received",
    "could_not_ship",
    "abandoned",
    "price_error",
    "tax_error",
    "shipping_cost_error",
    "other",
)
REFUND_AMOUNTS: Final = (
    "item_refund",
    "item_tax_refund",
    "shipping_refund",
    "shipping_tax_refund",
    "discount_refund",
)

_FULFILLMENT_KEYS: Final = ("invoice_number", "order_lines")
_LINE_KEYS: Final = ("mp_line_number", "sku", "fulfillments", "cancellations")
_SHIPMENT_KEYS: Final = (
    "quantity_shipped",
    "shipped_date",
    "carrier",
    "tracking_number",
    "tracking_url",
)
_CANCELLATION_KEYS: Final = ("quantity_cancelled", "cancellation_reason")
_REFUND_KEYS: Final = (
    "cp_refund_number",
    "mp_line_number",
    "refund_reason",
    "currency",
    "refund_quantity",
    *REFUND_AMOUNTS,
    "refund_notes",
)
_AUTHORIZATION_KEYS: Final = ("merchant_return_number",)
_RETURN_REFUND_KEYS: Final = ("merchant_refund_lines",)
_RETURN_REFUND_LINE_KEYS: Final = ("feedamp_return_line_id", "merchant_full_refund")
_OTHER_REASON_WARNING: Final = (
    "'other' is refused by some marketplaces (FeedAMP advises against it)"
)


@dataclass(frozen=True)
class Checked:
    """A payload that passed its shape checks, normalised, with any warnings about it."""

    kind: str
    payload: Json
    warnings: tuple[str, ...] = ()


def check_payload(kind: str, payload: Any) -> Checked:
    """The normalised payload of a ``kind`` message; InvalidPayload names every problem."""
    check = _CHECKS.get(kind)
    if check is None:
        raise InvalidPayload([f"kind: must be one of {', '.join(SELLER_KINDS)}, got {shown(kind)}"])
    report = Report()
    obj = top_object(report, payload)
    normalised = check(report, obj) if obj is not None else {}
    if report.problems:
        raise InvalidPayload(report.problems)
    return Checked(kind, normalised, tuple(report.warnings))


def _fulfillment(report: Report, obj: Mapping[str, Any]) -> Json:
    fields = Fields(report, obj, "", _FULFILLMENT_KEYS)
    result: Json = {}
    invoice = fields.text("invoice_number", required=False)
    if invoice is not None:
        result["invoice_number"] = invoice
    lines: list[Json] = []
    first_seen: dict[str, str] = {}
    for path, raw in fields.objects("order_lines", required=True):
        line = _fulfillment_line(report, raw, path)
        number = line.get("mp_line_number")
        if number in first_seen:
            report.problem(
                join(path, "mp_line_number"),
                f"{shown(number)} is named twice (also {first_seen[number]}); "
                "put all of a line's entries in one element",
            )
        elif number is not None:
            first_seen[number] = path
        lines.append(line)
    result["order_lines"] = lines
    return result


def _fulfillment_line(report: Report, raw: Mapping[str, Any], path: str) -> Json:
    fields = Fields(report, raw, path, _LINE_KEYS)
    line: Json = {"mp_line_number": fields.text("mp_line_number", required=True)}
    sku = fields.text("sku", required=False)
    if sku is not None:
        line["sku"] = sku
    problems_before = len(report.problems)
    shipments = [
        _shipment(report, item, where)
        for where, item in fields.objects("fulfillments", required=False)
    ]
    for index, shipment in enumerate(shipments):
        if shipment in shipments[:index]:
            report.problem(
                join(join(path, "fulfillments"), index),
                f"is identical to fulfillments[{shipments.index(shipment)}]",
            )
    cancellations = [
        _cancellation(report, item, where)
        for where, item in fields.objects("cancellations", required=False)
    ]
    if not shipments and not cancellations and len(report.problems) == problems_before:
        report.problem(path, "needs at least one fulfillment or cancellation")
    line["fulfillments"] = shipments
    line["cancellations"] = cancellations
    return line


def _shipment(report: Report, raw: Mapping[str, Any], path: str) -> Json:
    fields = Fields(report, raw, path, _SHIPMENT_KEYS)
    shipment: Json = {
        "quantity_shipped": fields.positive_int("quantity_shipped", required=True),
        "shipped_date": fields.shipped_date("shipped_date"),
        "carrier": fields.text("carrier", required=True),
        "tracking_number": fields.text("tracking_number", required=True),
    }
    url = fields.free_text("tracking_url")
    if url is not None:
        shipment["tracking_url"] = url
    return shipment


def _cancellation(report: Report, raw: Mapping[str, Any], path: str) -> Json:
    fields = Fields(report, raw, path, _CANCELLATION_KEYS)
    reason = fields.choice("cancellation_reason", CANCELLATION_REASONS, required=True)
    if reason == "other":
        report.warn(join(path, "cancellation_reason"), _OTHER_REASON_WARNING)
    return {
        "quantity_cancelled": fields.positive_int("quantity_cancelled", required=True),
        "cancellation_reason": reason,
    }


def _refund(report: Report, obj: Mapping[str, Any]) -> Json:
    path = ""
    if "refund_info" in obj:
        Fields(report, obj, "", ("refund_info",))  # only the wrapper key may be there
        inner = obj["refund_info"]
        if not isinstance(inner, dict):
            report.problem("refund_info", f"must be an object, got {shown(inner)}")
            return {}
        obj, path = inner, "refund_info"
    fields = Fields(report, obj, path, _REFUND_KEYS)
    info: Json = {}
    number = fields.text("cp_refund_number", required=False)
    if number is not None:
        info["cp_refund_number"] = number
    info["mp_line_number"] = fields.text("mp_line_number", required=True)
    info["refund_reason"] = fields.choice("refund_reason", REFUND_REASONS, required=True)
    info["currency"] = fields.currency("currency")
    quantity = fields.positive_int("refund_quantity", required=False)
    if quantity is not None:
        info["refund_quantity"] = quantity
    for key in REFUND_AMOUNTS:
        amount = fields.amount(key)
        if amount is not None:
            info[key] = amount
    notes = fields.free_text("refund_notes")
    if notes is not None:
        info["refund_notes"] = notes
    if info["refund_reason"] == "other" and not (notes or "").strip():
        report.warn(
            join(path, "refund_reason"), _OTHER_REASON_WARNING + "; say why in refund_notes"
        )
    return info


def _return_authorization(report: Report, obj: Mapping[str, Any]) -> Json:
    fields = Fields(report, obj, "", _AUTHORIZATION_KEYS)
    number = fields.text("merchant_return_number", required=False)
    return {} if number is None else {"merchant_return_number": number}


def _return_refund(report: Report, obj: Mapping[str, Any]) -> Json:
    fields = Fields(report, obj, "", _RETURN_REFUND_KEYS)
    lines: list[Json] = []
    first_seen: dict[str, str] = {}
    for path, raw in fields.objects("merchant_refund_lines", required=False):
        line_fields = Fields(report, raw, path, _RETURN_REFUND_LINE_KEYS)
        line_id = line_fields.text("feedamp_return_line_id", required=True)
        line_fields.true("merchant_full_refund")
        if line_id in first_seen:
            report.problem(
                join(path, "feedamp_return_line_id"),
                f"{shown(line_id)} is named twice (also {first_seen[line_id]})",
            )
        elif line_id is not None:
            first_seen[line_id] = path
        lines.append({"feedamp_return_line_id": line_id, "merchant_full_refund": True})
    return {"merchant_refund_lines": lines} if lines else {}


_CHECKS: Final[dict[str, Callable[[Report, Mapping[str, Any]], Json]]] = {
    "fulfillment": _fulfillment,
    "refund": _refund,
    "return_authorization": _return_authorization,
    "return_refund": _return_refund,
}
