"""Each job's checkpoint and its last success and failure, per account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage, raises_database_error

GLOBAL_ACCOUNT = "*"
"""The account name under which jobs that serve every account (the outbox) record state."""


class SyncStateStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @database_error_on_outage()
    def started(self, account: str, job: str, now: datetime) -> None:
        self._write(account, job, last_started_at=now, updated_at=now)

    @database_error_on_outage()
    def succeeded(self, account: str, job: str, now: datetime, *, checkpoint: Any = None) -> None:
        values: dict[str, Any] = {"last_success_at": now, "updated_at": now}
        if checkpoint is not None:
            values["checkpoint"] = checkpoint
        self._write(account, job, **values)

    @database_error_on_outage()
    def failed(self, account: str, job: str, now: datetime, error: str) -> None:
        self._write(account, job, last_error_at=now, last_error=error[:2000], updated_at=now)

    @database_error_on_outage()
    def checkpoint(self, account: str, job: str) -> Any:
        with self._engine.connect() as conn:
            return conn.scalar(
                select(t.sync_state.c.checkpoint).where(
                    t.sync_state.c.account == account, t.sync_state.c.job == job
                )
            )

    @raises_database_error
    def all(self) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t.sync_state).order_by(t.sync_state.c.job, t.sync_state.c.account)
            )
            return [dict(row._mapping) for row in rows]

    def _write(self, account: str, job: str, **values: Any) -> None:
        try:
            with self._engine.begin() as conn:
                if not _update(conn, account, job, values):
                    conn.execute(t.sync_state.insert().values(account=account, job=job, **values))
        except IntegrityError:
            # Another instance inserted the row first (the outbox job runs on every one).
            with self._engine.begin() as conn:
                _update(conn, account, job, values)


def _update(conn: Connection, account: str, job: str, values: dict[str, Any]) -> bool:
    result = conn.execute(
        update(t.sync_state)
        .where(t.sync_state.c.account == account, t.sync_state.c.job == job)
        .values(**values)
    )
    return result.rowcount > 0
