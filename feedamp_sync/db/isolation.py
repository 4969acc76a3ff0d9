"""One record the database refuses never costs the rest of its page.

The records of a page are checked before they are stored (``model.require_storable`` and the
typed columns' ranges), so a refusal here is one nobody foresaw: a backend's limit, a driver's
encoding. The page is then stored record by record, each alone, and those the database still
refuses are handed back with its reason, to be quarantined.

Only a refusal of the data counts (:func:`refuses_the_data`). A lock waited for in vain
(SQLite's "database is locked" after its busy timeout, MariaDB's lock wait timeout,
PostgreSQL's ``lock_timeout``), a deadlock past its retries, a dropped connection or a database
away say nothing about the records: the page's error is raised as it was, the tick fails as
any tick does, and the next one stores the page, a returns checkpoint still where it was.
Stored record by record, such a page would wait out the same lock once per record (SQLite's
30 s busy timeout each, a page of 100 orders in 50 minutes), and then set its good records
aside as refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from feedamp_sync.db.errors import message

R = TypeVar("R")
S = TypeVar("S")

_PG_VALUE_CLASSES: Final = frozenset({"22", "23", "54"})
"""PostgreSQL's SQLSTATE classes of a refused value: data exception (a NUL, a number out of
range), integrity constraint violation, program limit exceeded (a value too large for an index
row, JSON too complex); psycopg raises the last as an OperationalError."""
_MYSQL_VALUE_ERRORS: Final = frozenset({1118, 1292, 1300, 1411, 1690, 3140, 4025})
"""MariaDB and MySQL refusals of a value that PyMySQL raises as an OperationalError: row size
too large, truncated wrong value, invalid character string, wrong value for type, value out of
range, invalid JSON text, a CHECK constraint failed (MariaDB's ``json_valid`` on a JSON
column). The refusals PyMySQL files as IntegrityError or DataError are taken by their class."""
_RAISED: Final = (SQLAlchemyError, ValueError, OverflowError)
"""What storing a record may raise: the database's errors, and the driver's or SQLAlchemy's
own on a value they cannot convert; :func:`refuses_the_data` tells the refusals apart."""


def save_isolated(
    save: Callable[[Sequence[R]], S], records: Sequence[R]
) -> tuple[list[S], list[tuple[R, str]]]:
    """``save(records)`` at once; if the database refuses the data, each record alone.
    Returns what each save returned, and the records refused with the reason. Any other
    error, at once or for a record alone, is raised."""
    try:
        return [save(records)], []
    except _RAISED as error:
        if not refuses_the_data(error):
            raise
        if len(records) == 1:
            return [], [(records[0], _reason(error))]
    saved: list[S] = []
    refused: list[tuple[R, str]] = []
    for record in records:
        try:
            saved.append(save([record]))
        except _RAISED as error:
            if not refuses_the_data(error):
                raise
            refused.append((record, _reason(error)))
    return saved, refused


def refuses_the_data(error: BaseException) -> bool:
    """Whether ``error``, raised while storing records, refuses their values rather than
    failing on the database's state: a constraint or data error from the database, or a
    value the driver or SQLAlchemy cannot convert (UnicodeEncodeError is a ValueError); not a
    lock wait, a deadlock, an outage or a fault in the statement itself."""
    if isinstance(error, ValueError | OverflowError | IntegrityError | DataError):
        return True
    if isinstance(error, DBAPIError):
        return _refused_value(error.orig)
    if isinstance(error, StatementError):  # a parameter's conversion failed before sending
        return isinstance(error.orig, ValueError | OverflowError)
    return False


def _refused_value(driver_error: BaseException | None) -> bool:
    sqlstate = getattr(driver_error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _PG_VALUE_CLASSES
    args: tuple[object, ...] = getattr(driver_error, "args", ())
    return bool(args) and isinstance(args[0], int) and args[0] in _MYSQL_VALUE_ERRORS


def _reason(error: Exception) -> str:
    return f"the database refused it: {message(error)}"
