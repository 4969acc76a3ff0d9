"""Schema migrations: Alembic driven from code, safe when several instances start at once.

No ``alembic.ini`` is needed: the configuration is built here and the scripts are found in
the installed package (``feedamp_sync/migrations``, put there by the wheel) or, in a source
checkout, in the repository's top-level ``migrations/``. ``migrations/env.py`` runs on the
connection handed over in ``config.attributes["connection"]``.

:func:`upgrade` holds a database-wide lock while it migrates (a PostgreSQL advisory lock,
a MariaDB named lock, or an ``flock`` beside the SQLite file) and reads the revision again
once it holds it, so of several processes starting together exactly one migrates and the
others find the work done.

The version table is ``feedamp_alembic_version``: every table of ours carries the
``feedamp_`` prefix, and a seller's database may already hold another application's
``alembic_version``.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

import feedamp_sync
from feedamp_sync.db.engine import backend_name
from feedamp_sync.db.errors import database_error_on_outage, raises_database_error
from feedamp_sync.db.tables import metadata
from feedamp_sync.errors import DatabaseNotMigrated

VERSION_TABLE: Final = "feedamp_alembic_version"
LOCK_TIMEOUT_SECONDS: Final = 60
UPGRADE_COMMAND: Final = "feedamp-sync db upgrade"

# Advisory lock key: "feedamp" in ASCII. PostgreSQL scopes advisory locks to the database.
_PG_LOCK_KEY: Final = 0x66656564616D70
# MariaDB named locks are server-wide: databases on one server migrate in turn, harmlessly.
_MYSQL_LOCK_NAME: Final = "feedamp_sync_migrate"
_PG_LOCK_NOT_AVAILABLE: Final = "55P03"
_FILE_LOCK_POLL_SECONDS: Final = 0.05


def migrations_dir() -> Path:
    """Where the migration scripts are: inside the installed package, else the checkout."""
    package = Path(feedamp_sync.__file__).resolve().parent
    installed = package / "migrations"
    return installed if installed.is_dir() else package.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration without an ini file, optionally bound to ``connection``."""
    config = Config()
    # ConfigParser interpolation: a literal '%' in the path must be doubled.
    config.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def context_options(connection: Connection) -> dict[str, Any]:
    """Options for ``context.configure``, shared by env.py and :func:`check_drift`."""
    return {
        "target_metadata": metadata,
        "version_table": VERSION_TABLE,
        # Types are compared too. MariaDB reflects JSON as LONGTEXT and Alembic's MySQL
        # support already counts the two as synonyms, so no hook is needed to silence it.
        "compare_type": True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        "render_as_batch": connection.dialect.name == "sqlite",
    }


@database_error_on_outage()
def upgrade(engine: Engine) -> bool:
    """Bring the schema to head; True if this call applied anything, False if already there.

    A database server that does not answer raises DatabaseError, as for every other command.
    """
    head = head_revision()
    with migration_lock(engine), migration_connection(engine) as connection:
        current = _current(connection)
        if current == head:
            return False
        _refuse_unknown(current)
        command.upgrade(alembic_config(connection), "head")
        return True


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema back to ``revision`` (``base`` drops every table of ours)."""
    with migration_lock(engine), migration_connection(engine) as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, or None when it has never been migrated."""
    with engine.connect() as connection:
        return _current(connection)


def head_revision() -> str:
    """The newest schema revision this release knows."""
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts found in {migrations_dir()}")
    return head


def is_at_head(engine: Engine) -> bool:
    """Whether the database schema is exactly what this release expects."""
    return current_revision(engine) == head_revision()


