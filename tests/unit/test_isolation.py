"""Which failures to store a page refuse its records, and what a page does about each."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import psycopg.errors
import pymysql.err
import pytest
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InternalError,
    OperationalError,
    PendingRollbackError,
    StatementError,
)

from feedamp_sync.db.isolation import refuses_the_data, save_isolated

UPDATE = "UPDATE feedamp_returns SET last_seen_at=? WHERE id=?"


def psycopg_error(sqlstate: str) -> Exception:
    return psycopg.errors.lookup(sqlstate)("refused")


REFUSALS: dict[str, Exception] = {
    "sqlite-constraint": IntegrityError(UPDATE, None, sqlite3.IntegrityError("NOT NULL")),
    "sqlite-too-big": DataError(UPDATE, None, sqlite3.DataError("string or blob too big")),
    "postgresql-nul": DataError(UPDATE, None, psycopg.DataError("cannot contain NUL (0x00)")),
    "postgresql-out-of-range": DataError(UPDATE, None, psycopg_error("22003")),
    "postgresql-unique": IntegrityError(UPDATE, None, psycopg_error("23505")),
    "postgresql-index-row-too-large": OperationalError(UPDATE, None, psycopg_error("54000")),
    "mariadb-incorrect-string": DataError(
        UPDATE, None, pymysql.err.DataError(1366, "Incorrect string value")
    ),
    "mariadb-check-failed": OperationalError(
        UPDATE, None, pymysql.err.OperationalError(4025, "CONSTRAINT `data` failed")
    ),
    "mariadb-truncated-value": OperationalError(
        UPDATE, None, pymysql.err.OperationalError(1292, "Truncated incorrect value")
    ),
    "driver-encoding": UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    "driver-overflow": OverflowError("Python int too large to convert to SQLite INTEGER"),
    "parameter-conversion": StatementError("bind", UPDATE, None, ValueError("naive datetime")),
}
NOT_REFUSALS: dict[str, Exception] = {
    "sqlite-locked": OperationalError(UPDATE, None, sqlite3.OperationalError("database is locked")),
    "postgresql-lock-timeout": OperationalError(UPDATE, None, psycopg_error("55P03")),
    "postgresql-deadlock": OperationalError(UPDATE, None, psycopg_error("40P01")),
    "postgresql-serialization": OperationalError(UPDATE, None, psycopg_error("40001")),
    "postgresql-statement-timeout": OperationalError(UPDATE, None, psycopg_error("57014")),
    "postgresql-disk-full": OperationalError(UPDATE, None, psycopg_error("53100")),
    "postgresql-syntax": InternalError(UPDATE, None, psycopg_error("42601")),
    "mariadb-lock-wait-timeout": OperationalError(
        UPDATE, None, pymysql.err.OperationalError(1205, "Lock wait timeout exceeded")
    ),
    "mariadb-deadlock": OperationalError(
        UPDATE, None, pymysql.err.OperationalError(1213, "Deadlock found")
    ),
    "mariadb-connection-lost": OperationalError(
        UPDATE, None, pymysql.err.OperationalError(2013, "Lost connection")
    ),
    "rolled-back-session": PendingRollbackError("roll back first"),
    "parameter-type-fault": StatementError("bind", UPDATE, None, TypeError("not a str")),
}


@pytest.mark.parametrize("error", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_of_the_values_is_a_refusal(error: BaseException) -> None:
    """A constraint, a value out of range, text a backend or driver cannot take."""
    assert refuses_the_data(error)


@pytest.mark.parametrize("error", NOT_REFUSALS.values(), ids=NOT_REFUSALS.keys())
def test_a_lock_a_deadlock_or_an_outage_is_no_refusal(error: BaseException) -> None:
    """Waiting for a lock in vain, a deadlock's victim, a database away or a statement's own
    fault say nothing about the records."""
    assert not refuses_the_data(error)


class Saves:
    """A page's save that fails with ``page_error`` for more than one record, and with
    ``errors[record]`` for a record alone; it records what it was asked to save."""

    def __init__(self, page_error: Exception, errors: dict[str, Exception] | None = None) -> None:
        self.page_error = page_error
        self.errors = errors or {}
        self.asked: list[list[str]] = []

    def __call__(self, records: Sequence[str]) -> str:
        self.asked.append(list(records))
        if len(records) > 1:
            raise self.page_error
        if records[0] in self.errors:
            raise self.errors[records[0]]
        return records[0]


REFUSED = REFUSALS["postgresql-nul"]
LOCKED = NOT_REFUSALS["sqlite-locked"]


def test_a_refused_page_is_saved_record_by_record_and_the_refused_one_handed_back() -> None:
    saves = Saves(REFUSED, {"2": REFUSED})
    saved, refused = save_isolated(saves, ["1", "2", "3"])
    assert (saved, [record for record, _ in refused]) == (["1", "3"], ["2"])
    assert refused[0][1].startswith("the database refused it: (psycopg")


def test_a_page_that_waited_for_a_lock_in_vain_fails_without_a_save_per_record() -> None:
    """Each record alone would wait out the same lock again (30 s on SQLite)."""
    saves = Saves(LOCKED)
    with pytest.raises(OperationalError):
        save_isolated(saves, ["1", "2", "3"])
    assert saves.asked == [["1", "2", "3"]]


def test_a_lock_waited_for_in_vain_by_one_record_fails_the_page() -> None:
    """A refused page stored record by record still fails on a lock, never holding the
    record that met it as refused."""
    saves = Saves(REFUSED, {"2": LOCKED})
    with pytest.raises(OperationalError):
        save_isolated(saves, ["1", "2", "3"])


def test_a_refused_page_of_one_record_hands_it_back_at_once() -> None:
    saves = Saves(REFUSED, {"9": REFUSED})
    saved, refused = save_isolated(saves, ["9"])
    assert (saved, [record for record, _ in refused], saves.asked) == ([], ["9"], [["9"]])
