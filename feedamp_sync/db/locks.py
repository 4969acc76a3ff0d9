"""Job locks: one poller per account and job across every instance sharing a database.

Several daemons may share a PostgreSQL or MariaDB database for high availability. Their
pollers would otherwise fetch the same pages and race to insert the same orders; the
outbox needs no such lock (its claims use ``FOR UPDATE SKIP LOCKED``). The lock is taken
without waiting: an instance that finds it held skips that tick, because another instance
is doing the same work right now. A lock is held by a database session, so it disappears
with its holder, even after ``kill -9``. MariaDB's named locks are server-wide, so the name
carries the database's: two sellers (or a staging copy) on one server never share a lock.

SQLite needs none: one daemon per file is enforced by :mod:`feedamp_sync.db.instance`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from feedamp_sync.db.engine import backend_name
from feedamp_sync.db.errors import database_error_on_outage

_MYSQL_NAME_LIMIT = 64


def lock_name(account: str, job: str, *, database: str | None = None) -> str:
    """The lock's name: readable where it fits, hashed where MariaDB's 64 characters do not.

    ``database`` is given on MariaDB only: PostgreSQL's advisory locks belong to a database
    already, and their keys stay what earlier releases used.
    """
    scope = "" if database is None else f"{database}:"
    name = f"feedamp_sync:{scope}{job}:{account}"
    if len(name) <= _MYSQL_NAME_LIMIT:
        return name
    return "feedamp_sync:" + hashlib.blake2b(name.encode(), digest_size=16).hexdigest()


def _pg_key(name: str) -> int:
    """A signed 64-bit advisory-lock key derived from the lock name."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def job_lock(engine: Engine, account: str, job: str) -> Iterator[bool]:
    """Try to take the job's lock; yields whether this instance holds it for the block.

    A database that does not answer, to take the lock or to release it, raises DatabaseError
    as the stores the block calls do.
    """
    backend = backend_name(engine)
    if backend == "sqlite":
        yield True
        return
    with (
        database_error_on_outage(),
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
    ):
        if backend == "postgresql":
            key = _pg_key(lock_name(account, job))
            acquired = bool(
                connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            )
            release = text("SELECT pg_advisory_unlock(:key)").bindparams(key=key)
        else:
            # The server's name for the database, whatever alias or case the URL used.
            name = lock_name(account, job, database=connection.scalar(text("SELECT DATABASE()")))
            acquired = connection.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": name}) == 1
            release = text("SELECT RELEASE_LOCK(:name)").bindparams(name=name)
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(release)
