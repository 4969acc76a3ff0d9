"""Where the database package hands control back, SQLAlchemy's exceptions become ours.

``feedamp/transport.py`` does the same for HTTP. Functions are wrapped one by one where a
caller outside ``db/`` decides on a failure (readiness, metrics, ``check``, the schema check at
start-up), not the engine: code inside the package decides on SQLAlchemy's own exceptions
(``transactions`` runs a deadlock victim again, ``sync_state`` updates the row another instance
inserted first, ``seller_actions`` refuses a number another message took) and must keep seeing
them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from feedamp_sync.errors import DatabaseError

P = ParamSpec("P")
T = TypeVar("T")


def raises_database_error(function: Callable[P, T]) -> Callable[P, T]:
    """``function``, raising :class:`DatabaseError` for any SQLAlchemy exception.

    The SQLAlchemy exception is not chained: it holds the statement's parameters, which are
    customer data, and a logged traceback would print them.
    """

    @functools.wraps(function)
    def translated(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except SQLAlchemyError as error:
            raise DatabaseError(reason(error)) from None

    return translated


def reason(error: SQLAlchemyError) -> str:
    """The first line of SQLAlchemy's message: the driver's reason, before the lines that
    hold the statement and its parameters."""
    return (str(error).splitlines() or [type(error).__name__])[0]
