"""Shipments and cancellations: PUT the order's whole set, so earlier ones are never erased.

A ``fulfillment`` payload is the API's request body holding only what is new. It is sent as
the union of every fulfillment already sent for the order plus its own (``fulfillment_union``),
and the quantity check counts every earlier message that can still take effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import structlog

from feedamp_sync.core.facts import EarlierMessage, Facts, OrderFacts, Target
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.context import unknown_line
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import Fields, Report, join, shown, top_object
from feedamp_sync.outbox.fulfillment_union import covered, holds, union
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.outbox.payloads import OTHER_REASON_WARNING

log = structlog.get_logger(__name__)

Json = dict[str, Any]

CANCELLATION_REASONS: Final = (
    "customer_cancelled",
    "unable_to_ship",
    "out_of_stock",
    "price_error",
    "tax_error",
    "shipping_price_error",
    "other",
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


# -- the payload's shape -------------------------------------------------------------------


def check_shape(report: Report, obj: Mapping[str, Any]) -> Json:
    fields = Fields(report, obj, "", _FULFILLMENT_KEYS)
    result: Json = {}
    invoice = fields.text("invoice_number", required=False)
    if invoice is not None:
        result["invoice_number"] = invoice
    lines: list[Json] = []
    first_seen: dict[str, str] = {}
    for path, raw in fields.objects("order_lines", required=True):
        line = _line(report, raw, path)
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


def _line(report: Report, raw: Mapping[str, Any], path: str) -> Json:
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
    url = fields.url("tracking_url")
    if url is not None:
        shipment["tracking_url"] = url
    return shipment


def _cancellation(report: Report, raw: Mapping[str, Any], path: str) -> Json:
    fields = Fields(report, raw, path, _CANCELLATION_KEYS)
    reason = fields.choice("cancellation_reason", CANCELLATION_REASONS, required=True)
    if reason == "other":
        report.warn(join(path, "cancellation_reason"), OTHER_REASON_WARNING)
    return {
        "quantity_cancelled": fields.positive_int("quantity_cancelled", required=True),
        "cancellation_reason": reason,
    }


def _normalised(payload: Any) -> Json | None:
    """An earlier message's payload as it is sent; None for a malformed one (an inserted row
    that goes dead when claimed), which covers nothing."""
    report = Report()
    obj = top_object(report, payload)
    normalised = check_shape(report, obj) if obj is not None else {}
    return None if report.problems else normalised


def _valid(earlier: tuple[EarlierMessage, ...]) -> list[tuple[int, Json]]:
    found = [(e.message_id, _normalised(e.payload)) for e in earlier]
    return [(message_id, payload) for message_id, payload in found if payload is not None]


# -- against the stored order --------------------------------------------------------------


def check_stored(payload: Json, facts: Facts) -> list[str]:
    """Every line must be the order's (with its SKU), and no line may ship or cancel more
    units than it has left after the earlier messages that can still take effect."""
    assert isinstance(facts, OrderFacts)
    problems: list[str] = []
    earlier = _valid(facts.earlier_messages)
    before = covered(union([payload for _, payload in earlier]))
    after = covered(union([payload for _, payload in earlier] + [payload]))
    for index, line in enumerate(payload["order_lines"]):
        path = join("order_lines", index)
        number = line["mp_line_number"]
        stored = facts.lines.get(number)
        if stored is None:
            problems.append(f"{join(path, 'mp_line_number')}: {unknown_line(facts, number)}")
            continue
        if "sku" in line and stored.sku is not None and line["sku"] != stored.sku:
            problems.append(
                f"{join(path, 'sku')}: {shown(line['sku'])} is not the SKU of line "
                f"{shown(number)} ({shown(stored.sku)})"
            )
        if stored.quantity is None or after.get(number, 0) <= stored.quantity:
            continue
        shipped = sum(s["quantity_shipped"] for s in line["fulfillments"])
        cancelled = sum(c["quantity_cancelled"] for c in line["cancellations"])
        done = before.get(number, 0)
        by = [
            message_id
            for message_id, earlier_payload in earlier
            if any(x["mp_line_number"] == number for x in earlier_payload["order_lines"])
        ]
        problems.append(
            f"{path}: ships {shipped} and cancels {cancelled} of line {shown(number)}, but only "
            f"{max(0, stored.quantity - done)} of its {stored.quantity} units are left"
            + (f" ({done} covered by outbox messages {', '.join(map(str, by))})" if by else "")
        )
    return problems


# -- what is sent, and how -----------------------------------------------------------------


@dataclass(frozen=True)
class FulfillmentPlan:
    """The full set to PUT: every fulfillment already sent for the order, plus this one."""

    body: Json

    @property
    def request(self) -> Json:
        return self.body


def plan(payload: Json, facts: Facts) -> FulfillmentPlan:
    assert isinstance(facts, OrderFacts)
    sent = [earlier for _, earlier in _valid(facts.sent_earlier)]
    return FulfillmentPlan(union([*sent, payload]))


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    """Sends the planned union. After an attempt whose outcome is unknown, the order is read
    back first: if FeedAMP already holds the whole union, the earlier PUT took effect and
    nothing is sent. A rejection (``order is complete``) is final: the message goes dead
    with FeedAMP's reason."""
    planned: FulfillmentPlan = message.plan
    if message.earlier_attempt_may_have_applied:
        order = client.get_order(message.target_id)
        if holds(order, planned.body):
            log.info("fulfillment_reconciled", order_id=message.target_id)
            return Delivered(request=planned.body, response=order, reconciled=True)
    response = client.fulfill_order(message.target_id, planned.body)
    return Delivered(request=planned.body, response=response)


FULFILLMENT: Final = Kind(
    name="fulfillment",
    cli_name="fulfillment",
    summary="new shipments and cancellations of an order",
    target=Target.ORDER,
    check=check_shape,
    check_stored=check_stored,
    plan=plan,
    deliver=deliver,
    builds_on_earlier=True,
)
