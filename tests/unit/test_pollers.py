"""The accounts' jobs on a bounded pool: each on its interval, one pass at a time, none lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from feedamp_sync.ops.ticks import JobMonitor
from feedamp_sync.ops.verdicts import liveness
from feedamp_sync.pollers import POLLER_THREAD, Periodic, Pollers, next_due

pytestmark = pytest.mark.timeout(30)

WAIT = 10.0
"""Bound on every wait for something that should happen within milliseconds."""


@contextmanager
def running(pollers: Pollers) -> Iterator[Pollers]:
    pollers.start()
    try:
        yield pollers
    finally:
        pollers.close()
        pollers.join()


class Gauge:
    """Counts ticks in progress, overall and per entry, and keeps the highest counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.per_entry: Counter[str] = Counter()
        self.overlapped: set[str] = set()
        self.passes: Counter[str] = Counter()

    def tick(self, name: str, seconds: float) -> Callable[[], None]:
        def run() -> None:
            with self._lock:
                self.now += 1
                self.most = max(self.most, self.now)
                self.per_entry[name] += 1
                if self.per_entry[name] > 1:
                    self.overlapped.add(name)
            time.sleep(seconds)
            with self._lock:
                self.now -= 1
                self.per_entry[name] -= 1
                self.passes[name] += 1

        return run


def until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_a_pass_is_due_one_interval_after_its_due_time() -> None:
    """A fixed schedule: the time the pass took does not shift the next one."""
    assert next_due(100.0, 60.0, ended=100.5) == 160.0


def test_a_pass_that_ended_past_its_next_time_is_due_at_once() -> None:
    """The missed due times become one pass, started at once: none is silently dropped."""
    assert next_due(100.0, 60.0, ended=250.0) == 250.0


def test_no_more_passes_run_at_once_than_the_pool_has_threads() -> None:
    """Forty pairs, three threads: at most three ticks at a time, and every pair ran."""
    gauge = Gauge()
    entries = [Periodic(f"orders:a{n}", gauge.tick(f"orders:a{n}", 0.01), 0.05) for n in range(40)]
    with running(Pollers(entries, 3)):
        assert until(lambda: len(gauge.passes) == 40)
    assert gauge.most <= 3


def test_one_pair_never_runs_two_passes_at_once() -> None:
    """A pass longer than its interval is followed by the next, never overlapped by it."""
    gauge = Gauge()
    with running(Pollers([Periodic("orders:slow", gauge.tick("orders:slow", 0.05), 0.01)], 4)):
        assert until(lambda: gauge.passes["orders:slow"] >= 4)
    assert gauge.overlapped == set()


def test_every_pair_keeps_its_own_interval() -> None:
    """A short-interval pair passes many times while a long-interval one passes once."""
    gauge = Gauge()
    entries = [
        Periodic("orders:a", gauge.tick("orders:a", 0), 0.02),
        Periodic("returns:a", gauge.tick("returns:a", 0), 60),
    ]
    with running(Pollers(entries, 2)):
        assert until(lambda: gauge.passes["orders:a"] >= 10)
    assert gauge.passes["returns:a"] == 1


def test_a_due_pass_waiting_for_a_thread_runs_as_soon_as_one_is_free() -> None:
    """One thread held by a long pass: the other pair runs right after it, not an interval
    later."""
    release = threading.Event()
    ran = threading.Event()
    entries = [
        Periodic("orders:busy", lambda: release.wait(WAIT), 3600),
        Periodic("orders:next", ran.set, 3600),
    ]
    with running(Pollers(entries, 1)):
        time.sleep(0.05)
        assert not ran.is_set()
        released = time.monotonic()
        release.set()
        assert ran.wait(WAIT)
        assert time.monotonic() - released < 1.0


def test_a_pass_waiting_for_a_thread_is_recorded_as_waiting_and_is_alive() -> None:
    """The monitor shows the wait, and liveness does not take it for a stall, however long
    (the running tick it waits for is judged on its own)."""
    release = threading.Event()
    monitor = JobMonitor()
    pollers = Pollers(
        [
            Periodic("orders:busy", lambda: release.wait(WAIT), 3600),
            Periodic("orders:queued", lambda: None, 0.001),
        ],
        1,
    )
    pollers.watch(monitor)
    with running(pollers):
        assert until(lambda: monitor.snapshot()["orders:queued"].waiting_since is not None)
        later = time.monotonic() + 3600
        verdict = liveness(
            monitor.snapshot(), {}, now=later, scheduler_running=True, call_allowance=0
        )
        release.set()
        assert until(lambda: monitor.snapshot()["orders:queued"].waiting_since is None)
    assert verdict.checks["job orders:queued"] == "ok"


def test_a_stop_drops_the_passes_still_waiting_for_a_thread() -> None:
    """After ``close`` nothing starts; the pass running then finishes on its own."""
    release = threading.Event()
    ran = threading.Event()
    pollers = Pollers(
        [
            Periodic("orders:busy", lambda: release.wait(WAIT), 3600),
            Periodic("orders:waiting", ran.set, 3600),
        ],
        1,
    )
    pollers.start()
    time.sleep(0.05)
    pollers.close()
    release.set()
    pollers.join()
    assert not ran.is_set()
    assert not pollers.running


def test_the_threads_do_not_grow_with_the_pairs() -> None:
    """Four hundred pairs on four threads: four workers and one dispatcher, no more."""
    entries = [Periodic(f"orders:a{n}", lambda: time.sleep(0.001), 0.05) for n in range(400)]
    before = set(threading.enumerate())
    most = 0
    with running(Pollers(entries, 4)):
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            most = max(most, len(set(threading.enumerate()) - before))
            time.sleep(0.01)
        workers = [t for t in threading.enumerate() if t.name.startswith(POLLER_THREAD)]
    assert len(workers) <= 4
    assert most <= 5
