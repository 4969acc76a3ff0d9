"""Confirming an order with the ``cp_order_number`` stored when the order was first seen."""

from __future__ import annotations

from typing import Any

import structlog

from feedamp_sync.errors import ActionConflict, ApiRejected, InvalidPayload
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.policy import ReadBack, confirm_read_back

log = structlog.get_logger(__name__)

CONFLICT_STATUSES = frozenset({400, 409, 422})
"""Rejections that may mean "already confirmed", so the order is read back before giving up."""


class ConfirmHandler:
    def validate(self, payload: Any) -> None:
        number = payload.get("cp_order_number") if isinstance(payload, dict) else None
        if not isinstance(payload, dict):
            raise InvalidPayload(['payload: must be a JSON object {"cp_order_number": ...}'])
        if not isinstance(number, str) or not number.strip():
            raise InvalidPayload(["cp_order_number: required, a non-empty string"])

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        number: str = message.payload["cp_order_number"]
        request = {"cp_order_number": number}
        if message.earlier_attempt_may_have_applied:
            done = self._read_back(client, message, number)
            if done is not None:
                return done
        try:
            response = client.confirm_order(message.target_id, number)
        except ApiRejected as rejection:
            if rejection.status_code not in CONFLICT_STATUSES:
                raise
            done = self._read_back(client, message, number)
            if done is None:
                raise
            return done
        return Delivered(request=request, response=response)

    @staticmethod
    def _read_back(client: FeedampClient, message: OutboxMessage, number: str) -> Delivered | None:
        """Delivered if FeedAMP already holds our number; None if it is still unconfirmed."""
        order = client.get_order(message.target_id)
        verdict, held = confirm_read_back(order, number)
        if verdict is ReadBack.CONFIRMED_WITH_OUR_NUMBER:
            log.info("confirm_reconciled", order_id=message.target_id, attempt=message.attempts)
            return Delivered(
                request={"cp_order_number": number},
                response={
                    "id": message.target_id,
                    "cp_order_number": held,
                    "state": order.get("state"),
                },
                reconciled=True,
            )
        if verdict is ReadBack.CONFIRMED_WITH_OTHER_NUMBER:
            raise ActionConflict(
                f"order {message.target_id} is already confirmed in FeedAMP with cp_order_number "
                f"{held!r}, not ours ({number!r}); check who confirmed it before retrying"
            )
        return None
