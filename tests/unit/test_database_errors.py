"""Database failures as callers outside db/ see them: one line, and no customer data; what the
jobs call translates outages only."""

from __future__ import annotations

import sqlite3
import traceback

import psycopg.errors
import pymysql.err
import pytest
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)

from feedamp_sync.db.errors import (
    database_error_on_outage,
    describe,
    logged_traceback,
    raises_database_error,
    reason,
)
from feedamp_sync.errors import DatabaseError, DatabaseNotMigrated

CUSTOMER = "buyer@example.com"


@raises_database_error
def locked_read() -> None:
    raise OperationalError(
        "SELECT * FROM feedamp_orders WHERE buyer_email = ?",
        (CUSTOMER,),
        sqlite3.OperationalError("database is locked"),
    )


def test_the_drivers_reason_is_kept_on_one_line() -> None:
    """The message is SQLAlchemy's first line: the driver's class and reason."""
    with pytest.raises(DatabaseError) as raised:
        locked_read()
    assert str(raised.value) == "(sqlite3.OperationalError) database is locked"


def test_neither_the_statement_nor_its_parameters_reach_a_logged_traceback() -> None:
    """The SQLAlchemy exception, which holds the parameters, is not chained."""
    with pytest.raises(DatabaseError) as raised:
        locked_read()
    printed = "".join(traceback.format_exception(raised.value))
    assert CUSTOMER not in printed
    assert "SELECT" not in printed


def test_an_exception_without_a_message_is_named_by_its_class() -> None:
    """An empty reason would leave readiness saying only "unreachable: "."""

    @raises_database_error
    def silent() -> None:
        raise SQLAlchemyError("")

    with pytest.raises(DatabaseError, match=r"^SQLAlchemyError$"):
        silent()


def test_errors_of_our_own_pass_through_unchanged() -> None:
    """A schema not at head is a decision for the caller, not a database failure."""

    @raises_database_error
    def behind() -> None:
        raise DatabaseNotMigrated("the database is at revision 0001")

    with pytest.raises(DatabaseNotMigrated):
        behind()


INSERT = "INSERT INTO feedamp_orders (feedamp_id, data) VALUES (?, ?)"

REFUSALS: dict[str, tuple[Exception, str]] = {
    "postgresql-unique": (
        psycopg.errors.UniqueViolation(
            'duplicate key value violates unique constraint "uq_name"\n'
            "DETAIL:  Key (name)=(Jane Doe) already exists."
        ),
        '(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "uq_name"',
    ),
    "postgresql-check": (
        psycopg.errors.CheckViolation(
            'new row for relation "feedamp_quarantine" violates check constraint "ck_kind"\n'
            "DETAIL:  Failing row contains (1, main, order, Jane Doe)."
        ),
        "(psycopg.errors.CheckViolation) new row for relation "
        '"feedamp_quarantine" violates check constraint "ck_kind"',
    ),
    "postgresql-syntax": (
        psycopg.errors.InvalidTextRepresentation(
            'invalid input syntax for type integer: "Jane Doe"\n'
            "CONTEXT:  unnamed portal parameter $3 = '...'"
        ),
        "(psycopg.errors.InvalidTextRepresentation) invalid input syntax for type integer: "
        "[value hidden]",
    ),
    "postgresql-range": (
        psycopg.errors.NumericValueOutOfRange(
            'value "3000000000" is out of range for type integer'
        ),
        "(psycopg.errors.NumericValueOutOfRange) value [value hidden] is out of range for type "
        "integer",
    ),
    "mariadb-duplicate": (
        pymysql.err.IntegrityError(1062, "Duplicate entry 'Jane O'Doe' for key 'uq_name'"),
        "(pymysql.err.IntegrityError) (1062) Duplicate entry [value hidden] for key 'uq_name'",
    ),
    "mariadb-incorrect": (
        pymysql.err.DataError(
            1366, "Incorrect integer value: 'Jane Doe' for column `db`.`t`.`n` at row 1"
        ),
        "(pymysql.err.DataError) (1366) Incorrect integer value: [value hidden] for column "
        "`db`.`t`.`n` at row 1",
    ),
    "mariadb-truncated": (
        pymysql.err.DataError(1292, "Truncated incorrect DOUBLE value: 'Jane Doe'"),
        "(pymysql.err.DataError) (1292) Truncated incorrect DOUBLE value: [value hidden]",
    ),
    "sqlite-unique": (
        sqlite3.IntegrityError("UNIQUE constraint failed: feedamp_orders.feedamp_id"),
        "(sqlite3.IntegrityError) UNIQUE constraint failed: feedamp_orders.feedamp_id",
    ),
}


