"""Order refunds: one line each, under a ``cp_refund_number`` only this message uses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

import structlog

from feedamp_sync.core.facts import Facts, OrderFacts, Target
from feedamp_sync.errors import ApiRejected
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.context import unknown_line
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import (
    Amount,
    Currency,
    FreeText,
    Loc,
    Quantity,
    Shape,
    Text,
    one_of,
    shown,
)
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


class RefundPayload(Shape):
    """One refund: the API's ``refund_info``, taken bare or inside its wrapper."""

    cp_refund_number: Text | None = None
    mp_line_number: Text
    refund_reason: Annotated[str, one_of(REFUND_REASONS)]
    currency: Currency
    refund_quantity: Quantity | None = None
    item_refund: Amount | None = None
    item_tax_refund: Amount | None = None
    shipping_refund: Amount | None = None
    shipping_tax_refund: Amount | None = None
    discount_refund: Amount | None = None
    refund_notes: FreeText | None = None

    @classmethod
    def read(cls, payload: Mapping[str, Any]) -> Shape:
        """``{"refund_info": {...}}`` is read as the wrapper, so problems carry its path."""
        return (
            RefundWrapper.model_validate(payload)
            if "refund_info" in payload
            else super().read(payload)
        )

    def notes(self) -> Iterator[tuple[Loc, str]]:
        if self.refund_reason == "other" and not (self.refund_notes or "").strip():
            yield ("refund_reason",), OTHER_REASON_WARNING + "; say why in refund_notes"


class RefundWrapper(Shape):
    """The API's own body, stored unwrapped."""

    null_is_absent = False
    refund_info: RefundPayload

    def normalised(self) -> Json:
        return self.refund_info.normalised()


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
    check=RefundPayload,
    check_stored=check_stored,
    plan=plan,
    number=NumberRule(
        field="cp_refund_number",
        template=lambda templates: templates.cp_refund_number_template,
        fields=_number_fields,
    ),
    deliver=deliver,
)
