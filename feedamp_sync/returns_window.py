"""Which returns a poll asks for, and the checkpoint a successful poll leaves behind.

The first poll of an account (no checkpoint yet) takes every *open* return: closed returns
from before the daemon started need nothing from the seller. Every later poll takes every
return, in any state, that FeedAMP refreshed since the previous successful poll *began*,
minus an overlap, so a return that changes while a poll is paging (or shortly before, given
clock skew between FeedAMP and us) is read again rather than missed. That is also how a
return that closes (refunded, rejected, cancelled) is recorded as closed.

The checkpoint is the start of the poll, taken before its first request, and it is saved
only after every page was stored: a poll that fails or stops half-way leaves the old one,
and the next poll repeats the whole window (upserts make that harmless).

Times are timezone-aware UTC; the client sends them with an explicit ``+00:00`` because the
API reads a naive timestamp as US Eastern time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

CHECKPOINT_KEY: Final = "refreshed_after"


@dataclass(frozen=True)
class ReturnsQuery:
    """The search filters of one poll: open returns, or everything refreshed after a time."""

    open: bool | None = None
    refreshed_after: datetime | None = None

    @property
    def mode(self) -> str:
        return "open" if self.refreshed_after is None else "incremental"


def parse_checkpoint(value: Any) -> datetime | None:
    """The stored checkpoint as aware UTC, or None when there is none (or it is unusable).

    An unusable value (edited by hand, written by another release) means a first poll again:
    every open return, which is safe, rather than a guess at a window.
    """
    raw = value.get(CHECKPOINT_KEY) if isinstance(value, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def checkpoint_value(poll_started: datetime) -> dict[str, str]:
    """The JSON to store after a successful poll that began at ``poll_started``."""
    if poll_started.tzinfo is None:
        raise ValueError("poll_started must be timezone-aware")
    return {CHECKPOINT_KEY: poll_started.astimezone(UTC).isoformat()}


def next_query(checkpoint: datetime | None, overlap: timedelta) -> ReturnsQuery:
    """The filters for the next poll given the last checkpoint."""
    if checkpoint is None:
        return ReturnsQuery(open=True)
    return ReturnsQuery(refreshed_after=(checkpoint - overlap).astimezone(UTC))
