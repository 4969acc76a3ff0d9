"""The long-running daemon: the accounts' jobs on a bounded pool (:mod:`feedamp_sync.pollers`),
the global ones on APScheduler; signals stop it.

APScheduler 3.x is given explicit ``coalesce``, ``max_instances=1`` and a misfire grace of a
whole interval, because its one-second default silently skips runs whenever a job waits for
a worker thread; each global job has a thread of its own, so none waits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from types import FrameType

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from feedamp_sync.app import ACCOUNT_JOBS, GLOBAL_JOBS, STOP_SECONDS, App, guarded
from feedamp_sync.db.engine import backend_name
from feedamp_sync.db.notify import OutboxListener, listen_connector
from feedamp_sync.feedamp.pagination import READ_AHEAD_THREAD
from feedamp_sync.feedamp.transport import CUTOFF_THREAD
from feedamp_sync.jobs import OUTBOX_JOB
from feedamp_sync.ops.supervise import Supervisor
from feedamp_sync.outbox.wakeups import scheduler_wakeups
from feedamp_sync.pollers import Periodic, Pollers

log = structlog.get_logger(__name__)

LISTENER_STOP_SECONDS = 2.0
"""How long a stop waits for the outbox listener, which checks the stop event every second."""


class RunningTicks:
    """Counts ticks in progress so a stop can wait for them with a deadline.

    No tick starts once ``stop`` is set: the check and the count are one step under the
    lock, so a stop that finds no tick running knows none is about to begin either.
    """

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._count = 0
        self._idle = threading.Condition()

    @contextmanager
    def tracking(self) -> Iterator[bool]:
        """Yields whether the tick may run (False once ``stop`` is set), counted while it does."""
        with self._idle:
            admitted = not self._stop.is_set()
            if admitted:
                self._count += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._idle:
                    self._count -= 1
                    self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


def run_daemon(app: App, stop: threading.Event) -> None:
    """Run every job on its schedule until ``stop`` is set, then stop gracefully."""
    ticks = RunningTicks(stop)

    def scheduled(tick: Callable[[], object], job: str) -> Callable[[], None]:
        def run() -> None:
            with ticks.tracking() as admitted:
                if admitted:
                    guarded(tick, job)

        return run

    account_jobs = [job for job in ACCOUNT_JOBS if job.enabled(app.settings)]
    pollers = Pollers(
        [
            Periodic(
                f"{job.name}:{account}",
                scheduled(partial(job.tick, app, account, stop), job.name),
                job.interval(app.settings),
            )
            for job in account_jobs
            for account in app.clients
        ],
        app.settings.jobs.poll_concurrency,
    )
    global_jobs = [job for job in GLOBAL_JOBS if job.enabled(app.settings)]
    workers = ThreadPoolExecutor(len(global_jobs))  # a thread each: one tick at a time
    scheduler = BackgroundScheduler(
        executors={"default": workers},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    # The outbox job runs as soon as this daemon's own pollers queue confirms, and on
    # PostgreSQL (LISTEN/NOTIFY) as soon as anyone queues a message.
    wakeups = scheduler_wakeups(scheduler, OUTBOX_JOB)
    app.confirms_queued = wakeups.requested
    now = datetime.now(scheduler.timezone)
    for job in global_jobs:
        tick: Callable[[], object] = partial(job.tick, app, stop)
        if job.name == OUTBOX_JOB:
            tick = wakeups.tick(tick)
        interval = job.interval(app.settings)
        scheduler.add_job(
            scheduled(tick, job.name),
            "interval",
            seconds=interval,
            next_run_time=now,
            misfire_grace_time=max(1, int(interval)),
            id=job.name,
            name=job.name,
        )
    supervisor = Supervisor.prepare(  # watches the jobs, binds /healthz etc.
        scheduler,
        pollers,
        app.engine,
        app.telemetry,
        listen=app.settings.health.address if app.settings.health.enabled else None,
        api_timeout_seconds=app.settings.api.timeout_seconds,
        clock=app.clock,
    )
    scheduler.start()
    pollers.start()
    listener = None
    if listens(app):
        listener = OutboxListener(listen_connector(app.engine), wakeups.requested, stop)
        listener.start()
    log.info(
        "daemon_started",
        accounts=list(app.clients),
        jobs=[job.name for job in account_jobs] + [job.name for job in global_jobs],
        poll_concurrency=app.settings.jobs.poll_concurrency,
    )
    supervisor.serve(stop)  # READY=1, WATCHDOG=1 while every job ticks, STOPPING=1
    started = time.monotonic()
    log.info("daemon_stopping")
    scheduler.shutdown(wait=False)  # no tick starts from here on
    pollers.close()  # nor a poll: those waiting for a thread are dropped
    if ticks.wait_idle(STOP_SECONDS):
        # Every tick has ended, so the workers are idle and join at once. Shut down without
        # waiting, they are only woken to exit a moment later, and a stop checking for stuck
        # calls right away would count them as such.
        workers.shutdown(wait=True)
        pollers.join()
    else:
        log.warning("daemon_stop_forced", waited_seconds=STOP_SECONDS)
    if listener is not None and not listener.join(LISTENER_STOP_SECONDS):
        log.warning("outbox_listener_stop_forced", waited_seconds=LISTENER_STOP_SECONDS)
    log.info("daemon_stopped", seconds=round(time.monotonic() - started, 2))


def listens(app: App) -> bool:
    """Whether the outbox job is woken by notifications: configured, and on PostgreSQL."""
    return app.settings.outbox.listen and backend_name(app.engine) == "postgresql"


def abandon_stuck_calls(exit_code: int = 0) -> None:
    """Exit now (with ``exit_code``) if worker threads are still waiting on FeedAMP after the
    graceful stop.

    By then every result has been recorded and every unfinished claim released, so such a
    call's answer could no longer be recorded anyway (its lease is fenced); waiting for its
    timeout would only break the promise to stop within 20 s. Python joins every worker
    thread of a ``concurrent.futures`` pool at exit (daemon or not), so the process ends
    without that join.
    """
    stuck = stuck_calls(threading.enumerate(), threading.main_thread())
    if stuck:
        log.warning("daemon_abandoned_calls", threads=len(stuck))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)


def stuck_calls(
    threads: Iterable[threading.Thread], main: threading.Thread
) -> list[threading.Thread]:
    """The threads that would hold up the exit. A list page read ahead for a pass that was
    stopped is not one: it holds no claim, nothing waits for its answer, and its thread is
    a daemon thread, which the interpreter does not join. Nor is the thread that cuts calls
    off at their deadline, which lives as long as the process and makes no call itself."""
    return [
        thread
        for thread in threads
        if thread is not main
        and thread.is_alive()
        and not (thread.daemon and thread.name in (READ_AHEAD_THREAD, CUTOFF_THREAD))
    ]


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask for a graceful stop (exit 0)."""

    def handle(signum: int, _: FrameType | None) -> None:
        log.info("signal_received", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
