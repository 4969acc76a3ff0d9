"""The answers of ``/healthz`` and ``/readyz``: gather the inputs, let ``verdicts`` decide.

``/healthz`` is the same decision the systemd watchdog pings on. ``/readyz`` reads each job's
last success from the sync-state table (one small query, which also proves the database is
reachable), so instances sharing a database agree on it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.sync_state import GLOBAL_ACCOUNT, SyncStateStore
from feedamp_sync.errors import DatabaseError
from feedamp_sync.ops.activity import ApiActivity
from feedamp_sync.ops.server import Reply
from feedamp_sync.ops.ticks import JobMonitor
from feedamp_sync.ops.verdicts import (
    Verdict,
    cancellation_note,
    liveness,
    quarantine_note,
    readiness,
)

JSON = "application/json"


class Health:
    def __init__(
        self,
        engine: Engine,
        monitor: JobMonitor,
        activity: ApiActivity,
        *,
        scheduler_running: Callable[[], bool],
        call_allowance: float,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._state = SyncStateStore(engine)
        self._quarantine = QuarantineStore(engine)
        self._orders = OrderStore(engine)
        self._monitor = monitor
        self._activity = activity
        self._scheduler_running = scheduler_running
        self._call_allowance = call_allowance
        self._clock = clock
        self._monotonic = monotonic

    def liveness(self) -> Verdict:
        return liveness(
            self._monitor.snapshot(),
            self._activity.snapshot(),
            now=self._monotonic(),
            scheduler_running=self._scheduler_running(),
            call_allowance=self._call_allowance,
        )

    def readiness(self) -> Verdict:
        jobs = self._monitor.snapshot()
        activity = self._activity.snapshot()
        try:
            rows = self._state.all()
            held = self._quarantine.open_counts()
            cancelled = self._orders.cancelled_after_confirm()
        except DatabaseError as error:
            return readiness(jobs, activity, {}, now=self._clock(), database_error=str(error))
        last_success = {
            row["job"] if row["account"] == GLOBAL_ACCOUNT else f"{row['job']}:{row['account']}": (
                row["last_success_at"]
            )
            for row in rows
        }
        verdict = readiness(jobs, activity, last_success, now=self._clock(), database_error=None)
        notes = quarantine_note(held) | cancellation_note(cancelled)
        return dataclasses.replace(verdict, notes=notes)


def reply(verdict: Verdict) -> Reply:
    """200 with the checks when all pass, else 503 naming the failed ones."""
    body = json.dumps(verdict.as_json(), indent=2).encode() + b"\n"
    return (200 if verdict.ok else 503), JSON, body
