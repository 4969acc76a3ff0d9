"""A stop request counts its grace period from the moment it was asked for."""

from __future__ import annotations

from feedamp_sync.app import Stop


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_whole_grace_is_left_until_the_stop_is_asked_for() -> None:
    """Time before the request does not count."""
    clock = Clock()
    stop = Stop(monotonic=clock)
    clock.now += 60
    assert stop.seconds_left(15) == 15


def test_the_grace_runs_from_the_first_request_and_ends_at_zero() -> None:
    """Whoever waits after the request gets what is left of one grace period; a second
    signal does not start it again."""
    clock = Clock()
    stop = Stop(monotonic=clock)
    stop.set()
    clock.now += 10
    stop.set()
    assert (stop.is_set(), stop.seconds_left(15)) == (True, 5)
    clock.now += 10
    assert stop.seconds_left(15) == 0
