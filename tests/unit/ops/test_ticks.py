"""The job monitor: each tick's start and end, for every job of a scheduler."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from feedamp_sync.ops.ticks import JobMonitor, JobTicks, watch


def monitor_with_clock() -> JobMonitor:
    ticks = count()
    return JobMonitor(monotonic=lambda: float(next(ticks)))


def test_a_tick_is_running_while_it_runs() -> None:
    """Inside the tick the job shows when it started."""
    monitor = monitor_with_clock()
    monitor.register("outbox", 5)
    seen: list[JobTicks] = []
    monitor.wrap("outbox", lambda: seen.append(monitor.snapshot()["outbox"]))()
    assert seen == [JobTicks(interval=5, last_finished=0.0, running_since=1.0)]


def test_a_finished_tick_records_its_end() -> None:
    """After the tick the job is idle with the end time."""
    monitor = monitor_with_clock()
    monitor.register("outbox", 5)
    monitor.wrap("outbox", lambda: None)()
    assert monitor.snapshot()["outbox"] == JobTicks(interval=5, last_finished=2.0)


def test_a_failing_tick_still_ends() -> None:
    """An exception is an end too (the job ran; it is not hung)."""
    monitor = monitor_with_clock()
    monitor.register("outbox", 5)

    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        monitor.wrap("outbox", fail)()
    assert monitor.snapshot()["outbox"].running_since is None


def test_watch_registers_every_job_with_its_interval() -> None:
    """Jobs added by anyone are watched, with the interval of their trigger."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: None, "interval", seconds=60, id="orders:main")
    scheduler.add_job(lambda: None, "interval", seconds=0.5, id="outbox")
    monitor = JobMonitor()
    watch(scheduler, monitor)
    intervals = {job_id: t.interval for job_id, t in monitor.snapshot().items()}
    assert intervals == {"orders:main": 60.0, "outbox": 0.5}


def test_watch_wraps_the_job_function() -> None:
    """Running the scheduled function records a tick."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: None, "interval", seconds=60, id="outbox")
    monitor = monitor_with_clock()
    watch(scheduler, monitor)
    scheduler.get_job("outbox").func()
    assert monitor.snapshot()["outbox"].last_finished == 2.0


def test_watch_refuses_a_job_without_interval() -> None:
    """Only an interval gives a bound to judge a job by."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: None, "cron", minute="*", id="nightly")
    with pytest.raises(ValueError, match="nightly"):
        watch(scheduler, JobMonitor())


def test_intervals_are_read_as_seconds() -> None:
    """A trigger of two minutes is a 120 s interval."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: None, "interval", minutes=2, id="returns:main")
    monitor = JobMonitor()
    watch(scheduler, monitor)
    assert monitor.snapshot()["returns:main"].interval == timedelta(minutes=2).total_seconds()
