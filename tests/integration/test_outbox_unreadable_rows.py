"""SQLite keeps any bytes a seller's raw SQL writes as text: a row that is not UTF-8 is
claimed and ended like any other, and the rest of the queue is claimed beside it.

PostgreSQL and MariaDB check the encoding of what they are given, so this is SQLite's alone.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from feedamp_sync.core.attempts import AttemptResult
from feedamp_sync.db.events import EventStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.model import Undecodable
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.storable import json_problems
from tests.integration.test_outbox_store import LATER, claim, enqueue, status_of

pytestmark = pytest.mark.backends("sqlite")

LATIN1_NAME = "X'4dfc6c6c6572'"
""""Müller" written in Latin-1: the 0xfc byte is not UTF-8."""


def insert_raw(engine: Engine, account: str, kind: str, target_id: str, payload: str) -> int:
    """A row as a seller's raw SQL writes it, each value an SQL expression."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO feedamp_outbox (account, kind, target_id, payload) "
            f"VALUES ({account}, {kind}, {target_id}, {payload})"
        )
        return int(conn.scalar(text("SELECT MAX(id) FROM feedamp_outbox")))


def latin1(literal: str) -> str:
    return f"CAST({literal} AS TEXT)"


def test_a_payload_that_is_not_utf8_is_claimed_beside_the_others_for_the_check_to_refuse(
    engine: Engine,
) -> None:
    """The claim reads it with the byte as a lone surrogate, which the storage policy names."""
    good = enqueue(engine, "A")
    bad = insert_raw(engine, "'main'", "'refund'", "'B'", latin1("X'7b2278223a22ff227d'"))

    claimed = {message.id: message for message in claim(OutboxStore(engine, KINDS.return_kinds))}

    assert sorted(claimed) == [good, bad]
    assert json_problems(claimed[bad].payload) == [
        "x: contains an unpaired surrogate (\\udcff), which is not UTF-8"
    ]


@pytest.mark.parametrize("column", ["account", "kind", "target_id"])
def test_a_row_whose_identifying_column_is_not_utf8_is_claimed_and_ended_by_its_id(
    engine: Engine, column: str
) -> None:
    """It is claimed with that column escaped and named as unreadable in place of its payload;
    its dead result and event are recorded; the queue's other rows are claimed beside it."""
    values = {"account": "'main'", "kind": "'refund'", "target_id": "'B'"}
    values[column] = latin1(LATIN1_NAME)
    good = enqueue(engine, "A")
    bad = insert_raw(engine, values["account"], values["kind"], values["target_id"], "'{}'")
    store = OutboxStore(engine, KINDS.return_kinds)

    claimed = {message.id: message for message in claim(store)}
    store.finish("w1", [AttemptResult(claimed[bad], "dead", LATER, error="unreadable")])

    assert sorted(claimed) == [good, bad]
    message = claimed[bad]
    assert getattr(message, column) == "M\\udcfcller"
    assert message.payload == Undecodable(
        "", "contains an unpaired surrogate (\\udcfc), which is not UTF-8", where=column
    )
    assert status_of(engine, bad).status == "dead"
    [event] = EventStore(engine).after(0, types=["message.dead"], limit=10)
    assert event["subject"] == str(bad)


@pytest.mark.parametrize(("column", "length"), [("account", 64), ("target_id", 64)])
def test_a_row_whose_identifying_column_is_longer_than_its_column_is_named_not_cut(
    engine: Engine, column: str, length: int
) -> None:
    """SQLite keeps the length a raw insert gives: the row is claimed with its payload
    replaced by the problem, so it goes dead instead of being acted on under a cut id."""
    values = {"account": "'main'", "kind": "'refund'", "target_id": "'B'"}
    values[column] = f"'{'7' * (length + 6)}'"
    bad = insert_raw(engine, values["account"], values["kind"], values["target_id"], "'{}'")

    [message] = claim(OutboxStore(engine, KINDS.return_kinds))

    assert message.id == bad
    assert message.payload == Undecodable(
        "", f"longer than the column's {length} characters", where=column
    )
