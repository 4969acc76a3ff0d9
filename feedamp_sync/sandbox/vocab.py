"""The fixed vocabularies of FeedAMP v1 that the sandbox enforces.

They live in one place so the validation rules, the generator and the tests agree on exactly
the strings the documentation gives (return states carry spaces; reasons are snake_case).
"""

from __future__ import annotations

from typing import Final

RETURN_STATES: Final = (
    "Pending Authorization",
    "Pending Confirmation",
    "Pending Shipping",
    "Pending Refund",
    "Processing Refund",
    "Merchant Refunded",
    "Merchant Rejected",
    "Customer Cancelled",
)
"""Every return state, in the documented order: the first five are open, the last three closed."""

OPEN_RETURN_STATES: Final = frozenset(RETURN_STATES[:5])
CLOSED_RETURN_STATES: Final = frozenset(RETURN_STATES[5:])

REFUNDABLE_RETURN_STATES: Final = frozenset({"Pending Shipping", "Pending Refund"})
"""States in which the sandbox accepts a return refund (the docs recommend Pending Refund)."""

CANCELLATION_REASONS: Final = frozenset(
    {
        "customer_cancelled",
        "unable_to_ship",
        "out_of_stock",
        "price_error",
        "tax_error",
        "shipping_price_error",
        "other",
    }
)

REFUND_REASONS: Final = frozenset(
    {
        "customer_cancelled",
        "customer_return",
        "accidental_order",
        "wrong_item_received",
        "defective_item_received",
        "damaged_item_received",
        "item_never_received",
        "item_received_late",
        "wrong_quantity_received",
        "could_not_ship",
        "abandoned",
        "price_error",
        "tax_error",
        "shipping_cost_error",
        "other",
    }
)

ENDPOINTS: Final = (
    "get_token",
    "new_orders",
    "get_order",
    "confirm",
    "fulfill",
    "refund",
    "search_returns",
    "get_return",
    "authorize_return",
    "refund_return",
    "unknown",
)
"""Stable endpoint names used in the ledger and to aim faults at some endpoints only."""

# Order states. ORDERED and PLACED are documented; FULFILLED and CANCELLED follow the
# marketplace-side API's names for a finished order (docs/feedamp-api.md, "States and
# transitions").
ORDERED: Final = "ORDERED"
PLACED: Final = "PLACED"
FULFILLED: Final = "FULFILLED"
CANCELLED: Final = "CANCELLED"
COMPLETE_ORDER_STATES: Final = frozenset({FULFILLED, CANCELLED})
