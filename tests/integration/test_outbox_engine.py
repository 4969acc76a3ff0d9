"""The outbox engine's drain on a real database, with handlers standing in for FeedAMP."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.core.facts import Target
from feedamp_sync.db import tables as t
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox import engine as outbox_engine_module
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.engine import EngineSettings, OutboxEngine
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.outbox.kinds import Kinds
from feedamp_sync.retries import Backoff, Jitter, RetryPolicy

WAIT_SECONDS = 10.0


def later() -> datetime:
    """A clock past every row's server-default due time (the database's real now)."""
    return datetime.now(UTC) + timedelta(minutes=5)


class RecordingHandler:
    """Delivers at once, or, given ``until``, holds each delivery until that event is set
    and half a second more (long enough for the drain to see a stop and act on it)."""

    def __init__(self, *, until: threading.Event | None = None) -> None:
        self.delivered: list[int] = []
        self.started = threading.Event()
        self._until = until
        self._lock = threading.Lock()

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        self.started.set()
        if self._until is not None:
            assert self._until.wait(WAIT_SECONDS)
            time.sleep(0.5)
        with self._lock:
            self.delivered.append(message.id)
        return Delivered(request=message.payload, response={"ok": True})


class StaggeredHandler(RecordingHandler):
    """Delivers message ``n`` of the payload in 20 to 160 ms, so deliveries end one by one
    while others still run."""

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        time.sleep(0.02 * (message.payload["n"] % 8 + 1))
        return super().deliver(client, message)


def insert(engine: Engine, count: int, targets: int | None = None) -> list[int]:
    """``count`` fulfillments spread over ``targets`` orders (one order each by default)."""
    with engine.begin() as conn:
        conn.execute(
            t.outbox.insert(),
            [
                {
                    "account": "main",
                    "kind": "fulfillment",
                    "target_id": str(n % (targets or count)),
                    "payload": {"n": n},
                }
                for n in range(count)
            ],
        )
        return list(conn.scalars(select(t.outbox.c.id).order_by(t.outbox.c.id)))


def outbox_engine(
    engine: Engine,
    handler: RecordingHandler,
    *,
    concurrency: int,
    batch_size: int,
    lease_seconds: float = 60,
) -> OutboxEngine:
    settings = EngineSettings(
        owner="w1",
        concurrency=concurrency,
        batch_size=batch_size,
        lease_seconds=lease_seconds,
        drain_seconds=WAIT_SECONDS,
    )
    return OutboxEngine(
        OutboxStore(engine, ()),
        {"main": cast(FeedampClient, object())},  # the handler never uses it
        Kinds([Kind("fulfillment", Target.ORDER, deliver=handler.deliver)]),
        settings,
        RetryPolicy(3, Backoff(1, 10, Jitter.EQUAL)),
        clock=later,
    )


def statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {
            row.id: row.status for row in conn.execute(select(t.outbox.c.id, t.outbox.c.status))
        }


def test_a_drain_sends_every_message_and_each_target_in_order(engine: Engine) -> None:
    """More messages than one claim holds, three per order: all sent, each order's in turn."""
    ids = insert(engine, 120, targets=40)
    handler = RecordingHandler()
    summary = outbox_engine(engine, handler, concurrency=4, batch_size=16).drain(threading.Event())
    assert summary.sent == 120
    assert set(statuses(engine).values()) == {"sent"}
    for target in range(40):
        own = [message_id for message_id in ids if (message_id - ids[0]) % 40 == target]
        assert [i for i in handler.delivered if i in own] == own


def test_a_drain_leaves_no_worker_thread_behind(engine: Engine) -> None:
    """Its idle workers are joined before it returns, so a daemon stopping right after it
    finds no thread to take for a call stuck on FeedAMP."""
    insert(engine, 16)
    drain = outbox_engine(engine, RecordingHandler(), concurrency=8, batch_size=16)
    assert drain.drain(threading.Event()).sent == 16
    assert [thread for thread in threading.enumerate() if thread.name.startswith("outbox")] == []


def test_a_drain_waiting_for_deliveries_sleeps_instead_of_polling(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With results waiting for their flush and deliveries still running, the drain sleeps
    until the flush is due; one that polled would look thousands of times, each look taking
    the interpreter lock from the workers."""
    insert(engine, 16)
    looks = 0
    collect = outbox_engine_module._collect

    def counted(*args: Any) -> Any:
        nonlocal looks
        looks += 1
        return collect(*args)

    monkeypatch.setattr(outbox_engine_module, "_collect", counted)
    drain = outbox_engine(engine, StaggeredHandler(), concurrency=8, batch_size=16)
    assert drain.drain(threading.Event()).sent == 16
    assert looks < 100


def test_a_stop_hands_back_claims_that_never_started_without_sending_them(
    engine: Engine,
) -> None:
    """Stopping while one delivery runs: it finishes and is recorded; the waiting rest are
    released, untouched by any handler."""
    ids = insert(engine, 6)
    stop = threading.Event()
    handler = RecordingHandler(until=stop)
    drain_engine = outbox_engine(engine, handler, concurrency=1, batch_size=10)
    drained: list[Any] = []
    worker = threading.Thread(target=lambda: drained.append(drain_engine.drain(stop)))
    worker.start()
    assert handler.started.wait(WAIT_SECONDS)
    stop.set()
    worker.join(WAIT_SECONDS)
    assert not worker.is_alive()
    [summary] = drained
    assert (summary.sent, summary.released) == (1, 5)
    assert handler.delivered == [ids[0]]
    assert statuses(engine) == {ids[0]: "sent"} | dict.fromkeys(ids[1:], "pending")


def test_a_claim_taken_over_while_waiting_for_a_worker_is_never_sent(engine: Engine) -> None:
    """A process frozen past its lease: the renewal finds a waiting claim held by another
    instance, and the worker that reaches it later sends nothing."""
    ids = insert(engine, 2)
    taken_over = threading.Event()
    handler = RecordingHandler(until=taken_over)
    drain_engine = outbox_engine(engine, handler, concurrency=1, batch_size=10, lease_seconds=1)
    drained: list[Any] = []
    worker = threading.Thread(target=lambda: drained.append(drain_engine.drain(threading.Event())))
    worker.start()
    assert handler.started.wait(WAIT_SECONDS)
    with engine.begin() as conn:
        conn.execute(t.outbox.update().where(t.outbox.c.id == ids[1]).values(lease_owner="w2"))
    taken_over.set()  # the first delivery ends half a second later, after a renewal
    worker.join(WAIT_SECONDS)
    assert not worker.is_alive()
    [summary] = drained
    assert handler.delivered == [ids[0]]
    assert summary.lease_lost == 1
    with engine.connect() as conn:
        owner = conn.scalar(select(t.outbox.c.lease_owner).where(t.outbox.c.id == ids[1]))
    assert owner == "w2"
