"""Column types that behave the same on SQLite, PostgreSQL and MariaDB.

Every time is timezone-aware UTC in Python. PostgreSQL stores ``timestamptz``; SQLite and
MariaDB store naive UTC, which :class:`UtcDateTime` marks as UTC again on the way out, so no
caller ever sees a naive datetime.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from sqlalchemy import JSON, DateTime, Text, cast
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from feedamp_sync.model import Undecodable

UNDECODABLE_TEXT_CHARS: Final = 200
"""How much of an undecodable value's text is kept to show an operator."""


class UtcDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC that always comes back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: every time must be timezone-aware")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type() -> TypeEngine[Any]:
    """JSON everywhere; JSONB on PostgreSQL so sellers can index into it.

    Python's None is stored as SQL NULL (not the JSON text ``null``), whether it is written
    as a literal or through a bound parameter of a batched statement, so ``IS NULL`` finds it.
    """
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


_JSON_TEXT_OPTIONS: Final = (
    orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def json_text(value: Any) -> str:
    """A JSON column's text, written by orjson: several times faster than the standard library,
    and every recorded result stores FeedAMP's answer, often a whole order.

    What orjson would write differently goes through the standard library, as before:
    integers beyond 64 bits, and datetimes, dataclasses and subclasses of the JSON types
    (refused or converted as ``json.dumps`` does). orjson writes NaN and Infinity, which no
    database's JSON accepts, as null; none comes from FeedAMP (a response holding one is
    refused when read).
    """
    try:
        return orjson.dumps(value, option=_JSON_TEXT_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, allow_nan=False)


def json_as_text(column: ColumnElement[Any]) -> ColumnElement[str]:
    """A JSON column read as its stored text, for rows anyone may have written: decoding it
    in SQLAlchemy's result processing would fail the whole query for one bad row."""
    return cast(column, Text).label(column.key or "json_text")


def decoded(text: str | None) -> Any:
    """The value of a JSON column read with :func:`json_as_text`; :class:`Undecodable` for
    text that is not JSON or too deeply nested to decode."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except RecursionError:
        reason = "nested too deeply to decode"
    except ValueError as error:
        reason = f"not valid JSON ({error})"
    return Undecodable(text[:UNDECODABLE_TEXT_CHARS], reason)


class utcnow(FunctionElement[datetime]):
    """The database's current UTC time, usable as a server default on every backend.

    Server defaults matter here: a seller's system may insert outbox rows with plain SQL and
    must get UTC ``created_at``/``next_attempt_at`` whatever its session time zone.
    """

    type = UtcDateTime()
    inherit_cache = True


@compiles(utcnow, "postgresql")
def _utcnow_postgresql(element: utcnow, compiler: SQLCompiler, **kw: Any) -> str:
    return "now()"


@compiles(utcnow, "sqlite")
def _utcnow_sqlite(element: utcnow, compiler: SQLCompiler, **kw: Any) -> str:
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"


@compiles(utcnow, "mysql")
@compiles(utcnow, "mariadb")
def _utcnow_mysql(element: utcnow, compiler: SQLCompiler, **kw: Any) -> str:
    return "(UTC_TIMESTAMP(6))"
