"""Return refunds: every named line (or every line of the return) refunded in full, once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import structlog

from feedamp_sync.errors import ApiRejected
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.outbox.plans import ReturnRefundPlan

log = structlog.get_logger(__name__)

REFUNDED_STATES: Final = frozenset({"Processing Refund", "Merchant Refunded"})


def return_refunded(returned: Mapping[str, Any], line_ids: Sequence[str]) -> bool:
    """Whether a return read back from FeedAMP shows our refund already applied: its state is
    past the refund, or every line we refund is marked refunded (``merchant_refunded``, the
    sandbox's convention; the docs show no per-line refund field)."""
    if returned.get("state") in REFUNDED_STATES:
        return True
    info = returned.get("return_info")
    lines = info.get("return_lines") if isinstance(info, Mapping) else None
    refunded = {
        str(line.get("feedamp_return_line_id") or line.get("id"))
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, Mapping) and line.get("merchant_refunded") is True
    }
    return bool(line_ids) and set(line_ids) <= refunded


def already_refunded(rejection: ApiRejected, *, earlier_attempt_may_have_applied: bool) -> bool:
    """After an attempt with an unknown outcome, "already refunded" (a 409, or a 4xx that says
    so) is that attempt's success; on a first attempt it is an error to look at."""
    status = rejection.status_code or 0
    said = 400 <= status < 500 and "already refunded" in rejection.message.lower()
    return earlier_attempt_may_have_applied and (status == 409 or said)


class ReturnRefundHandler:
    def validate(self, payload: Any) -> None:
        check_payload("return_refund", payload)

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        plan: ReturnRefundPlan = message.plan
        earlier = message.earlier_attempt_may_have_applied
        if earlier:
            returned = client.get_return(message.target_id)
            if return_refunded(returned, plan.line_ids):
                log.info("return_refund_reconciled", return_id=message.target_id)
                return Delivered(request=plan.body, response=returned, reconciled=True)
        try:
            response = client.refund_return(message.target_id, plan.body)
        except ApiRejected as rejection:
            if not already_refunded(rejection, earlier_attempt_may_have_applied=earlier):
                raise
            log.info("return_refund_reconciled", return_id=message.target_id)
            return Delivered(
                request=plan.body,
                response={"reconciled": f"FeedAMP: {rejection.message}"},
                status_code=rejection.status_code,
                reconciled=True,
            )
        return Delivered(request=plan.body, response=response)
