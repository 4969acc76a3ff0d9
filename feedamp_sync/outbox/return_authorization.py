"""Return authorizations: a ``merchant_return_number`` only this message uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

import structlog

from feedamp_sync.core.facts import Facts, ReturnFacts, Target
from feedamp_sync.errors import ActionConflict
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import Shape, Text
from feedamp_sync.outbox.kind import Kind, NumberRule, NumberSource

log = structlog.get_logger(__name__)

Json = dict[str, Any]


class ReturnAuthorizationPayload(Shape):
    merchant_return_number: Text | None = None


@dataclass(frozen=True)
class ReturnAuthorizationPlan:
    merchant_return_number: str

    @property
    def request(self) -> Json:
        return {"merchant_return_number": self.merchant_return_number}


def plan(payload: Json, facts: Facts) -> ReturnAuthorizationPlan:
    return ReturnAuthorizationPlan(payload["merchant_return_number"])


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


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    planned: ReturnAuthorizationPlan = message.plan
    number = planned.merchant_return_number
    request = planned.request
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


def _number_fields(source: NumberSource) -> dict[str, Any]:
    """``mp_return_number`` is None when FeedAMP sent none for the stored return."""
    facts = source.facts
    return {
        "id": source.message_id,
        "database": source.database,
        "account": source.account,
        "return_id": source.target_id,
        "mp_return_number": facts.mp_return_number if isinstance(facts, ReturnFacts) else None,
    }


RETURN_AUTHORIZATION: Final = Kind(
    name="return_authorization",
    cli_name="return-authorization",
    summary="authorize a return (merchant_return_number optional)",
    target=Target.RETURN,
    check=ReturnAuthorizationPayload,
    plan=plan,
    number=NumberRule(
        field="merchant_return_number",
        template=lambda templates: templates.merchant_return_number_template,
        fields=_number_fields,
    ),
    deliver=deliver,
)
