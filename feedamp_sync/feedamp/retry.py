"""When the client itself tries a request again, and after how long: a small pure object.

The rule (the outbox engine owns every other retry, with its own reconciliation):

* A **read** (GET: list pages, get order, get return, get_token) is tried up to
  ``api.get_attempts`` times on any :class:`ApiUnavailable` (5xx, 429, timeout, connection
  failure): it has no effect on FeedAMP, so repeating it is always safe.
* A **mutation** (PUT/POST) is tried again only when FeedAMP cannot have acted on it: the
  connection was never made (``nothing_sent``), or the answer was 429 (refused before
  processing). After a 5xx, a timeout or a dropped connection the outcome is unknown, so the
  error goes to the caller at once.
* The wait is the server's ``Retry-After`` when it gave one, else exponential backoff with full
  jitter: ``rng() * min(30, 0.5 * 2 ** (attempt - 1))`` seconds.
* No retry whose wait would reach the call's deadline: the caller gets the last error (with its
  ``retry_after``) and can schedule the retry itself.

401 (a token renewal and a repeat, see ``FeedampClient._call``) and other 4xx are not retries
in this sense and never reach this rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from feedamp_sync.errors import ApiUnavailable

BACKOFF_BASE_SECONDS: Final = 0.5
BACKOFF_CAP_SECONDS: Final = 30.0


@dataclass(frozen=True)
class RetryRule:
    """Decides whether and when to repeat a request that failed with :class:`ApiUnavailable`."""

    max_attempts: int
    rng: Callable[[], float]
    base_seconds: float = BACKOFF_BASE_SECONDS
    cap_seconds: float = BACKOFF_CAP_SECONDS

    def backoff(self, attempt: int) -> float:
        """Full jitter: anywhere in [0, min(cap, base * 2**(attempt-1))), so threads spread out."""
        return self.rng() * min(self.cap_seconds, self.base_seconds * 2.0 ** (attempt - 1))

    def delay(
        self,
        error: ApiUnavailable,
        *,
        attempt: int,
        idempotent: bool,
        nothing_sent: bool,
        seconds_left: float,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise ``error``."""
        if attempt >= self.max_attempts:
            return None
        if not (idempotent or nothing_sent or error.status_code == 429):
            return None
        wait = error.retry_after if error.retry_after is not None else self.backoff(attempt)
        return wait if wait < seconds_left else None


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
