"""Recording results: what FeedAMP or a sink answered never keeps a message from ending.

Answers are whatever they sent (a NUL or half an emoji in a gift message, a sink's binary
body), and a seller's own rules on the tables may refuse a row; every test runs on each backend.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, text

from feedamp_sync.core.attempts import AttemptResult, OrderConfirmed
from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import Backend, backend_name
from feedamp_sync.db.events import EventStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.kinds import KINDS
from tests.integration.test_event_log import stored_order
from tests.integration.test_outbox_store import LATER, claim, enqueue, status_of

POISON = "A\x00B\ud83d"
"""A NUL (PostgreSQL stores none) and half an emoji (no UTF-8 at all)."""
ESCAPED = "A\\u0000B\\ud83d"

NO_POISON: dict[Backend, str] = {
    "sqlite": (
        "CREATE TRIGGER seller_no_poison BEFORE UPDATE ON feedamp_outbox "
        "WHEN NEW.response LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'seller rule'); END"
    ),
    "postgresql": (
        "ALTER TABLE feedamp_outbox ADD CONSTRAINT seller_no_poison "
        "CHECK (response IS NULL OR CAST(response AS text) NOT LIKE '%poison%')"
    ),
    "mysql": (
        "ALTER TABLE feedamp_outbox ADD CONSTRAINT seller_no_poison "
        "CHECK (response IS NULL OR response NOT LIKE '%poison%')"
    ),
}
"""A seller's own rule that refuses an answer holding "poison", on each backend."""


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def result(message: OutboxMessage, outcome: str, **extra: Any) -> AttemptResult:
    return AttemptResult(message, outcome, LATER, **extra)  # type: ignore[arg-type]


def attempt_of(engine: Engine, message_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(t.outbox_attempts).where(t.outbox_attempts.c.message_id == message_id)
        ).one()


def forbid_poison(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(NO_POISON[backend_name(engine)]))


def test_an_answer_holding_text_no_database_stores_is_recorded_escaped(engine: Engine) -> None:
    """The message is sent, its answer kept with the NUL and the half emoji escaped, nesting
    past 31 levels kept as text and an integer past 64 bits as digits."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "7")
    [message] = claim(store)
    answer = {"order": {"id": "7", "gift_message": POISON}, "deep": nested(40), "big": 10**70}

    assert store.finish("w1", [result(message, "sent", status_code=200, response=answer)]) == []

    row = status_of(engine, message_id)
    assert (row.status, row.response["order"], row.response["big"]) == (
        "sent",
        {"id": "7", "gift_message": ESCAPED},
        str(10**70),
    )


def test_an_error_quoting_text_no_database_stores_is_recorded_escaped(engine: Engine) -> None:
    """A sink's answer with a NUL, quoted in the error, ends the message dead all the same: on
    the message, its attempt and its ``message.dead`` event, escaped."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "7")
    [message] = claim(store)
    error = f"webhook sink erp answered: {POISON}"

    store.finish("w1", [result(message, "dead", error=error, response={"body": POISON})])

    row, attempt = status_of(engine, message_id), attempt_of(engine, message_id)
    [event] = EventStore(engine).after(0, types=["message.dead"], limit=10)
    expected = f"webhook sink erp answered: {ESCAPED}"
    assert (row.status, row.last_error, attempt.error, attempt.response) == (
        "dead",
        expected,
        expected,
        {"body": ESCAPED},
    )
    assert event["body"]["error"] == expected


def test_a_confirmed_state_no_database_stores_is_recorded_escaped(engine: Engine) -> None:
    """The order is confirmed, with FeedAMP's state as far as it can be stored."""
    stored_order(engine, "7")
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "7", kind="confirm")
    [message] = claim(store)
    confirmed = OrderConfirmed("main", "7", f"PLACED{POISON}")

    store.finish("w1", [result(message, "sent", status_code=200, confirmed=confirmed)])

    with engine.connect() as conn:
        order = conn.execute(select(t.orders).where(t.orders.c.feedamp_id == "7")).one()
    assert (order.state, order.confirmed_at) == (f"PLACED{ESCAPED}", LATER)


