"""Database failures as callers outside db/ see them: one line, and no customer data."""

from __future__ import annotations

import sqlite3
import traceback

import pytest
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from feedamp_sync.db.errors import raises_database_error
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
