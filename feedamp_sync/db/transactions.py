"""Transactions that survive the database's own conflict resolution.

When two instances (or the poller and the outbox on one instance) update the same rows, the
database may break a deadlock by aborting one transaction. That is not a failure of the
work, only of its timing: the transaction is run again, a few times, before the error is
allowed to fail the tick.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Final, TypeVar

import structlog
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from feedamp_sync.retries import Backoff, Jitter

log = structlog.get_logger(__name__)

T = TypeVar("T")

ATTEMPTS: Final = 4
BACKOFF: Final = Backoff(base_seconds=0.05, cap_seconds=0.2, jitter=Jitter.EQUAL)
"""The wait before a re-run (25 ms to 200 ms): short, since the transaction that won holds
its locks only until it commits; spread out, so transactions aborted together do not meet
again in the same order."""
_PG_RETRYABLE: Final = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
_MYSQL_RETRYABLE: Final = frozenset({1213, 1205})  # deadlock, lock wait timeout


def is_transient_conflict(error: DBAPIError) -> bool:
    """True for a deadlock or serialization failure the database resolved by aborting us."""
    original = error.orig
    if getattr(original, "sqlstate", None) in _PG_RETRYABLE:
        return True
    args: tuple[object, ...] = getattr(original, "args", ())
    return bool(args) and args[0] in _MYSQL_RETRYABLE


def in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one transaction, again if the database aborted it as a deadlock victim."""
    attempt = 1
    while True:
        try:
            with engine.begin() as connection:
                return work(connection)
        except DBAPIError as error:
            if attempt >= ATTEMPTS or not is_transient_conflict(error):
                raise
            log.info("db_transaction_retried", attempt=attempt, reason=type(error.orig).__name__)
            time.sleep(BACKOFF.delay(attempt, random.random))
            attempt += 1
