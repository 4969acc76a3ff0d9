"""The outbox queue: per-target order, leases, fencing, and results."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from feedamp_sync.core.attempts import AttemptResult, OrderConfirmed
from feedamp_sync.db import outbox
from feedamp_sync.db import tables as t
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.kinds import KINDS

NOW = datetime.now(UTC).replace(microsecond=0)  # server defaults use the real clock
LATER = NOW + timedelta(hours=1)


def enqueue(
    engine: Engine, target: str, kind: str = "fulfillment", account: str = "main", **columns: Any
) -> int:
    """Insert a row the way a seller's system does: four columns, the rest defaulted."""
    with engine.begin() as conn:
        result = conn.execute(
            t.outbox.insert().values(
                account=account, kind=kind, target_id=target, payload={"n": target}, **columns
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def status_of(engine: Engine, message_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(t.outbox).where(t.outbox.c.id == message_id)).one()


def claim(
    store: OutboxStore, owner: str = "w1", now: datetime = LATER, limit: int = 10
) -> list[OutboxMessage]:
    return store.claim(owner, now, limit=limit, lease_seconds=60)


def finish(
    store: OutboxStore,
    message: OutboxMessage,
    outcome: str = "sent",
    owner: str = "w1",
    **extra: Any,
) -> list[AttemptResult]:
    return store.finish(owner, [AttemptResult(message, outcome, LATER, **extra)])  # type: ignore[arg-type]


def test_a_plain_insert_is_claimable_at_once(engine: Engine) -> None:
    """A row with only account, kind, target_id and payload is due immediately."""
    message_id = enqueue(engine, "A")
    claimed = claim(
        OutboxStore(engine, KINDS.return_kinds), now=datetime.now(UTC) + timedelta(seconds=5)
    )
    assert [(m.id, m.attempts, m.payload) for m in claimed] == [(message_id, 1, {"n": "A"})]


def test_claim_marks_messages_in_flight_with_a_lease(engine: Engine) -> None:
    """A claimed message is in_flight, owned, and leased until now + lease."""
    message_id = enqueue(engine, "A")
    claim(OutboxStore(engine, KINDS.return_kinds))
    row = status_of(engine, message_id)
    assert (row.status, row.lease_owner, row.attempts) == ("in_flight", "w1", 1)
    assert row.lease_expires_at == LATER + timedelta(seconds=60)


def test_only_the_head_message_of_a_target_is_claimed(engine: Engine) -> None:
    """A later message for the same order waits while an earlier one is unsent."""
    first, _, other = enqueue(engine, "A"), enqueue(engine, "A"), enqueue(engine, "B")
    claimed = claim(OutboxStore(engine, KINDS.return_kinds))
    assert sorted(m.id for m in claimed) == [first, other]


def test_the_next_message_follows_once_the_head_is_sent(engine: Engine) -> None:
    """Sending the head makes the next message of that target claimable."""
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "A")
    second = enqueue(engine, "A")
    [head] = claim(store)
    finish(store, head)
    assert [m.id for m in claim(store)] == [second]


def test_heads_behind_a_long_queue_of_one_target_are_found(engine: Engine) -> None:
    """Due messages are read a slice at a time (the first of `limit` rows): 25 waiting
    behind one head do not hide the heads of other targets queued after them."""
    first = enqueue(engine, "A")
    for _ in range(24):
        enqueue(engine, "A")
    later = [enqueue(engine, target) for target in "BCD"]
    claimed = claim(OutboxStore(engine, KINDS.return_kinds), limit=10)
    assert [m.id for m in claimed] == [first, *later]


def test_a_claim_takes_no_more_of_an_account_than_its_room(engine: Engine) -> None:
    """The backlog's account gets its room; the rest of the claim goes to the others."""
    backlog = [enqueue(engine, str(n), account="a") for n in range(30)]
    others = [enqueue(engine, str(n), account="b") for n in range(3)]
    store = OutboxStore(engine, KINDS.return_kinds)
    claimed = store.claim(
        "w1", LATER, limit=20, lease_seconds=60, room={"a": 5, "b": 5}.__getitem__
    )
    assert sorted(m.id for m in claimed) == sorted([*backlog[:5], *others])


def test_a_claim_deals_an_accounts_kinds_in_turn_order(engine: Engine) -> None:
    confirms = [enqueue(engine, str(n), kind="confirm") for n in range(10)]
    shipment = enqueue(engine, "99")
    store = OutboxStore(engine, KINDS.return_kinds)
    claimed = store.claim("w1", LATER, limit=2, lease_seconds=60, turn_order=KINDS.turn_order)
    assert sorted(m.id for m in claimed) == [confirms[0], shipment]


def test_lanes_given_all_they_have_due_are_read_together_with_their_heads_only(
    engine: Engine,
) -> None:
    """Twelve accounts, each with a head and a message queued behind it on the same target:
    a claim with room for all takes every head and nothing queued behind one."""
    heads = []
    for n in range(12):
        heads.append(enqueue(engine, "T", account=f"acct-{n:02d}"))
        enqueue(engine, "T", account=f"acct-{n:02d}")
    claimed = claim(OutboxStore(engine, KINDS.return_kinds), limit=100)
    assert sorted(m.id for m in claimed) == heads


def test_a_message_finished_between_the_claims_two_reads_is_skipped(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another instance may finish a due row after the claim read it (READ COMMITTED): the
    claim passes over it and takes the rest."""
    store = OutboxStore(engine, KINDS.return_kinds)
    finished, other = enqueue(engine, "A"), enqueue(engine, "B")
    first_blocking = outbox._first_blocking

    def meanwhile_sent(conn: Connection, targets: set[tuple[str, str]], is_return: Any) -> Any:
        conn.execute(t.outbox.update().where(t.outbox.c.id == finished).values(status="sent"))
        return first_blocking(conn, targets, is_return)

    monkeypatch.setattr(outbox, "_first_blocking", meanwhile_sent)
    assert [m.id for m in claim(store)] == [other]


def test_a_dead_message_blocks_only_its_own_target(engine: Engine) -> None:
    """Dead A blocks later A messages; B flows."""
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "A")
    enqueue(engine, "A")
    other = enqueue(engine, "B")
    [head, b] = claim(store)
    finish(store, head, "dead", error="rejected")
    finish(store, b)
    later_b = enqueue(engine, "B")
    assert [m.id for m in claim(store)] == [later_b]
    assert status_of(engine, other).status == "sent"


def test_orders_and_returns_with_the_same_id_are_different_targets(engine: Engine) -> None:
    """Return 5 and order 5 are not ordered with respect to each other."""
    enqueue(engine, "5", kind="refund")
    enqueue(engine, "5", kind="return_authorization")
    assert len(claim(OutboxStore(engine, KINDS.return_kinds))) == 2


def test_a_future_message_is_not_claimed(engine: Engine) -> None:
    """A message scheduled for later is left alone until then."""
    enqueue(engine, "A", next_attempt_at=LATER + timedelta(minutes=5))
    assert claim(OutboxStore(engine, KINDS.return_kinds)) == []


def test_retry_reschedules_and_keeps_the_error(engine: Engine) -> None:
    """A retry returns the message to pending with its next time and last error."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    [message] = claim(store)
    finish(
        store,
        message,
        "retry",
        next_attempt_at=LATER + timedelta(seconds=30),
        error="HTTP 503: busy",
        status_code=503,
    )
    row = status_of(engine, message_id)
    assert (row.status, row.last_error, row.last_status_code, row.lease_owner) == (
        "pending",
        "HTTP 503: busy",
        503,
        None,
    )
    assert row.next_attempt_at == LATER + timedelta(seconds=30)


def test_deferred_does_not_count_the_attempt(engine: Engine) -> None:
    """A deferred attempt (nothing reached FeedAMP) gives the attempt back."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    [message] = claim(store)
    finish(store, message, "deferred", next_attempt_at=LATER, error="401")
    assert status_of(engine, message_id).attempts == 0


def test_each_attempt_is_recorded(engine: Engine) -> None:
    """Every finished attempt leaves a row with its outcome, status code and request."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    [message] = claim(store)
    finish(store, message, "sent", status_code=200, request={"x": 1}, response={"ok": True})
    with engine.connect() as conn:
        attempt = conn.execute(select(t.outbox_attempts)).one()
    assert (
        attempt.message_id,
        attempt.attempt,
        attempt.outcome,
        attempt.status_code,
        attempt.request,
    ) == (message_id, 1, "sent", 200, {"x": 1})


def test_a_sent_answer_is_kept_on_the_message_and_a_failed_one_on_its_attempt(
    engine: Engine,
) -> None:
    """FeedAMP's answer is stored once: a success's on the message, a failure's per attempt."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    [first] = claim(store)
    finish(store, first, "retry", next_attempt_at=LATER, status_code=503, response={"e": 1})
    [second] = claim(store, now=LATER + timedelta(seconds=1))
    finish(store, second, "sent", status_code=200, response={"order": "A"})
    with engine.connect() as conn:
        answers = conn.execute(
            select(t.outbox_attempts.c.response).order_by(t.outbox_attempts.c.attempt)
        ).scalars()
        assert list(answers) == [{"e": 1}, None]
    assert status_of(engine, message_id).response == {"order": "A"}


def claim_again(
    store: OutboxStore, message: OutboxMessage, outcome: str, **extra: Any
) -> OutboxMessage:
    """Finish ``message``'s attempt as told, put it back if it died (as ``outbox retry``
    does), and claim its next attempt."""
    finish(store, message, outcome, next_attempt_at=LATER, **extra)
    if outcome == "dead":
        assert store.retry(message.id, reason="checked", now=LATER).refused is None
    [again] = claim(store, now=LATER + timedelta(seconds=1))
    return again


def test_a_retry_after_an_attempt_with_an_unknown_outcome_is_told_so(engine: Engine) -> None:
    """The attempt's record says its request may have been processed: the next claim knows."""
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "A", kind="refund")
    [first] = claim(store)
    again = claim_again(store, first, "retry", status_code=503, effect_unknown=True)
    assert (again.attempts, again.earlier_outcome_unknown) == (2, True)


