"""Order refunds: one line each, under a ``cp_refund_number`` only this message uses."""

from __future__ import annotations

from typing import Any

import structlog

from feedamp_sync.errors import ApiRejected
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.outbox.plans import RefundPlan

log = structlog.get_logger(__name__)


def duplicate_means_sent(rejection: ApiRejected, *, earlier_attempt_may_have_applied: bool) -> bool:
    """Whether FeedAMP refusing our refund as a duplicate proves our earlier attempt applied.

    FeedAMP v1 cannot list refunds, so this is the only reconciliation there is: our number
    is used by this message alone (the outbox's unique key), so after an attempt with an
    unknown outcome a duplicate refusal (a 409, or a 4xx that says "duplicate") can only be
    that attempt. On a first attempt it means someone else used the number: a real error.
    """
    status = rejection.status_code or 0
    duplicate = status == 409 or (400 <= status < 500 and "duplicate" in rejection.message.lower())
    return earlier_attempt_may_have_applied and duplicate


class RefundHandler:
    def validate(self, payload: Any) -> None:
        check_payload("refund", payload)

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        plan: RefundPlan = message.plan
        request = plan.request
        try:
            response = client.create_refund(message.target_id, plan.refund_info)
        except ApiRejected as rejection:
            if not duplicate_means_sent(
                rejection, earlier_attempt_may_have_applied=message.earlier_attempt_may_have_applied
            ):
                raise
            number = plan.refund_info["cp_refund_number"]
            log.info("refund_reconciled", order_id=message.target_id, cp_refund_number=number)
            return Delivered(
                request=request,
                response={"reconciled": f"FeedAMP already holds cp_refund_number {number}"},
                status_code=rejection.status_code,
                reconciled=True,
            )
        return Delivered(request=request, response=response, status_code=201)
