"""A fulfillment's delivery when an earlier attempt's outcome is unknown: what it records,
and how the order read back settles whether that attempt took effect."""

from __future__ import annotations

from typing import Any

import pytest

from feedamp_sync.errors import ActionConflict, ApiRejected, ApiUnavailable
from feedamp_sync.outbox.fulfillment import (
    FULFILLMENT,
    HISTORY_UNREADABLE,
    SETTLE_ATTEMPTS,
    FulfillmentPlan,
)
from tests.unit.test_seller_handlers import (
    NEW,
    SHIPMENT,
    FakeClient,
    client,
    message,
    order_holding,
    put_shipments,
    shipped,
)

BOX = {**SHIPMENT, "tracking_number": "1Z-BOX"}
COMPLETE = ApiRejected("order is complete", status_code=400)


def without_fulfillment_data(quantity: int, state: str = "FULFILLED") -> dict[str, Any]:
    """An order as GET shows it when it shows no fulfillment data (lines without the keys)."""
    line = {"mp_line_number": "L1", "quantity": quantity}
    return {"id": "10042", "state": state, "order_info": {"order_lines": [line]}}


def retried(plan: FulfillmentPlan, attempts: int = 2) -> Any:
    return message("fulfillment", plan, attempts)


def test_an_attempt_records_the_body_it_put_even_when_the_put_fails() -> None:
    """The record of a failed attempt is the whole body PUT, FeedAMP's entries included."""
    fake = FakeClient(
        get_order=order_holding(BOX), fulfill_order=ApiUnavailable("connection dropped")
    )
    plan = FulfillmentPlan((), shipped(BOX))
    with pytest.raises(ApiUnavailable):
        FULFILLMENT.deliver(client(fake), message("fulfillment", plan))
    assert put_shipments(fake) == ["1Z-BOX", "1Z-BOX"]
    assert plan.request == fake.calls[-1][1]


def test_an_attempt_that_ends_before_its_put_records_no_body() -> None:
    """Nothing was PUT, so nothing is recorded as sent."""
    fake = FakeClient(get_order=ApiUnavailable("timed out"))
    plan = FulfillmentPlan((), NEW)
    with pytest.raises(ApiUnavailable):
        FULFILLMENT.deliver(client(fake), message("fulfillment", plan))
    assert plan.request is None


def test_a_retry_is_sent_again_when_feedamp_holds_only_the_identical_entry_it_had() -> None:
    """FeedAMP held "1Z-BOX" from its UI, and the last attempt PUT that and our "1Z-BOX": one
    "1Z-BOX" now is FeedAMP's own, so ours is PUT again (two units), not taken as sent."""
    fake = FakeClient(get_order=order_holding(BOX, quantity=2))
    plan = FulfillmentPlan((), shipped(BOX), last_sent=shipped(BOX, BOX))
    done = FULFILLMENT.deliver(client(fake), retried(plan))
    assert put_shipments(fake) == ["1Z-BOX", "1Z-BOX"]
    assert not done.reconciled


def test_a_retry_whose_last_body_feedamp_holds_is_sent_without_a_put() -> None:
    """Both "1Z-BOX" held: the last attempt took effect, and its body is the record."""
    fake = FakeClient(get_order=order_holding(BOX, BOX, quantity=2))
    plan = FulfillmentPlan((), shipped(BOX), last_sent=shipped(BOX, BOX))
    done = FULFILLMENT.deliver(client(fake), retried(plan))
    assert (fake.names(), done.reconciled) == (["get_order"], True)
    assert done.request == shipped(BOX, BOX)


def test_our_tracking_number_echoed_in_feedamps_case_settles_a_retry() -> None:
    """We PUT "1z-box"; FeedAMP shows "1Z-BOX": it took effect."""
    ours = shipped({**BOX, "tracking_number": "1z-box"})
    fake = FakeClient(get_order=order_holding(BOX, quantity=1))
    done = FULFILLMENT.deliver(client(fake), retried(FulfillmentPlan((), ours, last_sent=ours)))
    assert (fake.names(), done.reconciled) == (["get_order"], True)


def test_an_order_final_without_fulfillment_data_that_our_last_body_completed_is_sent() -> None:
    """GET shows no fulfillments, the order FULFILLED, and the body last PUT ships its only
    unit: that PUT completed it. Sent without another PUT, saying how it was settled."""
    fake = FakeClient(get_order=without_fulfillment_data(1))
    done = FULFILLMENT.deliver(client(fake), retried(FulfillmentPlan((), NEW, last_sent=NEW)))
    assert (fake.names(), done.reconciled, done.notice) == (
        ["get_order"],
        True,
        HISTORY_UNREADABLE,
    )
    assert "FULFILLED" in done.response["reconciled"]


def test_an_order_final_by_its_state_ahead_of_its_entries_is_settled_by_the_state() -> None:
    """A stale copy: the order FULFILLED but its lines show nothing yet; our last body
    shipped its only unit."""
    stale = order_holding(quantity=1) | {"state": "FULFILLED"}
    fake = FakeClient(get_order=stale)
    done = FULFILLMENT.deliver(client(fake), retried(FulfillmentPlan((), NEW, last_sent=NEW)))
    assert (fake.names(), done.reconciled) == (["get_order"], True)


def test_an_order_completed_by_entries_that_are_not_ours_is_not_taken_for_ours() -> None:
    """FeedAMP's own entries complete the order and ours is not among them: dead for want
    of room, saying what FeedAMP holds, without a PUT."""
    other = order_holding({**SHIPMENT, "tracking_number": "OTHER"}, quantity=1)
    fake = FakeClient(get_order=other | {"state": "FULFILLED"})
    with pytest.raises(ActionConflict, match="has 1; FeedAMP holds 1 unit"):
        FULFILLMENT.deliver(client(fake), retried(FulfillmentPlan((), NEW, last_sent=NEW)))
    assert fake.names() == ["get_order"]


def test_a_final_order_our_last_body_did_not_complete_is_retried_saying_what_it_holds() -> None:
    """Two units ordered, our body shipped one, the order FULFILLED without fulfillment
    data: someone else may have completed it. The refusal is retried (FeedAMP's copy may
    lag), its reason naming what FeedAMP shows."""
    fake = FakeClient(get_order=without_fulfillment_data(2), fulfill_order=COMPLETE)
    with pytest.raises(ApiUnavailable) as refused:
        FULFILLMENT.deliver(client(fake), retried(FulfillmentPlan((), NEW, last_sent=NEW)))
    assert "no fulfillment data this daemon can read" in str(refused.value)
    assert "state FULFILLED" in str(refused.value)


def test_a_refusal_the_read_back_cannot_settle_is_final_after_a_few_attempts() -> None:
    """At the last of the few attempts, the same refusal puts the message to dead."""
    fake = FakeClient(get_order=without_fulfillment_data(2), fulfill_order=COMPLETE)
    plan = FulfillmentPlan((), NEW, last_sent=NEW)
    with pytest.raises(ApiRejected, match="does not show it took effect"):
        FULFILLMENT.deliver(client(fake), retried(plan, SETTLE_ATTEMPTS))


def test_an_order_cancelled_while_our_body_shipped_is_not_taken_for_ours() -> None:
    """The order shows CANCELLED, but our last body shipped: not ours, and not sent."""
    fake = FakeClient(get_order=without_fulfillment_data(1, state="CANCELLED"))
    with pytest.raises(ActionConflict, match="cancelled on the marketplace"):
        FULFILLMENT.deliver(client(fake), retried(FulfillmentPlan((), NEW, last_sent=NEW)))
    assert fake.names() == ["get_order"]
