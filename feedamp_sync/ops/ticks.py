"""The scheduled jobs' ticks: when each started and ended, as the watchdog needs to know.

:func:`watch` wraps every job of a scheduler that is about to start, so a job added by
anyone to ``daemon.py`` is watched without further code; its interval comes from its
trigger. The wrapper records in the tick's own thread, so a start and its end are never
seen out of order (APScheduler's events can arrive in either order).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class JobTicks:
    """One job's schedule and its latest tick, in ``time.monotonic()`` seconds."""

    interval: float
    last_finished: float
    """The end of the latest tick; the moment watching began until the first tick ends."""
    running_since: float | None = None
    waiting_since: float | None = None
    """Due, and handed to a busy pool of workers (:mod:`feedamp_sync.pollers`): its tick
    starts when a worker is free."""


class JobMonitor:
    """Thread-safe record of :class:`JobTicks` per scheduled job id."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._jobs: dict[str, JobTicks] = {}

    def register(self, job_id: str, interval: float) -> None:
        with self._lock:
            self._jobs[job_id] = JobTicks(interval=interval, last_finished=self._monotonic())

    def wrap(self, job_id: str, tick: Callable[[], object]) -> Callable[[], None]:
        """``tick``, recording its start and end (an exception still counts as an end)."""

        def watched() -> None:
            self._update(job_id, running_since=self._monotonic(), waiting_since=None)
            try:
                tick()
            finally:
                self._update(job_id, running_since=None, last_finished=self._monotonic())

        return watched

    def waiting(self, job_id: str) -> None:
        """The job is due and waits for a worker; its tick's start ends the wait."""
        self._update(job_id, waiting_since=self._monotonic())

    def snapshot(self) -> Mapping[str, JobTicks]:
        with self._lock:
            return dict(self._jobs)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)


def watch(scheduler: Any, monitor: JobMonitor) -> None:
    """Watch every job of a not yet started APScheduler 3 scheduler (interval triggers only)."""
    for job in scheduler.get_jobs():
        interval = getattr(job.trigger, "interval", None)
        if not isinstance(interval, timedelta):
            raise ValueError(f"job {job.id}: only interval-triggered jobs can be watched")
        monitor.register(job.id, interval.total_seconds())
        job.modify(func=monitor.wrap(job.id, job.func))