def test_a_result_the_database_refuses_is_recorded_without_its_answer_beside_the_others(
    engine: Engine,
) -> None:
    """A seller's rule refuses one answer of the batch: every message is sent, the refused
    one with no answer and the database's reason as its error, the others with theirs."""
    forbid_poison(engine)
    store = OutboxStore(engine, KINDS.return_kinds)
    ids = [enqueue(engine, target) for target in "ABC"]
    first, refused, last = claim(store)
    answers = [{"order": "A"}, {"order": "poison"}, {"order": "C"}]

    lost = store.finish(
        "w1",
        [
            result(message, "sent", status_code=200, response=answer)
            for message, answer in zip([first, refused, last], answers, strict=True)
        ],
    )

    rows = [status_of(engine, message_id) for message_id in ids]
    assert lost == []
    assert [(row.status, row.response) for row in rows] == [
        ("sent", {"order": "A"}),
        ("sent", None),
        ("sent", {"order": "C"}),
    ]
    assert rows[1].last_error.startswith("the database refused this attempt's record: ")
    assert attempt_of(engine, ids[1]).error == rows[1].last_error
    sent = EventStore(engine).after(0, types=["message.sent"], limit=10)
    assert sorted(int(event["subject"]) for event in sent) == ids


def test_a_confirm_whose_answer_the_database_refuses_still_confirms_its_order(
    engine: Engine,
) -> None:
    """Alone in its flush, the refused confirm is sent and its order confirmed; the order
    keeps the state it had, since FeedAMP's could not be recorded."""
    forbid_poison(engine)
    stored_order(engine, "7")
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "7", kind="confirm")
    [message] = claim(store)
    confirmed = OrderConfirmed("main", "7", "PLACED")

    store.finish(
        "w1",
        [result(message, "sent", status_code=200, response={"poison": 1}, confirmed=confirmed)],
    )

    with engine.connect() as conn:
        order = conn.execute(select(t.orders).where(t.orders.c.feedamp_id == "7")).one()
    assert (status_of(engine, message_id).status, order.state, order.confirmed_at) == (
        "sent",
        "ORDERED",
        LATER,
    )


NEVER_SENT_B: dict[Backend, str] = {
    "sqlite": (
        "CREATE TRIGGER seller_never_sent_b BEFORE UPDATE ON feedamp_outbox "
        "WHEN NEW.target_id = 'B' AND NEW.status = 'sent' "
        "BEGIN SELECT RAISE(ABORT, 'seller rule'); END"
    ),
    "postgresql": (
        "ALTER TABLE feedamp_outbox ADD CONSTRAINT seller_never_sent_b "
        "CHECK (target_id <> 'B' OR status <> 'sent')"
    ),
    "mysql": (
        "ALTER TABLE feedamp_outbox ADD CONSTRAINT seller_never_sent_b "
        "CHECK (target_id <> 'B' OR status <> 'sent')"
    ),
}
"""A seller's own rule that refuses any record of target B's messages as sent."""


def test_a_result_the_database_refuses_even_without_its_answer_leaves_the_others_recorded(
    engine: Engine,
) -> None:
    """Not even the outcome of one result can be written: it is handed back unrecorded (its
    lease runs out and its next claim takes the outcome as unknown), and the rest of the
    batch is recorded."""
    with engine.begin() as conn:
        conn.execute(text(NEVER_SENT_B[backend_name(engine)]))
    store = OutboxStore(engine, KINDS.return_kinds)
    ids = [enqueue(engine, target) for target in "ABC"]
    messages = claim(store)

    lost = store.finish(
        "w1", [result(message, "sent", status_code=200, response={}) for message in messages]
    )

    assert [message.message.id for message in lost] == [ids[1]]
    assert [status_of(engine, message_id).status for message_id in ids] == [
        "sent",
        "in_flight",
        "sent",
    ]
