"""The returns poller's pass on a real database, with a stand-in client for FeedAMP."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import pytest
from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import backend_name, create_engine_for, sqlite_file
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.sync_state import SyncStateStore
from feedamp_sync.db.transactions import ATTEMPTS
from feedamp_sync.errors import ApiResponseInvalid, DatabaseError
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.feedamp.pagination import Page
from feedamp_sync.jobs import pull_returns
from feedamp_sync.returns_window import checkpoint_value
from feedamp_sync.sandbox import Sandbox


class RepeatingCursor:
    """A client whose returns search hands back the given pages, the last one cut short by a
    cursor FeedAMP had already handed out."""

    account_name = "main"

    def __init__(self, pages: list[Page]) -> None:
        self._pages = pages

    def iter_returns(self, **query: Any) -> Iterator[Page]:
        return iter(self._pages)


class StoppedDuringThePass:
    """A client whose returns search is stopped (SIGTERM) while its second page is asked for,
    that is while the first one is being stored; it records the pages asked for."""

    account_name = "main"

    def __init__(self, pages: list[Page], stop: threading.Event) -> None:
        self._pages = pages
        self._stop = stop
        self.asked: list[int] = []

    def iter_returns(self, **query: Any) -> Iterator[Page]:
        for number, page in enumerate(self._pages, start=1):
            self.asked.append(number)
            if number == 2:
                self._stop.set()
            yield page


def test_a_stop_during_a_pass_keeps_the_pages_stored_and_the_checkpoint(engine: Engine) -> None:
    """The page read is stored, nothing after the page already on its way is asked for,
    and the checkpoint stays, so the next poll covers the whole window again."""
    world = Sandbox(seed=1)
    returns = [world.return_(r) for r in world.add_returns(3, states=["Pending Refund"])]
    state = SyncStateStore(engine)
    earlier = checkpoint_value(datetime(2026, 11, 1, tzinfo=UTC))
    state.succeeded("main", "returns", datetime.now(UTC), checkpoint=earlier)
    stop = threading.Event()
    pages = [Page([returns[0]], "a"), Page([returns[1]], "b"), Page([returns[2]], None)]
    client = StoppedDuringThePass(pages, stop)
    calls = itertools.count()

    def clock() -> datetime:
        if next(calls) == 1:  # the first page's store, which the stop arrives during
            assert stop.wait(5.0)
        return datetime.now(UTC)

    pulled = pull_returns(
        cast(FeedampClient, client),
        ReturnStore(engine),
        QuarantineStore(engine),
        state,
        overlap=timedelta(minutes=15),
        clock=clock,
        stop=stop,
    )
    assert not pulled.complete
    assert client.asked == [1, 2]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.returns)) == 1
    assert state.checkpoint("main", "returns") == earlier


def test_a_pass_cut_short_by_a_repeated_cursor_fails_and_leaves_the_checkpoint(
    engine: Engine,
) -> None:
    """Pages after a repeated cursor were never read: the pages read are stored, the tick
    fails where an operator sees it, and the next poll asks for the same window."""
    world = Sandbox(seed=1)
    first, second = (world.return_(r) for r in world.add_returns(2, states=["Pending Refund"]))
    state = SyncStateStore(engine)
    earlier = checkpoint_value(datetime(2026, 11, 1, tzinfo=UTC))
    state.succeeded("main", "returns", datetime.now(UTC), checkpoint=earlier)
    client = RepeatingCursor([Page([first], "a"), Page([second], None, cut_short=True)])
    with pytest.raises(ApiResponseInvalid, match="cursor this poll had already followed"):
        pull_returns(
            cast(FeedampClient, client),
            ReturnStore(engine),
            QuarantineStore(engine),
            state,
            overlap=timedelta(minutes=15),
            clock=lambda: datetime.now(UTC),
            stop=threading.Event(),
        )
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.returns)) == 2
    assert state.checkpoint("main", "returns") == earlier


SHORT_LOCK_WAIT: Final = {
    "sqlite": "PRAGMA busy_timeout = 200",
    "postgresql": "SET lock_timeout = 200",
    "mysql": "SET SESSION innodb_lock_wait_timeout = 1",  # seconds, MariaDB's least
}
"""How long a statement waits for a lock before it gives up: a moment, not the default (30 s
on SQLite, 50 s on MariaDB, for ever on PostgreSQL)."""
WAITS_PER_SAVE: Final = {"sqlite": 1, "postgresql": 1, "mysql": ATTEMPTS}
"""The lock waits one save of a page costs: MariaDB's lock wait timeout is run again as a
transient conflict, ``ATTEMPTS`` times in all."""


class Listing:
    """A client whose returns search lists the given returns on one page, calling
    ``on_list`` as it is asked for them."""

    account_name = "main"

    def __init__(self, returns: list[Any], on_list: Callable[[], None]) -> None:
        self._returns = returns
        self._on_list = on_list

    def iter_returns(self, **query: Any) -> Iterator[Page]:
        self._on_list()
        yield Page(list(self._returns), None)


class LockHolder:
    """Another session holding a lock the returns poll needs until released: SQLite's whole
    database (``BEGIN IMMEDIATE``), or one return's row on a server (``SELECT ... FOR
    UPDATE``), as a seller's long transaction or a backup would."""

    def __init__(self, database_url: str, feedamp_id: str) -> None:
        self._url = database_url
        self._feedamp_id = feedamp_id
        self._sqlite: sqlite3.Connection | None = None
        self._engine: Engine | None = None
        self._session: Connection | None = None

    def take(self) -> None:
        path = sqlite_file(self._url)
        if path is not None:
            self._sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._sqlite.execute("BEGIN IMMEDIATE")
            return
        self._engine = create_engine_for(self._url, pool_size=1)
        self._session = self._engine.connect()
        self._session.begin()
        row = select(t.returns.c.id).where(t.returns.c.feedamp_id == self._feedamp_id)
        assert self._session.execute(row.with_for_update()).all()

    def release(self) -> None:
        if self._sqlite is not None:
            self._sqlite.rollback()
            self._sqlite.close()
        if self._session is not None:
            self._session.rollback()
            self._session.close()
        if self._engine is not None:
            self._engine.dispose()