def test_an_operator_retry_after_a_refusal_knows_nothing_took_effect(engine: Engine) -> None:
    """A 409 then ``outbox retry``: attempt 2 is no retry of an unknown outcome."""
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "A", kind="refund")
    [first] = claim(store)
    again = claim_again(store, first, "dead", status_code=409, error="HTTP 409: duplicate")
    assert (again.attempts, again.earlier_outcome_unknown) == (2, False)


def test_an_attempt_whose_lease_ran_out_unrecorded_may_have_applied(engine: Engine) -> None:
    """The worker died after claiming: nothing says what it sent."""
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "A", kind="refund")
    claim(store)
    store.release_expired(LATER + timedelta(seconds=61))
    [again] = claim(store, now=LATER + timedelta(seconds=62))
    assert (again.attempts, again.earlier_outcome_unknown) == (2, True)


def test_a_claim_reads_whether_the_number_is_the_messages_own(engine: Engine) -> None:
    """own_number is set where the number was generated and read back by every claim."""
    store = OutboxStore(engine, KINDS.return_kinds)
    own, given = enqueue(engine, "A", kind="refund", own_number=True), enqueue(engine, "B")
    claimed = {m.id: m.own_number for m in claim(store)}
    assert claimed == {own: True, given: False}


def test_an_expired_lease_returns_the_message_to_the_queue(engine: Engine) -> None:
    """release_expired hands back claims whose lease ran out."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    claim(store)
    assert store.release_expired(LATER + timedelta(seconds=61)) == 1
    assert status_of(engine, message_id).status == "pending"


def test_a_worker_whose_claim_was_taken_over_cannot_change_the_row(engine: Engine) -> None:
    """Fencing: after expiry and a new claim, the old worker's result is refused."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    [old] = claim(store, owner="slow")
    store.release_expired(LATER + timedelta(seconds=61))
    [new] = claim(store, owner="fast", now=LATER + timedelta(seconds=62))
    lost = finish(store, old, "dead", owner="slow", error="late")
    assert [r.message.id for r in lost] == [message_id]
    assert (new.attempts, status_of(engine, message_id).status) == (2, "in_flight")


