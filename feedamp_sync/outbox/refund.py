"""Order refunds: one line each, under a ``cp_refund_number`` only this message uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import structlog

from feedamp_sync.core.facts import Facts, OrderFacts, Target
from feedamp_sync.errors import ApiRejected
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.context import unknown_line
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import Fields, Report, join, shown
from feedamp_sync.outbox.kind import Kind, NumberRule, NumberSource
from feedamp_sync.outbox.payloads import OTHER_REASON_WARNING

log = structlog.get_logger(__name__)

Json = dict[str, Any]

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
_REFUND_KEYS: Final = (
    "cp_refund_number",
    "mp_line_number",
    "refund_reason",
    "currency",
    "refund_quantity",
    *REFUND_AMOUNTS,
    "refund_notes",
)


def check_shape(report: Report, obj: Mapping[str, Any]) -> Json:
    """The refund itself, or the same inside the API's ``{"refund_info": {...}}`` wrapper,
    which is unwrapped."""
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
        report.warn(join(path, "refund_reason"), OTHER_REASON_WARNING + "; say why in refund_notes")
    return info


def check_stored(payload: Json, facts: Facts) -> list[str]:
    """The line must be the order's, and no more units refunded than it was ordered."""
    assert isinstance(facts, OrderFacts)
    number = payload["mp_line_number"]
    stored = facts.lines.get(number)
    if stored is None:
        return [f"mp_line_number: {unknown_line(facts, number)}"]
    quantity = payload.get("refund_quantity")
    if quantity is not None and stored.quantity is not None and quantity > stored.quantity:
        return [
            f"refund_quantity: {quantity} is more than line {shown(number)} has "
            f"({stored.quantity} ordered)"
        ]
    return []


@dataclass(frozen=True)
class RefundPlan:
    """The ``refund_info`` to POST, with its ``cp_refund_number``."""

    refund_info: Json

    @property
    def request(self) -> Json:
        return {"refund_info": self.refund_info}


def plan(payload: Json, facts: Facts) -> RefundPlan:
    return RefundPlan(payload)


DUPLICATE_WORDS: Final = ("duplicate", "already", "exists", "in use", "been used")
"""How a refusal may say a number is taken: the docs give neither the words nor the status."""


def duplicate_means_sent(rejection: ApiRejected, *, earlier_attempt_may_have_applied: bool) -> bool:
    """Whether FeedAMP refusing our refund as a duplicate proves our earlier attempt applied.

    FeedAMP v1 cannot list refunds, so this is the only reconciliation there is: our number
    is used by this message alone (the outbox's unique key, and the database identity in the
    generated number), so after an attempt with an unknown outcome a duplicate refusal (a
    409, or a 4xx whose words say the number is taken) can only be that attempt. On a first
    attempt it means someone else used the number: a real error.
    """
    status = rejection.status_code or 0
    said = rejection.message.lower()
    duplicate = status == 409 or (
        400 <= status < 500 and any(word in said for word in DUPLICATE_WORDS)
    )
    return earlier_attempt_may_have_applied and duplicate


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    planned: RefundPlan = message.plan
    request = planned.request
    number = planned.refund_info["cp_refund_number"]
    earlier = message.earlier_attempt_may_have_applied
    try:
        response = client.create_refund(message.target_id, planned.refund_info)
    except ApiRejected as rejection:
        if duplicate_means_sent(rejection, earlier_attempt_may_have_applied=earlier):
            log.info("refund_reconciled", order_id=message.target_id, cp_refund_number=number)
            return Delivered(
                request=request,
                response={"reconciled": f"FeedAMP already holds cp_refund_number {number}"},
                status_code=rejection.status_code,
                reconciled=True,
            )
        if not earlier:
            raise
        raise ApiRejected(
            f"{rejection.message}; an earlier attempt of this refund had an unknown outcome "
            f"and may have taken effect: check in the marketplace whether refund {number} "
            "exists before retrying or cancelling this message",
            status_code=rejection.status_code,
        ) from None
    return Delivered(request=request, response=response, status_code=201)


def _number_fields(source: NumberSource) -> dict[str, Any]:
    return {
        "id": source.message_id,
        "database": source.database,
        "account": source.account,
        "order_id": source.target_id,
        "mp_line_number": source.payload["mp_line_number"],
    }


REFUND: Final = Kind(
    name="refund",
    cli_name="refund",
    summary="a refund of one order line",
    target=Target.ORDER,
    check=check_shape,
    check_stored=check_stored,
    plan=plan,
    number=NumberRule(
        field="cp_refund_number",
        template=lambda templates: templates.cp_refund_number_template,
        fields=_number_fields,
    ),
    deliver=deliver,
)
