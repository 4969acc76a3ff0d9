"""What a handler sends for a seller action, decided before it runs.

The engine's claiming thread builds a plan from the message's checked payload (with its
number) and the stored facts, so the handlers on worker threads only talk to FeedAMP. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feedamp_sync.outbox.facts import Facts, OrderFacts, ReturnFacts
from feedamp_sync.outbox.fulfillment_union import union
from feedamp_sync.outbox.payloads import check_payload

Json = dict[str, Any]


@dataclass(frozen=True)
class FulfillmentPlan:
    """The full set to PUT: every fulfillment already sent for the order, plus this one."""

    body: Json

    @property
    def request(self) -> Json:
        return self.body


@dataclass(frozen=True)
class RefundPlan:
    """The ``refund_info`` to POST, with its ``cp_refund_number``."""

    refund_info: Json

    @property
    def request(self) -> Json:
        return {"refund_info": self.refund_info}


@dataclass(frozen=True)
class ReturnAuthorizationPlan:
    merchant_return_number: str

    @property
    def request(self) -> Json:
        return {"merchant_return_number": self.merchant_return_number}


@dataclass(frozen=True)
class ReturnRefundPlan:
    """The return lines to refund in full: those named, or every stored line of the return."""

    line_ids: tuple[str, ...]

    @property
    def request(self) -> Json:
        return self.body

    @property
    def body(self) -> Json:
        return {
            "merchant_refund_lines": [
                {"feedamp_return_line_id": line_id, "merchant_full_refund": True}
                for line_id in self.line_ids
            ]
        }


Plan = FulfillmentPlan | RefundPlan | ReturnAuthorizationPlan | ReturnRefundPlan


def plan_for(kind: str, payload: Json, facts: Facts) -> Plan:
    """The plan of an admitted payload (numbered, for the kinds that carry a number).

    ``facts`` are those :func:`~feedamp_sync.outbox.context.admit` accepted the payload with:
    an :class:`OrderFacts` for order kinds, a :class:`ReturnFacts` for return kinds.
    """
    if kind == "fulfillment" and isinstance(facts, OrderFacts):
        sent = [check_payload(kind, e.payload).payload for e in facts.sent_fulfillments]
        return FulfillmentPlan(union([*sent, payload]))
    if kind == "refund":
        return RefundPlan(payload)
    if kind == "return_authorization":
        return ReturnAuthorizationPlan(payload["merchant_return_number"])
    if kind == "return_refund" and isinstance(facts, ReturnFacts):
        named = [
            line["feedamp_return_line_id"] for line in payload.get("merchant_refund_lines", [])
        ]
        return ReturnRefundPlan(tuple(named) or facts.line_ids)
    raise ValueError(f"no plan for kind {kind!r} with {type(facts).__name__}")


def planned_request(plan: Plan | None, payload: Any) -> Any:
    """The body an attempt sends, kept on the attempt's record even when the attempt fails.

    Seller actions send their plan; a confirm (which has none) sends its payload as is.
    """
    return plan.request if plan is not None else payload
