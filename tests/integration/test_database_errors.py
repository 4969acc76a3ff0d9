"""Database failures on every backend: the db/ calls that callers outside the package make
raise DatabaseError when no database answers (those of readiness, metrics, check and status,
and those a tick makes, so that its failure is logged on one line), and no refused statement
shows its values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from feedamp_sync.db import migrate
from feedamp_sync.db import tables as t
from feedamp_sync.db.backlog import BacklogStore
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.locks import job_lock
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.sync_state import SyncStateStore
from feedamp_sync.errors import DatabaseError
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.prepare import Preparer
from feedamp_sync.settings import OutboxSettings

CALLS: dict[str, Callable[[Engine], object]] = {
    "sync_state.all": lambda engine: SyncStateStore(engine).all(),
    "backlog": lambda engine: BacklogStore(engine, []).backlog(),
    "require_head": migrate.require_head,
}
NOW = datetime(2026, 1, 1, tzinfo=UTC)
JOB_CALLS: dict[str, Callable[[Engine], object]] = {
    "sync_state.started": lambda engine: SyncStateStore(engine).started("main", "orders", NOW),
    "sync_state.failed": lambda engine: SyncStateStore(engine).failed("main", "orders", NOW, "x"),
    "sync_state.checkpoint": lambda engine: SyncStateStore(engine).checkpoint("main", "returns"),
    "orders.save_page": lambda engine: OrderStore(engine).save_page(
        "main", [], now=NOW, number_for=lambda row_id, _: str(row_id), confirm=True
    ),
    "returns.save_page": lambda engine: ReturnStore(engine).save_page("main", [], now=NOW),
    "quarantine.settle": lambda engine: QuarantineStore(engine).settle(
        "main", "order", [], stored_ids=["1"], page_cursor=None, now=NOW
    ),
    "outbox.release_expired": lambda engine: OutboxStore(engine, ()).release_expired(NOW),
    "outbox.claim": lambda engine: OutboxStore(engine, ()).claim(
        "w1", NOW, limit=10, lease_seconds=60
    ),
    "outbox.prepare": lambda engine: Preparer(engine, OutboxSettings(), KINDS)(
        "w1", [OutboxMessage(1, "main", "refund", "1", {"lines": []}, attempts=1)]
    ),
}


@pytest.fixture
def unreachable_engine(unreachable_database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(unreachable_database_url, pool_size=1)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_an_unreachable_database_raises_database_error_on_one_line(
    unreachable_engine: Engine, call: Callable[[Engine], object]
) -> None:
    """Readiness, metrics, check, status and start-up see our error with the driver's reason."""
    with pytest.raises(DatabaseError) as raised:
        call(unreachable_engine)
    assert "OperationalError" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_refused_statement_shows_none_of_its_parameters(engine: Engine) -> None:
    """SQLAlchemy's message for a refused insert holds the statement but not the values bound
    to it; the canary sits outside the key, where no database's own message quotes it."""
    row = t.sync_state.insert().values(account="main", job="orders", last_error="canary-value")
    with engine.begin() as conn:
        conn.execute(row)
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(row)
    assert "canary-value" not in str(raised.value)
    assert "SQL parameters hidden" in str(raised.value)


@pytest.mark.parametrize("call", JOB_CALLS.values(), ids=JOB_CALLS.keys())
def test_what_the_jobs_call_raises_database_error_when_no_database_answers(
    unreachable_engine: Engine, call: Callable[[Engine], object]
) -> None:
    """A tick on a database that is away fails with our error on one line."""
    with pytest.raises(DatabaseError) as raised:
        call(unreachable_engine)
    assert "OperationalError" in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.backends("postgresql", "mariadb")  # SQLite has no job locks
def test_taking_a_job_lock_raises_database_error_when_no_database_answers(
    unreachable_engine: Engine,
) -> None:
    """The poller's lock is the first thing its tick asks the database for."""
    with pytest.raises(DatabaseError), job_lock(unreachable_engine, "main", "orders"):
        pass
