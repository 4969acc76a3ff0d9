"""One daemon per SQLite file: SQLite has no ``SKIP LOCKED``, so two daemons on one file
could claim the same outbox message. PostgreSQL and MariaDB allow several instances.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from feedamp_sync.errors import InstanceConflict


@contextmanager
def single_instance_guard(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock beside a SQLite database file for as long as the block runs.

    The kernel drops the lock when the process dies, even by SIGKILL, so a crash never
    leaves a stale lock behind.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{Path(database).resolve()}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InstanceConflict(
                f"another feedamp-sync daemon is already using {database} "
                f"(lock {lock_path}); SQLite allows one instance, use PostgreSQL or MariaDB "
                "to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
