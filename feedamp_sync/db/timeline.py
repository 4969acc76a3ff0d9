"""An order's timeline for ``orders show``: stored, confirmed, each change of its states,
each outbox message about it and each attempt to send one, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.order_events import events_of

Entry = dict[str, Any]


def order_timeline(
    engine: Engine, order: dict[str, Any], return_kinds: tuple[str, ...]
) -> list[Entry]:
    """The timeline of a stored order (as ``OrderStore.get`` returns it); its messages are
    those of every kind but the ``return_kinds`` (whose target ids are return ids)."""
    with engine.connect() as conn:
        changes = events_of(conn, order["id"])
        messages = conn.execute(
            select(
                t.outbox.c.id,
                t.outbox.c.kind,
                t.outbox.c.status,
                t.outbox.c.created_at,
            )
            .where(
                t.outbox.c.account == order["account"],
                t.outbox.c.target_id == order["feedamp_id"],
                t.outbox.c.kind.not_in(return_kinds),
            )
            .order_by(t.outbox.c.id)
        ).all()
        attempts = conn.execute(
            select(
                t.outbox_attempts.c.message_id,
                t.outbox_attempts.c.attempt,
                t.outbox_attempts.c.finished_at,
                t.outbox_attempts.c.outcome,
                t.outbox_attempts.c.status_code,
                t.outbox_attempts.c.error,
            )
            .where(t.outbox_attempts.c.message_id.in_([m.id for m in messages]))
            .order_by(t.outbox_attempts.c.id)
        ).all()
    kinds = {m.id: m.kind for m in messages}
    entries: list[Entry] = [{"at": order["first_seen_at"], "event": "stored"}]
    if order["confirmed_at"] is not None:
        entries.append({"at": order["confirmed_at"], "event": "confirmed"})
    entries += [
        {
            "at": change["at"],
            "event": f"{change['field']}_changed",
            "from": change["from_value"],
            "to": change["to_value"],
            "source": change["source"],
        }
        for change in changes
    ]
    entries += [
        {
            "at": m.created_at,
            "event": "message_enqueued",
            "message_id": m.id,
            "kind": m.kind,
            "status": m.status,
        }
        for m in messages
    ]
    entries += [
        {
            "at": a.finished_at,
            "event": "attempt",
            "message_id": a.message_id,
            "kind": kinds[a.message_id],
            "attempt": a.attempt,
            "outcome": a.outcome,
            "status_code": a.status_code,
            "error": a.error,
        }
        for a in attempts
    ]
    return sorted(entries, key=_when)


def _when(entry: Entry) -> datetime:
    at: datetime = entry["at"]
    return at
