"""Which orders are final, which cancelled, and what changed between two copies."""

from __future__ import annotations

import pytest

from feedamp_sync.order_states import Change, changes, is_cancelled, is_final


@pytest.mark.parametrize(
    ("state", "marketplace_state"),
    [
        ("FULFILLED", None),
        ("CANCELLED", None),
        ("COMPLETE", None),
        ("PLACED", "SHIPPED"),
        ("PLACED", "CANCELLED"),
        ("fulfilled", "awaiting_shipment"),
    ],
)
def test_fulfilled_cancelled_or_complete_orders_are_final(
    state: str, marketplace_state: str | None
) -> None:
    """FeedAMP's finished states, or the marketplace's, in any case, make an order final."""
    assert is_final(state, marketplace_state)


@pytest.mark.parametrize(
    ("state", "marketplace_state"),
    [
        ("ORDERED", "AWAITING_SHIPMENT"),
        ("PLACED", None),
        ("IN_PROGRESS", "PENDING"),
        (None, None),
        ("ON_HOLD_NEW_IN_V1", "AWAITING_SHIPMENT"),
    ],
)
def test_other_states_unknown_ones_included_are_open(
    state: str | None, marketplace_state: str | None
) -> None:
    """Any state not known to be final keeps the order open, so it is still re-read."""
    assert not is_final(state, marketplace_state)


def test_a_cancellation_on_either_side_cancels_the_order() -> None:
    """FeedAMP's CANCELLED or the marketplace's counts; a shipped order is not cancelled."""
    assert is_cancelled("CANCELLED", "AWAITING_SHIPMENT")
    assert is_cancelled("PLACED", "cancelled")
    assert not is_cancelled("FULFILLED", "SHIPPED")


def test_changes_lists_each_tracked_field_that_differs() -> None:
    """Both state columns are compared; other fields and equal values give no change."""
    stored = {"state": "PLACED", "marketplace_state": "AWAITING_SHIPMENT", "sku": "a"}
    received = {"state": "CANCELLED", "marketplace_state": "CANCELLED", "sku": "b"}
    assert changes(stored, received) == [
        Change("state", "PLACED", "CANCELLED"),
        Change("marketplace_state", "AWAITING_SHIPMENT", "CANCELLED"),
    ]
    assert changes(stored, dict(stored)) == []


@pytest.mark.parametrize("spelling", ["CANCELED", "Canceled", "cancelled"])
def test_either_spelling_of_a_cancellation_cancels_and_ends_the_order(spelling: str) -> None:
    """Marketplaces spell their own states; a cancellation missed would be a shipment sent."""
    assert is_cancelled("PLACED", spelling)
    assert is_final(spelling, None)
