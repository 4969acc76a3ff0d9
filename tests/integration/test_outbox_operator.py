"""The operator's outbox queries and actions: list, show, retry and cancel, on every backend."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from feedamp_sync.core.attempts import AttemptResult
from feedamp_sync.db import tables as t
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.errors import ApiUnavailable
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import conclude
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.retries import Backoff, Jitter, RetryPolicy

POLICY = RetryPolicy(
    max_attempts=2, backoff=Backoff(base_seconds=0.001, cap_seconds=0.001, jitter=Jitter.EQUAL)
)


def clock(minutes: float = 0) -> datetime:
    """A time after every server default (which use the real clock), in order."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1, minutes=minutes)


def enqueue(engine: Engine, target: str = "A", kind: str = "confirm", **columns: Any) -> int:
    with engine.begin() as conn:
        key = conn.execute(
            t.outbox.insert().values(
                account=columns.pop("account", "main"),
                kind=kind,
                target_id=target,
                payload={"cp_order_number": f"FA-{target}"},
                **columns,
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def claim_one(store: OutboxStore, now: datetime) -> OutboxMessage:
    [message] = store.claim("w1", now, limit=1, lease_seconds=60)
    return message


def fail(store: OutboxStore, message: OutboxMessage, now: datetime) -> str:
    """One attempt ending in a 503, concluded by the real retry policy."""
    result = conclude(
        message,
        ApiUnavailable("busy", status_code=503),
        now=now,
        policy=POLICY,
        rng=random.Random(1).random,
    )
    assert store.finish("w1", [result]) == []
    return result.outcome


def make_dead(engine: Engine, store: OutboxStore, target: str = "A") -> int:
    """A message that used its whole budget of two attempts."""
    message_id = enqueue(engine, target)
    assert fail(store, claim_one(store, clock(1)), clock(1)) == "retry"
    assert fail(store, claim_one(store, clock(2)), clock(2)) == "dead"
    return message_id


def row(engine: Engine, message_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(t.outbox).where(t.outbox.c.id == message_id)).one()


def test_retry_puts_a_dead_message_back_due_now(engine: Engine) -> None:
    """A retried dead message is pending again, due at the time of the retry."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = make_dead(engine, store)
    retried_at = clock(3)
    result = store.retry(message_id, reason="outage over", now=retried_at)
    stored = row(engine, message_id)
    assert (result.status, result.refused) == ("pending", None)
    assert (stored.status, stored.next_attempt_at) == ("pending", retried_at)


def test_a_retried_message_gets_a_fresh_budget_and_keeps_counting_attempts(
    engine: Engine,
) -> None:
    """After a retry, two more attempts are allowed; attempts goes on from 2 to 4."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = make_dead(engine, store)
    store.retry(message_id, reason="outage over", now=clock(3))
    third = claim_one(store, clock(3))
    assert (third.attempts, third.attempts_budget_start, third.attempts_in_budget) == (3, 2, 1)
    assert fail(store, third, clock(3)) == "retry"
    assert fail(store, claim_one(store, clock(4)), clock(4)) == "dead"
    history = store.message(message_id)
    assert history is not None
    assert [a["attempt"] for a in history["attempt_history"]] == [1, 2, 3, 4]
    assert row(engine, message_id).attempts == 4


def test_the_reason_is_recorded_in_the_note(engine: Engine) -> None:
    """Each action appends its stamped reason to the note, keeping what was there."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = make_dead(engine, store)
    retried_at, cancelled_at = clock(3), clock(5)  # read once: the clock moves on meanwhile
    store.retry(message_id, reason="outage over", now=retried_at)
    claimed = claim_one(store, clock(3))
    fail(store, claimed, clock(3))
    fail(store, claim_one(store, clock(4)), clock(4))
    store.cancel(message_id, reason="given up", now=cancelled_at)
    assert row(engine, message_id).note == (
        f"{retried_at.isoformat(timespec='seconds')} retry: outage over\n"
        f"{cancelled_at.isoformat(timespec='seconds')} cancel: given up"
    )


def test_retry_refuses_a_message_that_is_not_dead(engine: Engine) -> None:
    """Retrying a pending message changes nothing and says why."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine)
    result = store.retry(message_id, reason="why not", now=clock())
    assert result.status == "pending"
    assert result.refused is not None
    assert "only a dead message can be retried" in result.refused
    assert row(engine, message_id).note is None


def test_cancel_unblocks_the_next_message_of_the_target(engine: Engine) -> None:
    """A dead head blocks its target until cancelled; then the next message is claimed."""
    store = OutboxStore(engine, KINDS.return_kinds)
    dead = make_dead(engine, store)
    later = enqueue(engine)
    assert store.claim("w1", clock(3), limit=5, lease_seconds=60) == []
    assert store.cancel(dead, reason="duplicate", now=clock(3)).status == "cancelled"
    assert claim_one(store, clock(3)).id == later


def test_cancel_refuses_a_message_being_delivered(engine: Engine) -> None:
    """An in-flight message with a live lease cannot be cancelled."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine)
    claim_one(store, clock())
    result = store.cancel(message_id, reason="stop", now=clock(0.5))
    assert result.status == "in_flight"
    assert result.refused is not None
    assert "stop the daemon" in result.refused


def test_cancel_refuses_a_sent_message(engine: Engine) -> None:
    """A sent message has taken effect; cancel refuses it."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine)
    message = claim_one(store, clock())
    store.finish("w1", [AttemptResult(message, "sent", clock())])
    result = store.cancel(message_id, reason="oops", now=clock(1))
    assert (result.status, row(engine, message_id).status) == ("sent", "sent")
    assert result.refused is not None


def test_a_cancelled_worker_can_no_longer_record_its_result(engine: Engine) -> None:
    """Cancelling a claim whose lease ran out fences its old worker off."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine)
    message = claim_one(store, clock())
    assert store.cancel(message_id, reason="stuck", now=clock(2)).refused is None
    lost = store.finish("w1", [AttemptResult(message, "sent", clock(2))])
    assert ([r.message.id for r in lost], row(engine, message_id).status) == (
        [message_id],
        "cancelled",
    )


def test_an_unknown_message_is_reported(engine: Engine) -> None:
    """Acting on an id that does not exist is refused with the id named."""
    result = OutboxStore(engine, KINDS.return_kinds).cancel(424242, reason="x", now=clock())
    assert (result.status, result.refused) == (None, "no outbox message with id 424242")


def test_messages_filter_by_status_kind_and_account(engine: Engine) -> None:
    """messages() lists newest first and filters by status, kind and account."""
    store = OutboxStore(engine, KINDS.return_kinds)
    dead = make_dead(engine, store, "A")
    refund = enqueue(engine, "B", kind="refund")
    other = enqueue(engine, "C", account="eu")

    def ids(**filters: Any) -> list[int]:
        return [m["id"] for m in store.messages(**filters)]

    assert ids() == [other, refund, dead]
    assert ids(status="dead") == [dead]
    assert ids(kind="refund") == [refund]
    assert ids(account="eu") == [other]
    assert ids(status="pending", account="main") == [refund]
    assert ids(limit=2) == [other, refund]


def test_message_shows_every_attempt_with_what_was_sent(engine: Engine) -> None:
    """message() returns the row and each attempt's outcome, status, error and request."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine)
    first = claim_one(store, clock())
    store.finish(
        "w1",
        [
            AttemptResult(
                first, "retry", clock(), clock(), "HTTP 503: busy", 503, {"cp_order_number": "X"}
            )
        ],
    )
    second = claim_one(store, clock(1))
    store.finish("w1", [AttemptResult(second, "sent", clock(1), status_code=200, response={})])
    shown = store.message(message_id)
    assert shown is not None
    assert (shown["status"], shown["payload"]) == ("sent", {"cp_order_number": "FA-A"})
    assert [
        (a["attempt"], a["outcome"], a["status_code"], a["error"], a["request"])
        for a in shown["attempt_history"]
    ] == [
        (1, "retry", 503, "HTTP 503: busy", {"cp_order_number": "X"}),
        (2, "sent", 200, None, None),
    ]
    assert store.message(424242) is None