def test_extending_a_lease_keeps_the_claim(engine: Engine) -> None:
    """A renewed lease is not released at the original expiry."""
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "A")
    [message] = claim(store)
    store.extend_leases("w1", [message], LATER + timedelta(seconds=120))
    assert store.release_expired(LATER + timedelta(seconds=61)) == 0


def test_extending_leases_skips_and_names_only_the_claims_still_held(engine: Engine) -> None:
    """A claim another instance took over is neither renewed nor returned as held."""
    store = OutboxStore(engine, KINDS.return_kinds)
    kept_id, taken_id = enqueue(engine, "A"), enqueue(engine, "B")
    messages = claim(store)
    with engine.begin() as conn:
        conn.execute(t.outbox.update().where(t.outbox.c.id == taken_id).values(lease_owner="w2"))
    kept = store.extend_leases("w1", messages, LATER + timedelta(seconds=120))
    assert [m.id for m in kept] == [kept_id]
    assert status_of(engine, taken_id).lease_expires_at == LATER + timedelta(seconds=60)


def test_a_claim_still_sending_at_shutdown_is_handed_back_as_an_unknown_outcome(
    engine: Engine,
) -> None:
    """Its request may have reached FeedAMP: the attempt stays counted, and the next claim
    is told an earlier attempt's outcome is unknown."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    [message] = claim(store)
    assert store.release("w1", [message], LATER, started=True) == 1
    row = status_of(engine, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    [again] = claim(store)
    assert (again.attempts, again.earlier_outcome_unknown) == (2, True)


def test_a_claim_never_started_at_shutdown_is_handed_back_uncounted(engine: Engine) -> None:
    """Nothing of it reached FeedAMP: its attempt is given back, so the next claim is its
    first and no refusal is ever taken for the effect of a request never sent."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "A")
    [message] = claim(store)
    assert store.release("w1", [message], LATER, started=False) == 1
    row = status_of(engine, message_id)
    assert (row.status, row.attempts) == ("pending", 0)
    [again] = claim(store)
    assert (again.attempts, again.earlier_outcome_unknown) == (1, False)


