"""A transaction the database aborted as a deadlock's victim is run again, after a backoff."""

from __future__ import annotations

import random
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError

from feedamp_sync.db import transactions
from feedamp_sync.db.transactions import ATTEMPTS, BACKOFF, in_transaction


class Deadlock(Exception):
    sqlstate = "40P01"


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The re-runs' waits, not slept, with the random source at its middle."""
    slept: list[float] = []
    monkeypatch.setattr(transactions, "time", SimpleNamespace(sleep=slept.append))
    monkeypatch.setattr(random, "random", lambda: 0.5)
    return slept


class Work:
    """A transaction's work that the database aborts with ``error`` on its first ``aborts``
    runs, and that counts its runs."""

    def __init__(self, error: Exception, aborts: int) -> None:
        self.error, self.aborts, self.runs = error, aborts, 0

    def __call__(self, connection: Connection) -> str:
        self.runs += 1
        if self.runs <= self.aborts:
            raise DBAPIError("UPDATE feedamp_outbox ...", None, self.error)
        return "done"


def test_a_deadlock_victim_is_run_again_after_the_retry_policys_backoff(
    engine: Engine, waits: list[float]
) -> None:
    """The waits are the one backoff (equal jitter), growing from 25 ms to 200 ms."""
    work = Work(Deadlock(), aborts=2)
    assert in_transaction(engine, work) == "done"
    assert work.runs == 3
    assert waits == [BACKOFF.delay(1, lambda: 0.5), BACKOFF.delay(2, lambda: 0.5)]
    assert 0.025 <= waits[0] < waits[1] <= 0.2


def test_a_deadlock_on_every_run_fails_after_the_last_attempt(
    engine: Engine, waits: list[float]
) -> None:
    work = Work(Deadlock(), aborts=ATTEMPTS)
    with pytest.raises(DBAPIError):
        in_transaction(engine, work)
    assert (work.runs, len(waits)) == (ATTEMPTS, ATTEMPTS - 1)


def test_any_other_database_error_fails_at_once(engine: Engine, waits: list[float]) -> None:
    work = Work(ValueError("syntax error"), aborts=1)
    with pytest.raises(DBAPIError):
        in_transaction(engine, work)
    assert (work.runs, waits) == (1, [])
