"""The event log: written in the fact's transaction, read by cursor.

Writers call :func:`write_events` as the *last* work of the transaction that stores the
facts. It first locks the ``events_writer`` row of ``feedamp_meta`` (migration 0009), so
transactions that write events commit one after another, in the order of the ids they were
given: a reader that has seen id N never finds a smaller id committed later, and a cursor
(``id > N``) never passes over an event. Taken last, the lock is held only from the insert to
the commit, and no transaction holding it waits for another lock, so it cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, func, select

from feedamp_sync.core.events import Event
from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage

WRITER_LOCK_KEY: Final = "events_writer"
EVENTS_CHANNEL: Final = "feedamp_events"
"""PostgreSQL's channel for new events (migration 0009's trigger repeats this literal); the
payload is the event's id."""


def write_events(conn: Connection, events: Sequence[Event]) -> None:
    """Append ``events`` to the log in the caller's transaction, in the order given."""
    if not events:
        return
    conn.execute(
        select(t.meta.c.value).where(t.meta.c.key == WRITER_LOCK_KEY).with_for_update()
    ).all()
    conn.execute(
        t.events.insert(),
        [
            {
                "type": event.type,
                "account": event.account,
                "subject": event.subject[:64],
                "occurred_at": event.occurred_at,
                "body": dict(event.body),
            }
            for event in events
        ],
    )


class EventStore:
    """Reads of the log, oldest first, after a cursor."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @database_error_on_outage()
    def after(
        self,
        after_id: int,
        *,
        types: Sequence[str] = (),
        account: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` events with an id above ``after_id``, of ``types`` (every type
        when empty) and ``account`` (every account when None), in id order."""
        with self._engine.connect() as conn:
            return read_after(conn, after_id, types=types, account=account, limit=limit)

    @database_error_on_outage()
    def newest_id(self) -> int:
        """The id of the newest event, 0 when the log is empty."""
        with self._engine.connect() as conn:
            return newest_id(conn)


def read_after(
    conn: Connection,
    after_id: int,
    *,
    types: Sequence[str] = (),
    account: str | None = None,
    limit: int,
) -> list[dict[str, Any]]:
    query = select(t.events).where(t.events.c.id > after_id).order_by(t.events.c.id).limit(limit)
    if types:
        query = query.where(t.events.c.type.in_(types))
    if account is not None:
        query = query.where(t.events.c.account == account)
    return [dict(row._mapping) for row in conn.execute(query)]


def newest_id(conn: Connection) -> int:
    return int(conn.scalar(select(func.coalesce(func.max(t.events.c.id), 0))) or 0)


def public_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event row as the seller's systems see it (``events list --json``, a webhook)."""
    occurred: datetime = event["occurred_at"]
    return {
        "id": event["id"],
        "type": event["type"],
        "account": event["account"],
        "subject": event["subject"],
        "occurred_at": occurred.isoformat(),
        "data": event["body"],
    }
