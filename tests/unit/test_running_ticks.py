"""The daemon's count of running ticks, which a stop waits on with a deadline."""

from __future__ import annotations

import threading

from feedamp_sync.daemon import RunningTicks

WAIT_SECONDS = 5.0


def test_no_tick_starts_once_stop_is_set() -> None:
    """A tick the scheduler hands over after the stop is not run, and not waited for."""
    stop = threading.Event()
    ticks = RunningTicks(stop)
    stop.set()
    with ticks.tracking() as admitted:
        assert not admitted
        assert ticks.wait_idle(0)


def test_a_stop_waits_for_a_running_tick_until_it_ends() -> None:
    """wait_idle gives up at its deadline while a tick runs, and returns once it ends."""
    stop = threading.Event()
    ticks = RunningTicks(stop)
    with ticks.tracking() as admitted:
        assert admitted
        stop.set()
        assert not ticks.wait_idle(0.05)
    assert ticks.wait_idle(WAIT_SECONDS)
