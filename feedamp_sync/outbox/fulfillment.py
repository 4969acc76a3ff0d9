"""Shipments and cancellations: PUT the order's whole set, so earlier ones are never erased."""

from __future__ import annotations

from typing import Any

import structlog

from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fulfillment_union import holds
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.outbox.plans import FulfillmentPlan

log = structlog.get_logger(__name__)


class FulfillmentHandler:
    """Sends the union the claiming thread planned (every sent fulfillment plus this one).

    After an attempt whose outcome is unknown, the order is read back first: if FeedAMP
    already holds the whole union, the earlier PUT took effect and nothing is sent. A
    rejection (``order is complete``) is final: the message goes dead with FeedAMP's reason.
    """

    def validate(self, payload: Any) -> None:
        check_payload("fulfillment", payload)

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        plan: FulfillmentPlan = message.plan
        if message.earlier_attempt_may_have_applied:
            order = client.get_order(message.target_id)
            if holds(order, plan.body):
                log.info("fulfillment_reconciled", order_id=message.target_id)
                return Delivered(request=plan.body, response=order, reconciled=True)
        response = client.fulfill_order(message.target_id, plan.body)
        return Delivered(request=plan.body, response=response)
