"""FeedAMP's retry hints: the seconds a ``Retry-After`` header asks for, on the server's clock.

Whether and when a request is tried again is :mod:`feedamp_sync.retries`; this module only reads
the headers that inform it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    ``now`` should be the response's own ``Date`` (see :func:`server_now`), so clock skew
    between FeedAMP and this host does not distort an HTTP-date. Unparseable values give None.
    """
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        seconds = (when - now).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def server_now(date_header: str | None) -> datetime:
    """The server's clock from its ``Date`` header, or this host's clock when it sent none."""
    when = _http_date(date_header) if date_header else None
    return when if when is not None else datetime.now(UTC)


def _http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
