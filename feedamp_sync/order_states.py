"""What an order's FeedAMP states mean for keeping it current: final, cancelled, changed.

FeedAMP v1 documents ``ORDERED`` (new) and ``PLACED`` (confirmed); the marketplace-side API
names the rest (docs/feedamp-api.md, "States and transitions"): ``FULFILLED`` (every unit
shipped or cancelled), ``CANCELLED``, ``COMPLETE`` (the marketplace marked it shipped or
cancelled), and the marketplace states ``SHIPPED`` and ``CANCELLED``. An order in any of these
is *final*: nothing more happens to it that the seller must act on, so it is no longer
re-read. Any other state, one FeedAMP adds without notice included, counts as open: an
unknown state costs a request an hour, a wrong "final" would hide a cancellation. The
marketplace state is the marketplace's own word, and several spell it ``CANCELED``: both
spellings count, because a cancellation missed is a shipment sent for it. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

CANCELLED_SPELLINGS: Final = frozenset({"CANCELLED", "CANCELED"})
FINAL_STATES: Final = frozenset({"FULFILLED", "COMPLETE"}) | CANCELLED_SPELLINGS
FINAL_MARKETPLACE_STATES: Final = frozenset({"SHIPPED"}) | CANCELLED_SPELLINGS
TRACKED_FIELDS: Final = ("state", "marketplace_state")
"""The columns whose every change is recorded as an order event."""


def _upper(value: str | None) -> str:
    return (value or "").upper()


def is_final(state: str | None, marketplace_state: str | None) -> bool:
    """Whether FeedAMP or the marketplace reports the order done (compared without case)."""
    return _upper(state) in FINAL_STATES or _upper(marketplace_state) in FINAL_MARKETPLACE_STATES


def is_cancelled(state: str | None, marketplace_state: str | None) -> bool:
    """Whether FeedAMP or the marketplace reports the whole order cancelled."""
    return bool(CANCELLED_SPELLINGS & {_upper(state), _upper(marketplace_state)})


@dataclass(frozen=True)
class Change:
    """One tracked field of an order that differs between the stored copy and a new one."""

    field: str
    from_value: str | None
    to_value: str | None


def changes(stored: Mapping[str, str | None], received: Mapping[str, str | None]) -> list[Change]:
    """The tracked fields whose value differs, in ``TRACKED_FIELDS`` order."""
    return [
        Change(name, stored.get(name), received.get(name))
        for name in TRACKED_FIELDS
        if stored.get(name) != received.get(name)
    ]