@pytest.mark.parametrize(("driver_error", "expected"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_is_told_by_what_identifies_it_without_the_values(
    driver_error: Exception, expected: str
) -> None:
    """The constraint, column or type stays; DETAIL, CONTEXT and every quoted value go."""
    assert reason(IntegrityError(INSERT, ("1", "Jane Doe"), driver_error)) == expected


def test_a_database_error_is_described_with_its_class_on_one_line() -> None:
    """``status`` and ``last_error`` read the SQLAlchemy class, then the reason."""
    error = IntegrityError(INSERT, None, REFUSALS["postgresql-check"][0])
    assert describe(error) == f"IntegrityError: {REFUSALS['postgresql-check'][1]}"


def test_any_other_error_is_described_as_it_says() -> None:
    """Only database errors are rewritten; the rest keep their own words."""
    assert describe(ValueError("not a database error")) == "ValueError: not a database error"


def raised(error: BaseException) -> BaseException:
    """``error`` with the traceback of the statement that raised it."""
    try:
        raise error
    except BaseException as caught:
        return caught


SYNTAX, SYNTAX_REASON = REFUSALS["postgresql-syntax"]


def store_order() -> None:
    """Fails as SQLAlchemy does: its error raised from the driver's."""
    raise DataError(INSERT, None, SYNTAX) from SYNTAX


def test_a_logged_traceback_keeps_the_frames_and_drops_the_data() -> None:
    """Where it failed stays readable; the statement, DETAIL and values are not printed."""
    try:
        store_order()
    except DataError as error:
        printed = logged_traceback(error)
    assert "in store_order" in printed
    assert printed.endswith(f"sqlalchemy.exc.DataError: {SYNTAX_REASON}")
    for data in ("Jane Doe", "feedamp_orders (", "CONTEXT", "portal parameter"):
        assert data not in printed


def test_a_database_error_anywhere_in_the_chain_is_told_safely() -> None:
    """An error raised from a database error prints both, the database's safely."""
    try:
        try:
            store_order()
        except DataError as refused:
            raise RuntimeError("the tick gave up") from refused
    except RuntimeError as error:
        printed = logged_traceback(error)
    assert "The above exception was the direct cause" in printed
    assert printed.endswith("RuntimeError: the tick gave up")
    assert "Jane Doe" not in printed


def test_a_traceback_without_database_errors_is_python_s_own() -> None:
    """Nothing else is rewritten: the text equals what ``traceback`` prints."""
    error = raised(KeyError("shipping_city"))
    assert logged_traceback(error) == "".join(traceback.format_exception(error)).rstrip()


@database_error_on_outage()
def fails_with(error: SQLAlchemyError) -> None:
    raise error


OUTAGES = {
    "unreachable": OperationalError(
        "SELECT 1", None, sqlite3.OperationalError("unable to open database file")
    ),
    "locked elsewhere": OperationalError(
        "UPDATE feedamp_sync_state SET last_started_at = ?",
        (CUSTOMER,),
        sqlite3.OperationalError("database is locked"),
    ),
    "connection gone": InterfaceError("SELECT 1", None, Exception("connection already closed")),
    "connection invalidated": DBAPIError(
        "SELECT 1", None, Exception("server closed the connection"), connection_invalidated=True
    ),
}


@pytest.mark.parametrize("error", OUTAGES.values(), ids=OUTAGES.keys())
def test_an_outage_raises_database_error_without_the_statement(error: SQLAlchemyError) -> None:
    """The database away, or a lock held elsewhere past the wait: our error, on one line."""
    with pytest.raises(DatabaseError) as raised:
        fails_with(error)
    assert str(raised.value) == reason(error)
    assert CUSTOMER not in "".join(traceback.format_exception(raised.value))


def test_a_fault_in_a_statement_or_its_data_passes_unchanged() -> None:
    """A constraint the data breaks is not an outage: it keeps its exception and traceback."""
    duplicate = IntegrityError("INSERT", None, sqlite3.IntegrityError("UNIQUE constraint failed"))
    with pytest.raises(IntegrityError):
        fails_with(duplicate)
