"""The webhook fan-out: each sink's new events become outbox messages, by a cursor per sink.

A sink's cursor (``feedamp_sync_state``, job ``webhook_cursor``, account the sink's lane) is the id
of the last event it has been given. One transaction reads the events after it, enqueues a
``webhook`` message for each the sink subscribes to (``unique_key``
``webhook:<sink>:<event id>``, so a fan-out run again after a crash enqueues nothing twice)
and moves the cursor. A sink seen for the first time starts at the beginning of the log: it
is given every event retention has kept, oldest first (a cursor row inserted beforehand,
``{"after_id": N}``, makes it start after event N instead).

Why not in the fact's transaction: the facts' transactions (a page of 200 orders, a batch of
results) stay as short as they were, whatever the number of sinks, and a sink added, removed
or given other types later needs no change to the events already written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, Engine, select, update

from feedamp_sync.core.attempts import WEBHOOK_KIND
from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage
from feedamp_sync.db.events import newest_id, public_event, read_after
from feedamp_sync.db.transactions import in_transaction

CURSOR_JOB: Final = "webhook_cursor"
FAN_OUT_BATCH: Final = 500
"""The most events one transaction hands a sink; a fan-out runs batches until none is left."""


def webhook_key(sink: str, event_id: int) -> str:
    """The ``unique_key`` that allows one message per sink and event."""
    return f"{WEBHOOK_KIND}:{sink}:{event_id}"


class FanOutStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @database_error_on_outage()
    def fan_out(
        self,
        sink: str,
        lane: str,
        types: Sequence[str],
        *,
        now: datetime,
        batch: int = FAN_OUT_BATCH,
    ) -> int:
        """Enqueue the sink's events after its cursor, batch by batch; returns how many."""
        enqueued = 0
        while True:
            added, more = in_transaction(
                self._engine, lambda conn: _batch(conn, sink, lane, types, now, batch)
            )
            enqueued += added
            if not more:
                return enqueued


def _batch(
    conn: Connection, sink: str, lane: str, types: Sequence[str], now: datetime, limit: int
) -> tuple[int, bool]:
    """One batch: (messages enqueued, whether more events may follow the new cursor)."""
    state = t.sync_state.c
    where = (state.account == lane, state.job == CURSOR_JOB)
    row = conn.execute(select(state.checkpoint).where(*where).with_for_update()).first()
    top = newest_id(conn)
    checkpoint = row.checkpoint if row is not None else None
    after = int(checkpoint.get("after_id", 0)) if isinstance(checkpoint, dict) else 0
    events = [e for e in read_after(conn, after, types=types, limit=limit) if e["id"] <= top]
    full = len(events) == limit
    moved_to = events[-1]["id"] if full else top
    keys = {webhook_key(sink, e["id"]): e for e in events}
    present = set(
        conn.scalars(select(t.outbox.c.unique_key).where(t.outbox.c.unique_key.in_(keys)))
        if keys
        else ()
    )
    rows = [
        {
            "account": lane,
            "kind": WEBHOOK_KIND,
            "target_id": sink,
            "payload": public_event(event),
            "unique_key": key,
        }
        for key, event in keys.items()
        if key not in present
    ]
    if rows:
        conn.execute(t.outbox.insert(), rows)
    cursor = {"after_id": moved_to}
    if row is None:
        conn.execute(
            t.sync_state.insert().values(
                account=lane, job=CURSOR_JOB, checkpoint=cursor, updated_at=now
            )
        )
    elif moved_to != after or checkpoint != cursor:
        conn.execute(update(t.sync_state).where(*where).values(checkpoint=cursor, updated_at=now))
    return len(rows), full
