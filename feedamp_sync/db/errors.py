"""Where the database package hands control back, SQLAlchemy's exceptions become ours; where a
database error becomes text, it says what went wrong without the data it was about.

``feedamp/transport.py`` does the same for HTTP. Functions are wrapped one by one where a
caller outside ``db/`` decides on a failure (readiness, metrics, ``check``, the schema check at
start-up), not the engine: code inside the package decides on SQLAlchemy's own exceptions
(``transactions`` runs a deadlock victim again, ``sync_state`` updates the row another instance
inserted first, ``seller_actions`` refuses a number another message took) and must keep seeing
them.

A database error's full text is customer data: SQLAlchemy appends the statement (the engines
hide its parameters), PostgreSQL adds ``DETAIL`` and ``CONTEXT`` lines that quote the refused
row or key (``Failing row contains (...)``, ``Key (x)=(...) already exists``), and MariaDB and
PostgreSQL quote the offending value in the message itself (``Duplicate entry '...' for key``,
``invalid input syntax for type integer: "..."``). :func:`reason` keeps what identifies the
problem, :func:`describe` and :func:`logged_traceback` use it for ``status``, ``last_error``
and the logs.

What a tick calls (the stores on its path, the job lock) and ``db upgrade`` translate outages
only (:func:`database_error_on_outage`): a tick failing because the database is away is an
expected failure, logged on one line, while a fault in a statement or its data keeps its own
exception and traceback.
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from feedamp_sync.errors import DatabaseError

P = ParamSpec("P")
T = TypeVar("T")

HIDDEN: Final = "[value hidden]"

_QUOTED_VALUES: Final = (
    # MariaDB 1062: Duplicate entry '<the key's values>' for key '<key>'
    re.compile(r"(?<=Duplicate entry )'.*'(?= for key )"),
    # MariaDB 1366, 1292: Incorrect <type> value: '<value>' for column <column> at row <n>,
    # Truncated incorrect <type> value: '<value>'
    re.compile(r"(?<=value: )'.*'(?= for column |$)"),
    # PostgreSQL 22P02, 22007 and kin: invalid input syntax for type <type>: "<value>"
    re.compile(r'(?<=: )".*"$'),
    # PostgreSQL 22003: value "<value>" is out of range for type <type>
    re.compile(r'(?<=value )".*"(?= is out of range)'),
)
"""Where a driver's one-line message quotes a value. Each match runs to the last place its
template's fixed text follows, so a value holding a quote is hidden whole."""

_CAUSE: Final = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT: Final = "\nDuring handling of the above exception, another exception occurred:\n\n"


def raises_database_error(function: Callable[P, T]) -> Callable[P, T]:
    """``function``, raising :class:`DatabaseError` for any SQLAlchemy exception.

    The SQLAlchemy exception is not chained: it holds the statement and the driver's full
    message, and a logged traceback would print them.
    """

    @functools.wraps(function)
    def translated(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except SQLAlchemyError as error:
            raise DatabaseError(reason(error)) from None

    return translated


def reason(error: SQLAlchemyError) -> str:
    """The driver's class and the first line of its message, with the values it quotes hidden:
    ``(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "uq"``,
    ``(pymysql.err.IntegrityError) (1062) Duplicate entry [value hidden] for key 'uq'``."""
    original = getattr(error, "orig", None)
    if isinstance(original, BaseException):
        kind = type(original)
        text = f"({kind.__module__}.{kind.__qualname__}) {_driver_message(original)}"
    else:
        text = str(error)
    line = (text.splitlines() or [type(error).__name__])[0]
    for quoted in _QUOTED_VALUES:
        line = quoted.sub(HIDDEN, line)
    return line


def _driver_message(error: BaseException) -> str:
    """PyMySQL's ``(code, message)`` pair without Python's quoting, else the message."""
    match error.args:
        case (int(code), str(message)):
            return f"({code}) {message}"
    return str(error)


def describe(error: BaseException) -> str:
    """``error`` for ``status``, a message's ``last_error`` or a log line: its class and its
    :func:`message`."""
    return f"{type(error).__name__}: {message(error)}"


def message(error: BaseException) -> str:
    """``error``'s message, a database error's as :func:`reason` tells it."""
    return reason(error) if isinstance(error, SQLAlchemyError) else str(error)


def logged_traceback(error: BaseException) -> str:
    """The traceback Python would print for ``error``, each database error in it told by
    :func:`reason`: the frames stay; the statement, the quoted values and the driver's own
    exception (a database error's cause, whose text quotes them again) go."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    link = ""
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if isinstance(current, SQLAlchemyError):
            break
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    return "".join(_printed(exception) + link for exception, link in reversed(chain)).rstrip()


def _printed(error: BaseException) -> str:
    frames = traceback.format_tb(error.__traceback__)
    head = ["Traceback (most recent call last):\n", *frames] if frames else []
    if isinstance(error, SQLAlchemyError):
        kind = type(error)
        last = [f"{kind.__module__}.{kind.__qualname__}: {reason(error)}\n"]
    else:
        last = traceback.format_exception_only(error)
    return "".join(head + last)


def is_outage(error: SQLAlchemyError) -> bool:
    """Whether the database did not answer, dropped the connection or gave up waiting (for a
    lock another session holds, or as a deadlock's victim past its retries): the driver's
    operational errors, as opposed to a fault in a statement or its data."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


@contextmanager
def database_error_on_outage() -> Iterator[None]:
    """Within the block, or the function it decorates, an outage (:func:`is_outage`) raises
    :class:`DatabaseError` with the driver's reason, unchained as in
    :func:`raises_database_error`; any other exception passes unchanged."""
    try:
        yield
    except SQLAlchemyError as error:
        if not is_outage(error):
            raise
        raise DatabaseError(reason(error)) from None
