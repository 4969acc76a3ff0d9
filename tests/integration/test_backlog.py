"""The outbox backlog metrics read: unfinished messages by kind and status, oldest pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from feedamp_sync.db import tables as t
from feedamp_sync.db.backlog import BacklogStore
from feedamp_sync.outbox.kinds import KINDS

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def insert(engine: Engine, target: str, kind: str, status: str, **columns: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            t.outbox.insert().values(
                account="main", kind=kind, target_id=target, payload={}, status=status, **columns
            )
        )


def test_unfinished_messages_are_counted_by_kind_and_status(engine: Engine) -> None:
    """pending, in_flight and dead are counted; sent and cancelled are not read at all."""
    insert(engine, "1", "confirm", "pending")
    insert(engine, "2", "confirm", "pending")
    insert(engine, "3", "fulfillment", "dead")
    insert(engine, "4", "confirm", "sent")
    insert(engine, "5", "refund", "cancelled")
    counts = BacklogStore(engine, list(KINDS)).backlog().counts
    assert {key: n for key, n in counts.items() if n} == {
        ("confirm", "pending"): 2,
        ("fulfillment", "dead"): 1,
    }


def test_every_known_kind_and_unfinished_status_is_present(engine: Engine) -> None:
    """An empty outbox still reports zeros, so no series vanishes."""
    counts = BacklogStore(engine, list(KINDS)).backlog().counts
    assert len(counts) == len(KINDS) * 3
    assert set(counts.values()) == {0}


def test_the_oldest_pending_message_is_found(engine: Engine) -> None:
    """Its created_at comes back as aware UTC; other statuses do not count."""
    insert(engine, "1", "confirm", "pending", created_at=NOW)
    insert(engine, "2", "confirm", "pending", created_at=NOW + timedelta(minutes=5))
    insert(engine, "3", "confirm", "dead", created_at=NOW - timedelta(days=1))
    assert BacklogStore(engine, list(KINDS)).backlog().oldest_pending_at == NOW


def test_nothing_pending_means_no_oldest(engine: Engine) -> None:
    """The age gauge then reads 0."""
    assert BacklogStore(engine, list(KINDS)).backlog().oldest_pending_at is None
