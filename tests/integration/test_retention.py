"""Retention on every backend: what a pass prunes, what it keeps, and how it batches."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.retention import RetentionStore
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.retention import Pruned, prunable

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=5)


def store(engine: Engine) -> RetentionStore:
    return RetentionStore(engine, prunable(KINDS.history_kinds))


def prune(engine: Engine, *, batch_size: int = 100, stop: threading.Event | None = None) -> Pruned:
    return store(engine).prune(CUTOFF, batch_size=batch_size, stop=stop or threading.Event())


def message(
    engine: Engine,
    status: str,
    at: datetime,
    *,
    kind: str = "confirm",
    target: str = "A",
    attempts: int = 1,
) -> int:
    """A message in ``status``, dated ``at`` (sent then, or last due then), with attempts."""
    with engine.begin() as conn:
        key = conn.execute(
            t.outbox.insert().values(
                account="main",
                kind=kind,
                target_id=target,
                payload={},
                status=status,
                attempts=attempts,
                created_at=at - timedelta(minutes=1),
                next_attempt_at=at,
                sent_at=at if status == "sent" else None,
            )
        ).inserted_primary_key
        assert key is not None
        message_id = int(key[0])
        for attempt in range(1, attempts + 1):
            conn.execute(
                t.outbox_attempts.insert().values(
                    message_id=message_id,
                    attempt=attempt,
                    finished_at=at,
                    outcome="sent" if status == "sent" else "retry",
                    request={"attempt": attempt},
                )
            )
    return message_id


def order(
    engine: Engine, feedamp_id: str, final_at: datetime | None, *, account: str = "main"
) -> None:
    """A stored order, final since ``final_at`` (None: open)."""
    with engine.begin() as conn:
        conn.execute(
            t.orders.insert().values(
                account=account,
                feedamp_id=feedamp_id,
                first_seen_at=OLD,
                last_seen_at=OLD,
                updated_at=final_at or OLD,
                data={"id": feedamp_id},
                final_at=final_at,
            )
        )


def newest(engine: Engine) -> int:
    """A recent message, the newest row: the one retention keeps to hold the id counter."""
    return message(engine, "sent", RECENT, target="newest")


def remaining(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.scalars(select(t.outbox.c.id)))


def attempts_of(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox_attempts.c.message_id, func.count()).group_by(
                t.outbox_attempts.c.message_id
            )
        )
        return {row[0]: row[1] for row in rows}


def test_sent_and_cancelled_messages_past_the_cutoff_are_pruned_with_their_attempts(
    engine: Engine,
) -> None:
    """An old sent and an old cancelled message go, each with every attempt, and are counted."""
    message(engine, "sent", OLD, target="A", attempts=2)
    message(engine, "cancelled", OLD, target="B", attempts=3)
    last = newest(engine)
    pruned = prune(engine)
    assert remaining(engine) == {last}
    assert pruned.deleted == {
        "feedamp_outbox": 2,
        "feedamp_outbox_attempts": 5,
        "feedamp_events": 0,
        "feedamp_quarantine": 0,
    }
    assert pruned.complete


def test_recent_sent_and_cancelled_messages_are_kept(engine: Engine) -> None:
    """A message sent or cancelled within keep_days stays."""
    kept = {
        message(engine, "sent", RECENT, target="A"),
        message(engine, "cancelled", RECENT, target="B"),
    }
    last = newest(engine)
    assert prune(engine).deleted["feedamp_outbox"] == 0
    assert remaining(engine) == kept | {last}


@pytest.mark.parametrize("status", ["dead", "pending", "in_flight"])
def test_unfinished_and_dead_messages_are_never_pruned(engine: Engine, status: str) -> None:
    """However old, a dead, pending or in-flight message and its attempts stay."""
    kept = message(engine, status, OLD - timedelta(days=3650), attempts=2)
    newest(engine)
    prune(engine)
    assert kept in remaining(engine)
    assert attempts_of(engine)[kept] == 2


def test_attempts_of_kept_messages_are_kept(engine: Engine) -> None:
    """Pruning one message's attempts leaves every attempt of the messages that stay."""
    message(engine, "sent", OLD, target="A", attempts=2)
    dead = message(engine, "dead", OLD, target="B", attempts=4)
    recent = message(engine, "sent", RECENT, target="C", attempts=3)
    last = newest(engine)
    prune(engine)
    assert attempts_of(engine) == {dead: 4, recent: 3, last: 1}


def test_the_newest_message_is_kept_even_when_past_the_cutoff(engine: Engine) -> None:
    """The table is never emptied, so no database can hand out its ids again."""
    message(engine, "sent", OLD, target="A")
    last = message(engine, "sent", OLD, target="B")
    prune(engine)
    assert remaining(engine) == {last}


