"""The db/ calls that callers outside the package make raise DatabaseError when no database
answers, on every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from feedamp_sync.db import migrate
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