def test_a_sent_confirm_marks_the_order_confirmed(engine: Engine) -> None:
    """Recording a sent confirm sets confirmed_at and the state FeedAMP answered."""
    with engine.begin() as conn:
        conn.execute(
            t.orders.insert().values(
                account="main",
                feedamp_id="7",
                state="ORDERED",
                cp_order_number="FA7",
                first_seen_at=NOW,
                last_seen_at=NOW,
                updated_at=NOW,
                data={},
            )
        )
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "7", kind="confirm")
    [message] = claim(store)
    finish(
        store,
        message,
        response={"id": "7", "state": "PLACED"},
        confirmed=OrderConfirmed("main", "7", "PLACED"),
    )
    with engine.connect() as conn:
        row = conn.execute(select(t.orders)).one()
    assert (row.state, row.confirmed_at) == ("PLACED", LATER)


def test_a_batch_records_each_outcome_and_refuses_only_the_lost_claim(engine: Engine) -> None:
    """One finish() of mixed outcomes: each row gets its own result; a taken-over one is kept."""
    store = OutboxStore(engine, KINDS.return_kinds)
    ids = [enqueue(engine, target) for target in "ABCDE"]
    messages = claim(store)
    with engine.begin() as conn:  # another instance took E over after its lease ran out
        conn.execute(t.outbox.update().where(t.outbox.c.id == ids[4]).values(lease_owner="w2"))
    sent, retry, dead, deferred, taken = messages
    lost = store.finish(
        "w1",
        [
            AttemptResult(taken, "sent", LATER),
            AttemptResult(retry, "retry", LATER, next_attempt_at=LATER, error="busy"),
            AttemptResult(sent, "sent", LATER, status_code=200, response={"ok": True}),
            AttemptResult(dead, "dead", LATER, error="refused", status_code=400),
            AttemptResult(deferred, "deferred", LATER, next_attempt_at=LATER),
        ],
    )
    rows = [status_of(engine, message_id) for message_id in ids]
    assert [r.message.id for r in lost] == [ids[4]]
    assert [(r.status, r.attempts, r.lease_owner) for r in rows] == [
        ("sent", 1, None),
        ("pending", 1, None),
        ("dead", 1, None),
        ("pending", 0, None),
        ("in_flight", 1, "w2"),
    ]
    assert (rows[0].response, rows[1].last_error, rows[2].last_status_code) == (
        {"ok": True},
        "busy",
        400,
    )


def test_a_sent_confirm_without_a_state_keeps_the_stored_one(engine: Engine) -> None:
    """An answer that names no state leaves the order's state alone; it is still confirmed."""
    with engine.begin() as conn:
        conn.execute(
            t.orders.insert().values(
                account="main",
                feedamp_id="8",
                state="ORDERED",
                cp_order_number="FA8",
                first_seen_at=NOW,
                last_seen_at=NOW,
                updated_at=NOW,
                data={},
            )
        )
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "8", kind="confirm")
    [message] = claim(store)
    finish(store, message, response=None, confirmed=OrderConfirmed("main", "8", None))
    with engine.connect() as conn:
        row = conn.execute(select(t.orders)).one()
        response_is_null = conn.execute(select(t.outbox.c.response.is_(None))).scalar_one()
    assert (row.state, row.confirmed_at, bool(response_is_null)) == ("ORDERED", LATER, True)


def test_counts_cover_every_status(engine: Engine) -> None:
    """counts() reports all five statuses, zero included."""
    enqueue(engine, "A")
    assert OutboxStore(engine, KINDS.return_kinds).counts() == {
        "pending": 1,
        "in_flight": 0,
        "sent": 0,
        "dead": 0,
        "cancelled": 0,
    }


def test_concurrent_claimers_never_share_a_message(engine: Engine) -> None:
    """Four threads claiming at once get disjoint messages."""
    for n in range(60):
        enqueue(engine, f"T{n}")
    store = OutboxStore(engine, KINDS.return_kinds)
    results: list[list[OutboxMessage]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4, timeout=10)

    def worker(index: int) -> None:
        barrier.wait()
        while batch := claim(store, owner=f"w{index}", limit=5):
            results[index].extend(batch)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ids = [m.id for batch in results for m in batch]
    assert len(ids) == len(set(ids)) == 60