def poll(engine: Engine, returns: list[Any], on_list: Callable[[], None] = lambda: None) -> Any:
    return pull_returns(
        cast(FeedampClient, Listing(returns, on_list)),
        ReturnStore(engine),
        QuarantineStore(engine),
        SyncStateStore(engine),
        overlap=timedelta(minutes=15),
        clock=lambda: datetime.now(UTC),
        stop=threading.Event(),
    )


@dataclass
class Impatient:
    """An engine whose statements give up waiting for a lock after a moment, and the errors
    its statements met."""

    engine: Engine
    failures: list[BaseException] = field(default_factory=list)


@pytest.fixture
def impatient(database_url: str) -> Iterator[Impatient]:
    made = Impatient(create_engine_for(database_url))
    backend = backend_name(made.engine)

    @event.listens_for(made.engine, "connect")
    def wait_briefly(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(SHORT_LOCK_WAIT[backend])
        cursor.close()
        dbapi_connection.commit()  # or PostgreSQL's pool would roll the setting back

    @event.listens_for(made.engine, "handle_error")
    def record(context: ExceptionContext) -> None:
        made.failures.append(context.original_exception)

    yield made
    made.engine.dispose()


def test_a_lock_waited_for_in_vain_fails_the_poll_and_keeps_its_checkpoint(
    database_url: str, engine: Engine, impatient: Impatient
) -> None:
    """A lock held past the wait is no refusal of the returns: the poll fails after the one
    wait its page costs (not one more per return), holds nothing in quarantine and keeps
    its checkpoint; once the lock is gone the next poll stores the same returns."""
    world = Sandbox(seed=1)
    returns = [world.return_(r) for r in world.add_returns(3, states=["Pending Refund"])]
    assert poll(engine, returns).complete
    state = SyncStateStore(engine)
    earlier = state.checkpoint("main", "returns")
    holder = LockHolder(database_url, returns[1]["id"])

    try:
        with pytest.raises(DatabaseError):
            poll(impatient.engine, returns, on_list=holder.take)
    finally:
        holder.release()

    backend = backend_name(engine)
    assert len(impatient.failures) == WAITS_PER_SAVE[backend], impatient.failures
    assert state.checkpoint("main", "returns") == earlier
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.quarantine)) == 0
    assert poll(impatient.engine, returns).complete
    assert state.checkpoint("main", "returns") != earlier