def test_orders_and_returns_are_never_pruned(engine: Engine) -> None:
    """Retention declares the outbox, the event log and the quarantine only: the seller's
    orders and returns are not its to prune, whatever their age."""
    assert {rule.table for rule in prunable(KINDS.history_kinds)} == {
        "feedamp_outbox",
        "feedamp_events",
        "feedamp_quarantine",
    }
    assert {d.table for rule in prunable(()) for d in rule.dependents} == {
        "feedamp_outbox_attempts"
    }


def test_an_orders_fulfillments_are_kept_while_one_of_them_is_recent(engine: Engine) -> None:
    """An old sent fulfillment stays while a later fulfillment of the same order is recent:
    the later one was checked against it, and may still need it."""
    order(engine, "A", final_at=OLD)
    old = message(engine, "sent", OLD, kind="fulfillment", target="A")
    recent = message(engine, "sent", RECENT, kind="fulfillment", target="A")
    last = newest(engine)
    prune(engine)
    assert remaining(engine) == {old, recent, last}


def test_an_orders_fulfillments_are_kept_while_one_of_them_is_unfinished(engine: Engine) -> None:
    """An old sent fulfillment stays while the order has a dead (or pending) fulfillment."""
    order(engine, "A", final_at=OLD)
    old = message(engine, "sent", OLD, kind="fulfillment", target="A")
    dead = message(engine, "dead", OLD, kind="fulfillment", target="A")
    last = newest(engine)
    prune(engine)
    assert remaining(engine) == {old, dead, last}


def test_an_orders_fulfillments_go_together_once_all_are_past_the_cutoff(engine: Engine) -> None:
    """Every fulfillment of a final order past the cut-off goes; another order's recent one,
    or a recent message of another kind for the same order, does not hold them."""
    order(engine, "A", final_at=OLD)
    order(engine, "B", final_at=OLD)
    message(engine, "sent", OLD, kind="fulfillment", target="A")
    message(engine, "cancelled", OLD, kind="fulfillment", target="A")
    other_order = message(engine, "sent", RECENT, kind="fulfillment", target="B")
    other_kind = message(engine, "sent", RECENT, kind="refund", target="A")
    last = newest(engine)
    prune(engine)
    assert remaining(engine) == {other_order, other_kind, last}


def test_an_open_orders_fulfillments_are_kept_however_old(engine: Engine) -> None:
    """An order not final yet may still ship, and where GET order shows no fulfillments its
    next PUT is built from these: they stay, with their attempts, while a confirm goes."""
    order(engine, "A", final_at=None)
    kept = message(engine, "sent", OLD - timedelta(days=365), kind="fulfillment", target="A")
    message(engine, "sent", OLD, kind="confirm", target="A")
    last = newest(engine)
    prune(engine)
    assert remaining(engine) == {kept, last}
    assert attempts_of(engine)[kept] == 1


def test_an_orders_fulfillments_are_kept_until_it_is_final_for_keep_days(engine: Engine) -> None:
    """An order final only since recently keeps its fulfillments for keep_days more."""
    order(engine, "A", final_at=RECENT)
    kept = message(engine, "sent", OLD, kind="fulfillment", target="A")
    last = newest(engine)
    prune(engine)
    assert remaining(engine) == {kept, last}


def test_the_fulfillments_of_an_order_not_stored_are_kept(engine: Engine) -> None:
    """Without the order's row nothing says it is final, so its fulfillments stay; a final
    order of the same id under another account does not let them go."""
    order(engine, "A", final_at=OLD, account="other")
    kept = message(engine, "sent", OLD, kind="fulfillment", target="A")
    last = newest(engine)
    prune(engine)
    assert remaining(engine) == {kept, last}


def test_a_cancel_dates_the_message_from_that_moment(engine: Engine) -> None:
    """A message pending since long ago and cancelled now is kept for keep_days from now."""
    long_blocked = message(engine, "pending", OLD)
    newest(engine)
    cancelled = OutboxStore(engine, KINDS.return_kinds).cancel(
        long_blocked, reason="given up", now=NOW
    )
    assert cancelled.refused is None
    prune(engine)
    assert long_blocked in remaining(engine)


def test_each_batch_deletes_at_most_batch_size_messages(engine: Engine) -> None:
    """Seven prunable messages in batches of two: four short transactions, none larger."""
    for n in range(7):
        message(engine, "sent", OLD, target=f"T{n}")
    last = newest(engine)
    sizes: list[int] = []
    rules = prunable(KINDS.history_kinds)
    counting = RetentionStore(engine, rules)
    before = len(remaining(engine))

    class Stop(threading.Event):
        """Records the table's size at each rest between batches."""

        def wait(self, timeout: float | None = None) -> bool:
            sizes.append(len(remaining(engine)))
            return False

    pruned = counting.prune(CUTOFF, batch_size=2, stop=Stop())
    assert remaining(engine) == {last}
    assert pruned.batches == 4
    assert [before - size for size in sizes] == [2, 4, 6, 7]


