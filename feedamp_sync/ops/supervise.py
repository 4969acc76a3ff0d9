"""The daemon's life as systemd and a health probe see it.

:meth:`Supervisor.prepare` runs before the scheduler starts: it watches every scheduled job
and binds the health listener (a port in use stops the start with exit 78). :meth:`serve`
runs on the main thread while the jobs work: ``READY=1`` once, then a liveness check every
half watchdog period, ``WATCHDOG=1`` only while every job is alive, and ``STOPPING=1`` when
the stop begins. The main thread itself sends the pings, so a wedged main thread stops them
too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, Protocol

import structlog
from sqlalchemy import Engine

from feedamp_sync.feedamp.client import DEADLINE_TIMEOUTS
from feedamp_sync.ops import sdnotify
from feedamp_sync.ops.health import Health, reply
from feedamp_sync.ops.server import HealthServer, Reply
from feedamp_sync.ops.telemetry import Telemetry
from feedamp_sync.ops.ticks import JobMonitor, watch
from feedamp_sync.ops.verdicts import Verdict

log = structlog.get_logger(__name__)

CHECK_SECONDS: Final = 5.0
"""How often liveness is checked (and logged on change) when systemd asks for no watchdog."""


def call_allowance(timeout_seconds: float) -> float:
    """How long a healthy tick may wait in API calls without one attempt ending: two calls'
    deadlines (a slow attempt, then a token renewal or retry within the next call)."""
    return 2 * DEADLINE_TIMEOUTS * timeout_seconds


class Pool(Protocol):
    """Jobs run outside the scheduler (the accounts' :class:`~feedamp_sync.pollers.Pollers`)."""

    def watch(self, monitor: JobMonitor) -> None: ...

    @property
    def running(self) -> bool: ...


class Supervisor:
    def __init__(self, health: Health, server: HealthServer | None) -> None:
        self.health = health
        self._server = server
        self._stalled: frozenset[str] = frozenset()

    @classmethod
    def prepare(
        cls,
        scheduler: Any,
        pollers: Pool,
        engine: Engine,
        telemetry: Telemetry,
        *,
        listen: tuple[str, int] | None,
        api_timeout_seconds: float,
        clock: Callable[[], datetime],
    ) -> Supervisor:
        """Watch the scheduler's jobs and the accounts' pollers, and bind the health listener
        at ``listen`` (None: none)."""
        monitor = JobMonitor()
        watch(scheduler, monitor)
        pollers.watch(monitor)
        health = Health(
            engine,
            monitor,
            telemetry.activity,
            scheduler_running=lambda: bool(scheduler.running) and pollers.running,
            call_allowance=call_allowance(api_timeout_seconds),
            clock=clock,
        )
        server = None
        if listen is not None:
            server = HealthServer(
                listen,
                {
                    "/healthz": lambda: reply(health.liveness()),
                    "/readyz": lambda: reply(health.readiness()),
                    "/metrics": lambda: _metrics(telemetry),
                },
            )
        return cls(health, server)

    def serve(self, stop: threading.Event, environ: Mapping[str, str] | None = None) -> None:
        """Until ``stop`` is set: READY=1, then WATCHDOG=1 while alive; STOPPING=1 at the end."""
        watchdog = sdnotify.watchdog_seconds(environ)
        period = CHECK_SECONDS if watchdog is None else min(CHECK_SECONDS, watchdog / 2)
        if self._server is not None:
            self._server.start()
        try:
            sdnotify.notify("READY=1", environ)
            while not stop.wait(period):
                verdict = self.health.liveness()
                self._log_change(verdict)
                if verdict.ok and watchdog is not None:
                    sdnotify.notify("WATCHDOG=1", environ)
            sdnotify.notify("STOPPING=1", environ)
        finally:
            if self._server is not None:
                self._server.close()

    def _log_change(self, verdict: Verdict) -> None:
        """Log when the set of failed checks changes, not at every check."""
        failed: dict[str, str] = verdict.as_json()["failed"]
        if failed and failed.keys() != self._stalled:
            log.warning("daemon_stalled", failed=failed)
        elif self._stalled and not failed:
            log.info("daemon_alive_again")
        self._stalled = frozenset(failed)


def _metrics(telemetry: Telemetry) -> Reply:
    body, content_type = telemetry.metrics.render()
    return 200, content_type, body
