"""Run the outbox job now when a message is queued, without losing a wake-up to a running tick.

The job is an APScheduler 3 interval job with ``max_instances=1``. Moving its next run time to
now ("a kick") while a tick runs does not queue a second run: the scheduler finds the instance
limit reached, skips the run (``EVENT_JOB_MAX_INSTANCES``) and schedules the next one a whole
interval later. A message queued while a drain is under way could then wait that interval.
:class:`OutboxWakeups` therefore kicks only while no tick is running or kicked, and otherwise
remembers the request and kicks when the running tick has finished.

What this relies on, as APScheduler 3.11 does it (``executors/base.py``): an executor counts
a run's instance until the run ends, and only then, after lowering the count, dispatches the
run's ``EVENT_JOB_EXECUTED``, ``EVENT_JOB_ERROR`` or ``EVENT_JOB_MISSED``. A kick from
:meth:`~OutboxWakeups.finished` is thus never refused for the run that just ended. A kick
refused because a run was counted but had not called :meth:`~OutboxWakeups.started` yet loses
nothing: that run starts after the request and drains what was queued. Events and the next
tick's start may interleave (the next run can start before the previous run's event is
dispatched); ``pending`` is cleared only by a tick's start, so a request is always followed by
a tick that starts after it. If a run's event is ever lost (APScheduler dispatches none when
its own ``run_job`` fails), ``running`` stays set and requests wait for the next interval
tick, whose start and finish put the state right again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.jobstores.base import JobLookupError

Kick = Callable[[], None]
"""Ask the scheduler to run the outbox job now."""


class OutboxWakeups:
    """The wake-up state machine; every method is safe to call from any thread.

    ``pending``: a request has not yet been followed by the start of a tick.
    ``running``: a tick is running, or has been kicked and will start (or be missed).
    """

    def __init__(self, kick: Kick) -> None:
        self._kick = kick
        self._lock = threading.Lock()
        self._pending = False
        self._running = False

    def requested(self) -> None:
        """A message was queued (the listener's thread): run a tick, now or after this one."""
        with self._lock:
            self._pending = True
            if self._running:
                return
            self._running = True
        self._kick()

    def started(self) -> None:
        """The first thing a tick does: everything queued so far will be seen by its drain."""
        with self._lock:
            self._running = True
            self._pending = False

    def finished(self) -> None:
        """A run ended (executed, failed or missed): kick again if a request came meanwhile."""
        with self._lock:
            if not self._pending:
                self._running = False
                return
        self._kick()

    def tick(self, run: Callable[[], object]) -> Callable[[], None]:
        """``run`` as the scheduled job: it marks its start first."""

        def ticked() -> None:
            self.started()
            run()

        return ticked


def scheduler_wakeups(scheduler: Any, job_id: str) -> OutboxWakeups:
    """Wake-ups for the job ``job_id`` of an APScheduler 3 scheduler, told of every run's end.

    A kick moves the job's next run time on a thread of its own. A run that ends before its
    executor attaches the completion callback has its end dispatched at once, on the
    scheduler's own thread, inside the scheduler's processing of due jobs, which holds the
    (re-entrant) job-store lock and, right after, sets the job's next run time a whole
    interval ahead: a kick made there, in line, would be overwritten. From its own thread the
    kick waits for that lock and lands after the processing.
    """

    def move_next_run() -> None:
        # Once the scheduler has shut down, its jobs are no longer found: nothing to run.
        with suppress(JobLookupError):
            scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    def kick() -> None:
        threading.Thread(target=move_next_run, name=f"{job_id}-kick", daemon=True).start()

    wakeups = OutboxWakeups(kick)

    def ended(event: JobEvent) -> None:
        if event.job_id == job_id:
            wakeups.finished()

    scheduler.add_listener(ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return wakeups
