"""Database failures on every backend: the db/ calls that callers outside the package make
raise DatabaseError when no database answers, and no refused statement shows its values."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from feedamp_sync.db import migrate
from feedamp_sync.db import tables as t
from feedamp_sync.db.backlog import BacklogStore
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.sync_state import SyncStateStore
from feedamp_sync.errors import DatabaseError

CALLS: dict[str, Callable[[Engine], object]] = {
    "sync_state.all": lambda engine: SyncStateStore(engine).all(),
    "backlog": lambda engine: BacklogStore(engine, []).backlog(),
    "require_head": migrate.require_head,
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
