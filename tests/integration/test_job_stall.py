"""A real scheduler's job that hangs is seen as stalled; one that ticks is alive."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from feedamp_sync.ops.ticks import JobMonitor, watch
from feedamp_sync.ops.verdicts import Verdict, liveness

INTERVAL = 0.1


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    running = BackgroundScheduler(timezone="UTC", job_defaults={"max_instances": 1})
    yield running
    if running.running:
        running.shutdown(wait=False)


def verdict(monitor: JobMonitor) -> Verdict:
    return liveness(
        monitor.snapshot(), {}, now=time.monotonic(), scheduler_running=True, call_allowance=0
    )


def test_a_job_that_keeps_ticking_stays_alive(scheduler: BackgroundScheduler) -> None:
    """Ticks every 0.1 s: alive after many bounds (0.3 s) have passed."""
    ticked = threading.Event()
    scheduler.add_job(ticked.set, "interval", seconds=INTERVAL, id="outbox")
    monitor = JobMonitor()
    watch(scheduler, monitor)
    scheduler.start()
    assert ticked.wait(5)
    time.sleep(1.0)
    assert verdict(monitor).ok


def test_a_hung_tick_is_stalled_after_its_bound(scheduler: BackgroundScheduler) -> None:
    """A tick blocked for longer than three intervals fails liveness, naming the job."""
    entered, release = threading.Event(), threading.Event()

    def hang() -> None:
        entered.set()
        release.wait(10)

    scheduler.add_job(hang, "interval", seconds=INTERVAL, id="orders:main")
    monitor = JobMonitor()
    watch(scheduler, monitor)
    scheduler.start()
    try:
        assert entered.wait(5)
        time.sleep(3 * INTERVAL + 0.2)
        assert "tick running" in verdict(monitor).checks["job orders:main"]
    finally:
        release.set()
