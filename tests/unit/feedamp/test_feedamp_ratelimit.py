"""The request-start limiter: window guarantees on a fake clock, and under threads."""

from __future__ import annotations

import itertools
import threading

import pytest

from feedamp_sync.feedamp.ratelimit import SAFETY_MARGIN_SECONDS, Availability, RateLimiter
from tests.unit.feedamp.feedamp_fakes import FakeClock


def admitted(limiter: RateLimiter, count: int) -> list[float]:
    starts = []
    for _ in range(count):
        start = limiter.acquire()
        assert start is not None
        starts.append(start)
    return starts


def limiter_on(clock: FakeClock, rate: float) -> RateLimiter:
    return RateLimiter(rate, monotonic=clock.monotonic, sleep=clock.sleep)


def test_rate_two_never_puts_three_starts_in_one_second() -> None:
    """At 2/s, any two starts two apart are more than one second (plus margin) apart."""
    clock = FakeClock()
    starts = admitted(limiter_on(clock, 2.0), 20)
    assert all(
        b - a >= 1.0 + SAFETY_MARGIN_SECONDS - 1e-9
        for a, b in zip(starts, starts[2:], strict=False)
    )


def test_a_burst_up_to_the_rate_starts_without_waiting() -> None:
    """At 5/s the first five starts go at once; the sixth waits for the window to pass."""
    clock = FakeClock()
    starts = admitted(limiter_on(clock, 5.0), 6)
    assert starts[:5] == [1000.0] * 5
    assert starts[5] == pytest.approx(1000.0 + 1.0 + SAFETY_MARGIN_SECONDS)


def test_rate_below_one_spaces_single_starts() -> None:
    """At 0.5/s one start is allowed per window of 2 s (plus margin)."""
    clock = FakeClock()
    starts = admitted(limiter_on(clock, 0.5), 3)
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([2.02, 2.02])


def test_fractional_rate_uses_whole_starts_per_shorter_window() -> None:
    """At 2.5/s two starts are allowed per window of 0.8 s (plus margin)."""
    limiter = RateLimiter(2.5)
    assert limiter.burst == 2
    assert limiter.window_seconds == pytest.approx(0.82)


def test_a_very_high_rate_never_waits() -> None:
    """A rate of 1e6/s (how benchmarks lift the limit) admits thousands of starts with no sleep."""
    clock = FakeClock()
    admitted(limiter_on(clock, 1e6), 5000)
    assert clock.sleeps == []


def test_a_slot_past_the_deadline_is_refused_without_waiting() -> None:
    """When the next slot opens after the deadline, acquire returns None at once."""
    clock = FakeClock()
    limiter = limiter_on(clock, 1.0)
    admitted(limiter, 1)
    assert limiter.acquire(deadline=clock.now + 0.5) is None
    assert clock.sleeps == []


def test_a_refused_acquire_takes_no_slot() -> None:
    """After a refusal, the next acquire waits only for the earlier start's window."""
    clock = FakeClock()
    limiter = limiter_on(clock, 1.0)
    admitted(limiter, 1)
    limiter.acquire(deadline=clock.now)
    assert limiter.acquire() == pytest.approx(1000.0 + 1.0 + SAFETY_MARGIN_SECONDS)


def test_threads_sharing_a_limiter_never_exceed_the_window() -> None:
    """Eight threads taking five slots each still get at most two starts per window."""
    clock = FakeClock()
    limiter = limiter_on(clock, 2.0)
    starts: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        taken = admitted(limiter, 5)
        with lock:
            starts.extend(taken)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    starts.sort()
    assert len(starts) == 40
    assert all(
        b - a >= 1.0 + SAFETY_MARGIN_SECONDS - 1e-9
        for a, b in zip(starts, starts[2:], strict=False)
    )


def test_a_non_positive_rate_is_refused() -> None:
    """A rate of zero would never admit anything, so it is a programming error."""
    with pytest.raises(ValueError, match="rate must be positive"):
        RateLimiter(0)


def test_availability_counts_the_starts_left_in_the_window_without_taking_one() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock, 5.0)
    admitted(limiter, 2)
    assert limiter.available() == Availability(free=3, opens_in=0.0)
    assert limiter.available().free == 3


def test_availability_of_a_spent_budget_says_when_the_oldest_start_leaves_the_window() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock, 5.0)
    admitted(limiter, 5)
    clock.sleep(0.25)
    availability = limiter.available()
    assert availability.free == 0
    assert availability.opens_in == pytest.approx(limiter.window_seconds - 0.25)