@raises_database_error
def require_head(engine: Engine) -> None:
    """Refuse to work on a schema this release does not expect (DatabaseNotMigrated)."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    _refuse_unknown(current)
    found = "has no feedamp-sync tables" if current is None else f"is at revision {current}"
    raise DatabaseNotMigrated(
        f"the database {found}, this release needs revision {head}; run '{UPGRADE_COMMAND}'"
    )


def check_drift(engine: Engine) -> list[str]:
    """What autogenerate finds between tables.py and the database; empty means they agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=context_options(connection))
        return [_describe(diff) for diff in compare_metadata(context, metadata)]


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the database-wide migration lock; raise TimeoutError after LOCK_TIMEOUT_SECONDS."""
    backend = backend_name(engine)
    if backend == "sqlite":
        with _file_lock(engine.url.database):
            yield
        return
    # A dedicated connection outside any transaction: the lock belongs to its session.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if backend == "postgresql":
            _pg_lock(connection)
            unlock = text("SELECT pg_advisory_unlock(:key)").bindparams(key=_PG_LOCK_KEY)
        else:
            _mysql_lock(connection)
            unlock = text("SELECT RELEASE_LOCK(:name)").bindparams(name=_MYSQL_LOCK_NAME)
        try:
            yield
        finally:
            connection.execute(unlock)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for the migrations, committed when the block ends.

    PostgreSQL and SQLite roll back a failed migration whole; MariaDB commits each DDL
    statement as it runs, whatever we do.

    On SQLite, foreign keys are off meanwhile, as SQLite's own recipe for rebuilding a table
    requires: batch mode drops and recreates tables, and dropping a parent table with
    foreign keys on would cascade-delete its children's rows. The keys are checked before
    the commit instead.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return
        _sqlite_foreign_keys(connection, enabled=False)
        try:
            with connection.begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration breaks foreign keys: {broken[:5]}")
        finally:
            _sqlite_foreign_keys(connection, enabled=True)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _current(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _refuse_unknown(current: str | None) -> None:
    """A revision we do not know means a newer release migrated this database."""
    if current is None or any(s.revision == current for s in _scripts().walk_revisions()):
        return
    raise DatabaseNotMigrated(
        f"the database schema is at revision {current}, which this release of feedamp-sync "
        "does not know: a newer release has migrated it; upgrade feedamp-sync"
    )


def _pg_lock(connection: Connection) -> None:
    connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
    try:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
            raise _lock_timeout() from exc
        raise
    finally:
        connection.exec_driver_sql("RESET lock_timeout")


def _mysql_lock(connection: Connection) -> None:
    got = connection.execute(
        text("SELECT GET_LOCK(:name, :timeout)"),
        {"name": _MYSQL_LOCK_NAME, "timeout": LOCK_TIMEOUT_SECONDS},
    ).scalar()
    if got != 1:
        raise _lock_timeout()


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    """An exclusive ``flock`` on ``<database>.migrate.lock``; none for an in-memory database.

    The file stays after use: removing a lock file lets a late process lock a new inode.
    """
    if database in (None, "", ":memory:"):
        yield
        return
    with Path(f"{database}.migrate.lock").open("a") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _lock_timeout() from None
                time.sleep(_FILE_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_timeout() -> TimeoutError:
    return TimeoutError(
        f"another process has held the migration lock for {LOCK_TIMEOUT_SECONDS} s; "
        "is a migration stuck?"
    )


def _sqlite_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    # Straight to the driver: the PRAGMA is a no-op inside a transaction, and any statement
    # through SQLAlchemy would begin one first.
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None  # an open Connection always has one
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")
    finally:
        cursor.close()


def _describe(diff: Any) -> str:
    """One line for an autogenerate diff: a tuple, or a list of tuples for column changes."""
    if isinstance(diff, list):
        return "; ".join(_describe(item) for item in diff)
    operation, *arguments = diff
    if operation.startswith("modify_"):
        _schema, table, column, _existing, old, new = arguments
        return f"{operation} {table}.{column}: {old!r} -> {new!r}"
    if operation in ("add_column", "remove_column"):
        _schema, table, column = arguments
        return f"{operation} {table}.{column.name}"
    return " ".join([operation, *(str(getattr(a, "name", a)) for a in arguments if a is not None)])
