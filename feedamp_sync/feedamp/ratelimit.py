"""A sliding-window limiter on request starts, shared by every thread of one account.

FeedAMP asks for at most 2 requests per second on its list endpoints. A token bucket would let
a refill and a burst land inside the same second as the server measures it, so this limiter keeps
the start times of recent requests instead: at rate ``r`` it admits at most ``max(1, floor(r))``
starts in any window of ``max(1, floor(r)) / r`` seconds, widened by a small safety margin so
that scheduling jitter between our clock and the server's never makes it count one too many.
A very high rate (``1e6``) never waits, which is how benchmarks lift the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

SAFETY_MARGIN_SECONDS: Final = 0.02
"""Added to every window: loopback jitter is far below this, and the cost is 2 % of throughput."""

_MIN_SLEEP_SECONDS: Final = 1e-4
"""Floor of one wait, so float rounding of ``free_at - now`` can never spin on a zero sleep."""


@dataclass(frozen=True)
class Availability:
    """``free`` request starts admitted right now; when none, ``opens_in`` seconds until one."""

    free: int
    opens_in: float


class RateLimiter:
    """Admits request starts so that no window holds more than the allowed number.

    Thread-safe: the start times are read and written under one lock, and waiting happens
    outside it, so threads queue by re-checking after their sleep.
    """

    def __init__(
        self,
        rate_per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        margin_seconds: float = SAFETY_MARGIN_SECONDS,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate must be positive, got {rate_per_second}")
        self.burst: Final = max(1, math.floor(rate_per_second))
        self.window_seconds: Final = self.burst / rate_per_second + margin_seconds
        self._monotonic = monotonic
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def available(self) -> Availability:
        """How many starts would be admitted now, without taking any, and when the next
        opens if none would: lets a caller hand work only to an account whose budget allows."""
        with self._lock:
            now = self._monotonic()
            while self._starts and now >= self._starts[0] + self.window_seconds:
                self._starts.popleft()
            free = self.burst - len(self._starts)
            if free > 0:
                return Availability(free, 0.0)
            return Availability(0, self._starts[0] + self.window_seconds - now)

    def acquire(self, deadline: float | None = None) -> float | None:
        """Wait for a free slot and take it; return the admitted start time.

        Returns None, without taking a slot, when the next free slot opens after ``deadline``
        (a time on the same monotonic clock), so a caller never waits past its own deadline.
        """
        while True:
            with self._lock:
                now = self._monotonic()
                while self._starts and now >= self._starts[0] + self.window_seconds:
                    self._starts.popleft()
                if len(self._starts) < self.burst:
                    self._starts.append(now)
                    return now
                free_at = self._starts[0] + self.window_seconds
            if deadline is not None and free_at > deadline:
                return None
            self._sleep(max(free_at - now, _MIN_SLEEP_SECONDS))
