"""One daemon per SQLite file: SQLite has no ``SKIP LOCKED``, so two daemons on one file
could claim the same outbox message. PostgreSQL and MariaDB allow several instances.

The lock is an ``flock`` on the database file itself, so it follows the file, not the name it
was opened by: a hard link, a symlink, a relative path or a bind mount all reach the same
inode and the same lock. A lock file beside the database (named after the path) let a hard
link through; one named by device and inode needs a directory every daemon sees, and a
private ``/tmp`` (systemd's ``PrivateTmp``) or another mount namespace breaks that.

Sharing the file with SQLite is safe on Linux and the BSDs: ``flock`` locks and the POSIX
``fcntl`` locks SQLite takes are separate, neither blocks the other. (Linux emulates ``flock``
with ``fcntl`` locks on NFS, where they would clash, but SQLite's WAL mode, which the engine
uses, does not work on a network filesystem at all.) One POSIX rule does touch SQLite: closing
any descriptor of a file drops every ``fcntl`` lock the process holds on it, and a connection
in WAL mode keeps a shared lock on the file for as long as it is open. The guard therefore
closes the engine's pooled connections before its own descriptor.

The lock is taken before SQLite first reads the file: through a hard link, SQLite keeps a
write-ahead log of its own (named after the path), so a second daemon must be stopped before
it reads anything through one.

Every other command opens the file the same way, without the lock (:func:`held_open`), so a
file that cannot be opened (its directory is missing, a permission) fails alike everywhere,
naming the file and the system's reason, where SQLite would only say it is "unable to open
database file".
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from feedamp_sync.errors import DatabaseError, InstanceConflict


@contextmanager
def single_instance_guard(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock on a SQLite database file for as long as the block runs.

    The kernel drops the lock when the process dies, even by SIGKILL, so a crash never leaves
    a stale lock behind.
    """
    with held_open(engine) as fd:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InstanceConflict(
                    f"another feedamp-sync daemon is already using {engine.url.database} "
                    "(under this or another name: it holds a lock on the file itself); SQLite "
                    "allows one instance, use PostgreSQL or MariaDB to run several"
                ) from None
        yield


@contextmanager
def held_open(engine: Engine) -> Iterator[int | None]:
    """A descriptor on the SQLite database file for as long as the block runs (None for the
    other backends and an in-memory database), closed after the engine's connections.

    A missing file is created, as SQLite would create it on connecting; one that cannot be
    opened raises DatabaseError naming it, with the system's reason.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield None
        return
    try:
        fd = os.open(database, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as error:
        raise DatabaseError(
            f"({type(error).__name__}) cannot open {database}: {error.strerror}"
        ) from None
    try:
        yield fd
    finally:
        engine.dispose()
        os.close(fd)
