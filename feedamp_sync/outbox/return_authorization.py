"""Return authorizations: a ``merchant_return_number`` only this message uses."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import structlog

from feedamp_sync.errors import ActionConflict
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.outbox.plans import ReturnAuthorizationPlan

log = structlog.get_logger(__name__)


class Authorization(Enum):
    """What a return read back from FeedAMP says about our authorization."""

    OURS = "ours"
    NONE = "none"
    OTHER = "other"


def authorization_read_back(
    returned: Mapping[str, Any], number: str
) -> tuple[Authorization, str | None]:
    """Our number on the return means our earlier attempt applied; no number means it did
    not; another number means someone else authorized it. Returns the number FeedAMP holds."""
    info = returned.get("return_info")
    held = info.get("merchant_return_number") if isinstance(info, Mapping) else None
    held_number = str(held) if held not in (None, "") else None
    if held_number is None:
        return Authorization.NONE, None
    return (Authorization.OURS if held_number == number else Authorization.OTHER), held_number


class ReturnAuthorizationHandler:
    def validate(self, payload: Any) -> None:
        check_payload("return_authorization", payload)

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        plan: ReturnAuthorizationPlan = message.plan
        number = plan.merchant_return_number
        request = plan.request
        if message.earlier_attempt_may_have_applied:
            returned = client.get_return(message.target_id)
            verdict, held = authorization_read_back(returned, number)
            if verdict is Authorization.OURS:
                log.info("return_authorization_reconciled", return_id=message.target_id)
                return Delivered(request=request, response=returned, reconciled=True)
            if verdict is Authorization.OTHER:
                raise ActionConflict(
                    f"return {message.target_id} is already authorized in FeedAMP with "
                    f"merchant_return_number {held!r}, not ours ({number!r}); check who "
                    "authorized it before retrying"
                )
        response = client.authorize_return(message.target_id, number)
        return Delivered(request=request, response=response)
