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


TAKEN_WORDS: Final = (
    "duplicate",
    "exists",
    "already exist",
    "in use",
    "already used",
    "been used",
    "taken",
    "unique",
)
"""How a refusal may say a number is taken: the docs give neither the words nor the status."""
NUMBER_NAMES: Final = ("cp_refund_number", "refund number", "refund_number")
"""How a refusal may name the number, when it does not quote it."""


def says_number_taken(rejection: ApiRejected, number: str) -> bool:
    """Whether a refusal plausibly says our ``cp_refund_number`` is taken: a 409 that names
    the number (or quotes it) or says something is taken, or another 4xx that does both. A
    refusal about anything else ("refund_quantity exceeds the quantity already refunded", a
    409 for the order's state) is not one, nor is a bare 409: the docs name no status, and
    taking a conflict about something else for our refund would mark one sent that never
    happened, where a loud ``dead`` only asks for a look in the marketplace."""
    status = rejection.status_code or 0
    said = rejection.message.lower()
    names_it = number.lower() in said or any(name in said for name in NUMBER_NAMES)
    says_taken = any(word in said for word in TAKEN_WORDS)
    if status == 409:
        return names_it or says_taken
    return 400 <= status < 500 and names_it and says_taken


def duplicate_means_sent(
    rejection: ApiRejected, number: str, *, earlier_outcome_unknown: bool, own_number: bool
) -> bool:
    """Whether FeedAMP refusing our refund as a duplicate proves our earlier attempt applied.

    FeedAMP v1 cannot list refunds, so this is the only reconciliation there is, and it
    holds only when all three are true: an earlier attempt of this message may have taken
    effect unseen (a timeout, a dropped connection, a 5xx, an attempt never recorded; not a
    refusal, and not a 429), the refusal says the number is taken, and no one else can hold
    the number (generated here with a random part: a seller's own number, or one from a
    template without ``{nonce}``, may be another refund's).
    """
    return earlier_outcome_unknown and own_number and says_number_taken(rejection, number)


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    planned: RefundPlan = message.plan
    request = planned.request
    number = str(planned.refund_info["cp_refund_number"])
    unknown = message.earlier_outcome_unknown
    try:
        response = client.create_refund(message.target_id, planned.refund_info)
    except ApiRejected as rejection:
        if duplicate_means_sent(
            rejection, number, earlier_outcome_unknown=unknown, own_number=message.own_number
        ):
            log.info("refund_reconciled", order_id=message.target_id, cp_refund_number=number)
            return Delivered(
                request=request,
                response={"reconciled": f"FeedAMP already holds cp_refund_number {number}"},
                status_code=rejection.status_code,
                reconciled=True,
            )
        why = _not_reconciled(rejection, number, unknown=unknown, own=message.own_number)
        if why is None:
            raise
        raise ApiRejected(
            f"{rejection.message}; {why}: check in the marketplace whether refund {number} "
            "exists before retrying or cancelling this message",
            status_code=rejection.status_code,
        ) from None
    return Delivered(request=request, response=response, status_code=201)


def _not_reconciled(rejection: ApiRejected, number: str, *, unknown: bool, own: bool) -> str | None:
    """Why a refusal that may concern an existing refund was not taken as ours; None for a
    plain refusal after attempts that all had a known outcome."""
    if says_number_taken(rejection, number):
        if not unknown:
            return (
                f"no earlier attempt of this message can have used cp_refund_number {number}, "
                "so another refund holds it"
            )
        if not own:
            return (
                f"an earlier attempt of this refund had an unknown outcome, but "
                f"cp_refund_number {number} was given or rendered without {{nonce}}, so the "
                "refund FeedAMP holds under it may be another one"
            )
    if unknown:
        return "an earlier attempt of this refund had an unknown outcome and may have taken effect"
    return None


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
