"""Engines for the three supported backends, configured for a multi-threaded daemon.

Every engine hides the parameters of its statements (``hide_parameters``): they are order
data, and SQLAlchemy would otherwise print them in every error message and logged traceback.

Each backend gets what it needs to be safe under concurrency, on every pooled connection:

- SQLite: WAL (readers never block the writer), a 30 s busy timeout, ``synchronous=FULL``
  (a committed order survives power loss), foreign keys on. Text is read with a decoder that
  cannot fail (:data:`SQLITE_TEXT`): SQLite keeps whatever bytes a seller's raw SQL wrote (a
  Latin-1 name, say), and pysqlite would fail the whole query on one row that is not UTF-8.
  Such a row comes back holding lone surrogates, which the storage policy refuses, so that
  row alone goes dead. pysqlite's own transaction
  handling is switched off and every transaction starts with ``BEGIN IMMEDIATE``: pysqlite
  would otherwise begin lazily, so a transaction that reads and then writes could find
  another writer ahead of it and fail with "database is locked" at once, a snapshot
  conflict the busy timeout cannot wait out. Taking the write lock at ``BEGIN`` turns that
  into an ordinary wait. Transactions are short, so serialising them costs little.
- PostgreSQL (psycopg 3): a checked pool sized from the settings, and custom plans only
  (``plan_cache_mode = force_custom_plan``): psycopg prepares a statement after five runs, and
  PostgreSQL may then keep a generic plan chosen while a table was empty or unanalyzed (a
  sequential scan), which made each page of a first large backlog slower than the last.
- MariaDB/MySQL (PyMySQL): utf8mb4, a UTC session time zone, READ COMMITTED (fewer gap-lock
  deadlocks on the outbox queue), connections checked and recycled before the server's
  ``wait_timeout`` drops them.

The server databases' drivers are the package's extras (``feedamp-sync[postgresql]``,
``feedamp-sync[mariadb]``); a URL whose driver is not installed is a ConfigError naming the
extra to install, before anything connects.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from pathlib import Path
from typing import Any, Final, Literal, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry

from feedamp_sync.db.types import json_text
from feedamp_sync.errors import ConfigError

Backend = Literal["sqlite", "postgresql", "mysql"]

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
SQLITE_TEXT: Final = functools.partial(bytes.decode, encoding="utf-8", errors="surrogateescape")
"""SQLite's text as str: UTF-8, each byte that is not written as a lone surrogate (U+DC80 to
U+DCFF). A partial of the C method: reading text runs no Python code."""
MYSQL_POOL_RECYCLE_SECONDS: Final = 3600

# Bare URLs name SQLAlchemy's default drivers, which are not installed; use the ones that are.
_DEFAULT_DRIVERS: Final = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_EXTRAS: Final = {"psycopg": "postgresql", "pymysql": "mariadb"}
"""The package extra that installs each driver this release supports."""
_SQLITE_PRAGMAS: Final = (
    # The busy timeout first: switching to WAL needs a lock another process may hold.
    f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)


def create_engine_for(
    url: str, *, pool_size: int = 10, idle_transaction_seconds: float | None = None
) -> Engine:
    """An engine for ``url`` (SQLite, PostgreSQL or MariaDB/MySQL), ready for many threads.

    With ``idle_transaction_seconds``, the server ends a session of this engine whose
    transaction sits idle that long (PostgreSQL's ``idle_in_transaction_session_timeout``,
    MariaDB's ``idle_transaction_timeout``), releasing its locks: a process frozen or stuck
    between two statements of a transaction (SIGSTOP, a stalled VM) would otherwise hold up
    every other instance waiting on a row it locked, the event log's writer lock included.
    The daemon's transactions never wait on anything but the database between statements.
    """
    parsed = make_url(url)
    if parsed.drivername in _DEFAULT_DRIVERS:
        parsed = parsed.set(drivername=_DEFAULT_DRIVERS[parsed.drivername])
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, pool_size)
    if backend == "postgresql":
        return _postgresql_engine(parsed, pool_size, idle_transaction_seconds)
    if backend in ("mysql", "mariadb"):
        return _mysql_engine(parsed, pool_size, idle_transaction_seconds)
    raise ConfigError(
        f"database.url: unsupported database {backend!r}; use sqlite, postgresql or mysql/mariadb"
    )


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (a relative path is the working directory's, as SQLite
    resolves it); None for the other backends and an in-memory database."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    return Path(database)


def backend_name(engine: Engine) -> Backend:
    """The backend family; MariaDB counts as ``mysql`` (same dialect, same SQL)."""
    name = engine.dialect.name
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    if name in ("mysql", "mariadb"):
        return "mysql"
    raise ValueError(f"unsupported database dialect {name!r}")


def _create_engine(url: URL, **options: Any) -> Engine:
    """``sa.create_engine``, which imports the URL's driver: one that is missing is named."""
    try:
        return sa.create_engine(url, **options)
    except (ImportError, NoSuchModuleError) as exc:
        raise ConfigError(_missing_driver(url, exc)) from exc


def _server_version(cursor: Any) -> str:
    cursor.execute("SELECT VERSION()")
    row = cursor.fetchone()
    return str(row[0]) if row else ""


def _missing_driver(url: URL, error: Exception) -> str:
    driver = url.get_driver_name()
    extra = _EXTRAS.get(driver)
    if extra is not None:
        return (
            f"database.url: the {url.get_backend_name()} driver {driver} is not installed; "
            f"install feedamp-sync with it: pip install 'feedamp-sync[{extra}]'"
        )
    return (
        f"database.url: the driver {driver!r} cannot be loaded ({error}); use sqlite:///..., "
        "postgresql+psycopg://... or mysql+pymysql://... (mariadb+pymysql://...)"
    )


def _sqlite_engine(url: URL, pool_size: int) -> Engine:
    engine = _create_engine(
        url, pool_size=pool_size, json_serializer=json_text, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        connection = cast(sqlite3.Connection, dbapi_connection)
        # None = pysqlite issues no BEGIN/COMMIT of its own; _begin_immediate does.
        connection.isolation_level = None
        connection.text_factory = SQLITE_TEXT
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgresql_engine(url: URL, pool_size: int, idle_seconds: float | None) -> Engine:
    engine = _create_engine(
        url,
        pool_size=pool_size,
        pool_pre_ping=True,
        json_serializer=json_text,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _custom_plans(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
            if idle_seconds is not None:
                milliseconds = max(1, math.ceil(idle_seconds * 1000))
                cursor.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
        finally:
            cursor.close()
        # Committed, or the pool's rollback on return would undo the setting.
        dbapi_connection.commit()

    return engine


def _mysql_engine(url: URL, pool_size: int, idle_seconds: float | None) -> Engine:
    engine = _create_engine(
        url,
        pool_size=pool_size,
        pool_pre_ping=True,
        pool_recycle=MYSQL_POOL_RECYCLE_SECONDS,
        isolation_level="READ COMMITTED",
        connect_args={"charset": "utf8mb4"},
        json_serializer=json_text,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _utc_session(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        # DATETIME columns hold naive UTC; NOW() and friends must agree with them.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET time_zone = '+00:00'")
            if idle_seconds is not None and "MariaDB" in _server_version(cursor):
                # MariaDB's own variable (10.3+); MySQL has no such timeout.
                cursor.execute(f"SET idle_transaction_timeout = {max(1, math.ceil(idle_seconds))}")
        finally:
            cursor.close()

    return engine
