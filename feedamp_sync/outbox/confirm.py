"""Confirming an order with the ``cp_order_number`` stored when the order was first seen."""

from __future__ import annotations

from typing import Any, Final

import structlog

from feedamp_sync.core.attempts import CONFIRM_KIND, OrderConfirmed
from feedamp_sync.core.facts import Target
from feedamp_sync.errors import ActionConflict, ApiRejected
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import Shape, Text
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.policy import ReadBack, confirm_read_back

log = structlog.get_logger(__name__)

CONFLICT_STATUSES = frozenset({400, 409, 422})
"""Rejections that may mean "already confirmed", so the order is read back before giving up."""


class ConfirmPayload(Shape):
    """``{"cp_order_number": ...}``, as the daemon wrote it when it stored the order."""

    cp_order_number: Text


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    number: str = message.payload["cp_order_number"]
    request = {"cp_order_number": number}
    if message.earlier_attempt_may_have_applied:
        done = _read_back(client, message, number)
        if done is not None:
            return done
    try:
        response = client.confirm_order(message.target_id, number)
    except ApiRejected as rejection:
        if rejection.status_code not in CONFLICT_STATUSES:
            raise
        done = _read_back(client, message, number)
        if done is None:
            raise
        return done
    return Delivered(request=request, response=response, confirmed=_confirmed(message, response))


def _read_back(client: FeedampClient, message: OutboxMessage, number: str) -> Delivered | None:
    """Delivered if FeedAMP already holds our number; None if it is still unconfirmed."""
    order = client.get_order(message.target_id)
    verdict, held = confirm_read_back(order, number)
    if verdict is ReadBack.CONFIRMED_WITH_OUR_NUMBER:
        log.info("confirm_reconciled", order_id=message.target_id, attempt=message.attempts)
        response = {"id": message.target_id, "cp_order_number": held, "state": order.get("state")}
        return Delivered(
            request={"cp_order_number": number},
            response=response,
            reconciled=True,
            confirmed=_confirmed(message, response),
        )
    if verdict is ReadBack.CONFIRMED_WITH_OTHER_NUMBER:
        raise ActionConflict(
            f"order {message.target_id} is already confirmed in FeedAMP with cp_order_number "
            f"{held!r}, not ours ({number!r}); check who confirmed it before retrying"
        )
    return None


def _confirmed(message: OutboxMessage, order: Any) -> OrderConfirmed:
    """The local order marked confirmed, with the state in FeedAMP's answer (the order)."""
    state = order.get("state") if isinstance(order, dict) else None
    return OrderConfirmed(message.account, message.target_id, str(state)[:64] if state else None)


CONFIRM: Final = Kind(
    name=CONFIRM_KIND,
    target=Target.ORDER,
    check=ConfirmPayload,
    deliver=deliver,
)