def test_a_stop_ends_the_pass_between_batches(engine: Engine) -> None:
    """Once the stop is set, no further batch starts and the pass says it is incomplete."""
    for n in range(5):
        message(engine, "sent", OLD, target=f"T{n}")
    newest(engine)
    stop = threading.Event()

    class StopAfterFirst(threading.Event):
        def is_set(self) -> bool:
            return stop.is_set()

        def wait(self, timeout: float | None = None) -> bool:
            stop.set()
            return True

    pruned = store(engine).prune(CUTOFF, batch_size=2, stop=StopAfterFirst())
    assert (pruned.batches, pruned.deleted["feedamp_outbox"], pruned.complete) == (1, 2, False)
    assert len(remaining(engine)) == 4


def test_oldest_kept_dates_the_next_message_to_go(engine: Engine) -> None:
    """The oldest sent and cancelled dates are what ``status`` shows; none when there is none."""
    message(engine, "sent", RECENT - timedelta(days=1), target="A")
    message(engine, "sent", RECENT, target="B")
    message(engine, "dead", OLD, target="C")
    oldest = store(engine).oldest_kept()
    assert oldest == {
        "feedamp_outbox": {"sent": RECENT - timedelta(days=1), "cancelled": None},
        "feedamp_events": {"all": None},
        "feedamp_quarantine": {"all": None},
    }


@pytest.mark.backends("postgresql", "mariadb")
def test_two_instances_pruning_at_once_both_succeed(database_url: str, engine: Engine) -> None:
    """Two pruners on one database (without the job lock) skip each other's locked rows:
    neither fails, and together they prune every prunable message once."""
    for n in range(60):
        message(engine, "sent", OLD, target=f"T{n}", attempts=2)
    last = newest(engine)
    other = create_engine_for(database_url)
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(
                    lambda e: RetentionStore(e, prunable(KINDS.history_kinds)).prune(
                        CUTOFF, batch_size=5, stop=threading.Event()
                    ),
                    e,
                )
                for e in (engine, other)
            ]
            results: list[Any] = [run.result(timeout=60) for run in runs]
    finally:
        other.dispose()
    assert remaining(engine) == {last}
    assert sum(r.deleted["feedamp_outbox"] for r in results) == 60
    assert sum(r.deleted["feedamp_outbox_attempts"] for r in results) == 120


def test_a_pass_ends_at_the_first_message_inserted_after_the_cutoff(engine: Engine) -> None:
    """Rows are inserted in time order, so a pass reads no further than the first recent one;
    a row inserted later with an old date by hand is only kept longer, never pruned early."""
    first = message(engine, "sent", OLD, target="A")
    recent = message(engine, "sent", RECENT, target="B")
    backdated = message(engine, "sent", OLD, target="C")
    last = newest(engine)
    prune(engine)
    assert first not in remaining(engine)
    assert remaining(engine) == {recent, backdated, last}


def event(engine: Engine, at: datetime) -> int:
    with engine.begin() as conn:
        key = conn.execute(
            t.events.insert().values(
                type="order.stored", account="main", subject="1", occurred_at=at, body={"v": 1}
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def test_events_older_than_the_cutoff_are_pruned_by_when_they_occurred(engine: Engine) -> None:
    """The event log goes by ``occurred_at`` alone; recent events and the newest one stay."""
    event(engine, OLD)
    kept = [event(engine, RECENT), event(engine, OLD)]
    pruned = prune(engine)
    with engine.connect() as conn:
        assert list(conn.scalars(select(t.events.c.id).order_by(t.events.c.id))) == kept
    assert pruned.deleted["feedamp_events"] == 1
    assert store(engine).oldest_kept()["feedamp_events"] == {"all": OLD}


def quarantined(engine: Engine, fingerprint: str, *, resolved_at: datetime | None) -> int:
    """A quarantine entry first seen long ago, resolved at ``resolved_at`` (None: open)."""
    first_seen = OLD - timedelta(days=3650)
    with engine.begin() as conn:
        key = conn.execute(
            t.quarantine.insert().values(
                account="main",
                kind="order",
                feedamp_id=fingerprint,
                fingerprint=fingerprint,
                reason="id: is not a usable id",
                raw="{}",
                first_seen_at=first_seen,
                last_seen_at=resolved_at or first_seen,
                resolved_at=resolved_at,
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def test_quarantine_entries_resolved_before_the_cutoff_are_pruned(engine: Engine) -> None:
    """An entry resolved keep_days ago goes; one resolved since, and an open one however old
    (an order still held), stay."""
    quarantined(engine, "resolved long ago", resolved_at=OLD)
    kept = [
        quarantined(engine, "open", resolved_at=None),
        quarantined(engine, "resolved lately", resolved_at=RECENT),
        quarantined(engine, "newest", resolved_at=OLD),
    ]
    pruned = prune(engine)
    with engine.connect() as conn:
        ids = conn.scalars(select(t.quarantine.c.id).order_by(t.quarantine.c.id))
        assert list(ids) == kept
    assert pruned.deleted["feedamp_quarantine"] == 1
