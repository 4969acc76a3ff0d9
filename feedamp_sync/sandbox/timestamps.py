"""Time formats the sandbox speaks: FeedAMP's UTC strings out, ISO 8601 filters in.

Internally every instant is an integer of epoch milliseconds, the precision FeedAMP shows
(``2018-05-01T23:52:01.000Z``), so a value a client copies from a response and sends back as a
filter compares exactly, with no float rounding at the boundary.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)

EASTERN: Final = ZoneInfo("America/New_York")
"""FeedAMP reads a filter timestamp without an offset as US Eastern time (EST/EDT)."""


def now_ms(seconds: float) -> int:
    """Epoch milliseconds for a clock reading in seconds (floored, never rounded up)."""
    return int(seconds * 1000)


def render(ms: int) -> str:
    """FeedAMP's date-time format: UTC with milliseconds and a ``Z``."""
    whole = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{whole:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_filter(value: str) -> tuple[int, bool]:
    """A filter value as epoch milliseconds, and whether it lacked a UTC offset.

    A value without an offset (or a bare date) is taken as America/New_York local time, as
    the docs say the real API does; the flag lets the ledger show that a client sent one.
    Raises ``ValueError`` for anything that is not ISO 8601.
    """
    parsed = datetime.fromisoformat(value.strip())
    naive = parsed.tzinfo is None
    if naive:
        parsed = parsed.replace(tzinfo=EASTERN)
    return (parsed - _EPOCH) // _MILLISECOND, naive


def is_iso_date_or_datetime(value: str) -> bool:
    """Whether ``value`` is an ISO 8601 date or date-time (the docs make the time optional)."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
    return True
