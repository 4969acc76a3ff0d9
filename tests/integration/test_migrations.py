"""Alembic migrations on every backend: create, idempotence, drift, round trip, concurrency."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy import Engine, insert, inspect, select, text

from feedamp_sync.db import migrate
from feedamp_sync.db import tables as t
from feedamp_sync.db.tables import metadata
from feedamp_sync.errors import DatabaseNotMigrated

PROCESSES: Final = 5
PROCESS_TIMEOUT_SECONDS: Final = 90

# Each process announces itself ready, waits for "go", then upgrades: a real race.
UPGRADE_WHEN_TOLD: Final = """
import sys, time
from pathlib import Path
from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for

url, rendezvous, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
engine = create_engine_for(url, pool_size=2)
(rendezvous / name).touch()
deadline = time.monotonic() + 60
while not (rendezvous / "go").exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.01)
print(migrate.upgrade(engine))
engine.dispose()
"""


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_creates_every_table(unmigrated_engine: Engine) -> None:
    """Upgrading an empty database creates every table of tables.py and reports it."""
    assert migrate.upgrade(unmigrated_engine) is True
    assert set(metadata.tables) <= table_names(unmigrated_engine)


def test_upgrade_is_idempotent(unmigrated_engine: Engine) -> None:
    """A second upgrade finds nothing to do and says so."""
    migrate.upgrade(unmigrated_engine)
    assert migrate.upgrade(unmigrated_engine) is False


def test_upgraded_schema_matches_the_models(engine: Engine) -> None:
    """Autogenerate finds no difference between tables.py and the migrated database."""
    assert migrate.check_drift(engine) == []


def test_check_drift_reports_a_column_the_models_lack(engine: Engine) -> None:
    """Drift detection is not blind: an extra column in the database is reported."""
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE feedamp_sync_state ADD COLUMN surprise INTEGER"))
    assert migrate.check_drift(engine) == ["remove_column feedamp_sync_state.surprise"]


def test_downgrade_then_upgrade_round_trips(engine: Engine) -> None:
    """Downgrading to base drops our tables; upgrading again restores them without drift."""
    migrate.downgrade(engine)
    assert migrate.current_revision(engine) is None
    assert not set(metadata.tables) & table_names(engine)
    assert migrate.upgrade(engine) is True
    assert migrate.check_drift(engine) == []


def test_a_migrated_database_is_at_head(engine: Engine) -> None:
    """After upgrade the database is at the newest revision and require_head accepts it."""
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert migrate.is_at_head(engine)
    migrate.require_head(engine)


def test_require_head_refuses_an_empty_database(unmigrated_engine: Engine) -> None:
    """An unmigrated database is refused with the command that fixes it."""
    with pytest.raises(DatabaseNotMigrated, match="run 'feedamp-sync db upgrade'"):
        migrate.require_head(unmigrated_engine)


def test_require_head_refuses_a_revision_from_a_newer_release(engine: Engine) -> None:
    """A revision this release does not know means a newer release migrated the database."""
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = 'f00d'"))
    with pytest.raises(DatabaseNotMigrated, match="newer release"):
        migrate.require_head(engine)


def test_a_held_migration_lock_makes_others_time_out(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one holder has the migration lock, another gives up after the timeout."""
    monkeypatch.setattr(migrate, "LOCK_TIMEOUT_SECONDS", 1)
    with (
        migrate.migration_lock(engine),
        pytest.raises(TimeoutError, match="migration lock"),
        migrate.migration_lock(engine),
    ):
        pass


def test_concurrent_upgrades_apply_the_migration_once(database_url: str, tmp_path: Path) -> None:
    """Five processes upgrading one database at once all succeed; exactly one applies it."""
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_WHEN_TOLD, database_url, str(rendezvous), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + PROCESS_TIMEOUT_SECONDS
        while len(list(rendezvous.iterdir())) < PROCESSES and time.monotonic() < deadline:
            time.sleep(0.01)
        (rendezvous / "go").touch()
        results = [p.communicate(timeout=PROCESS_TIMEOUT_SECONDS) for p in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()
    assert [p.returncode for p in processes] == [0] * PROCESSES, [err for _, err in results]
    assert sorted(out.strip() for out, _ in results) == ["False"] * (PROCESSES - 1) + ["True"]


def test_orders_stored_before_refresh_count_as_read_when_last_seen(engine: Engine) -> None:
    """Upgrading to 0008 takes each order's ``refreshed_at`` from ``last_seen_at`` and marks
    the fulfilled and cancelled ones final, so the first refresh reads only open orders."""
    migrate.downgrade(engine, "0007")
    seen = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    old_columns = {"first_seen_at": seen, "last_seen_at": seen, "updated_at": seen, "data": {}}
    with engine.begin() as conn:
        for feedamp_id, state, marketplace_state in (
            ("1", "PLACED", "AWAITING_SHIPMENT"),
            ("2", "FULFILLED", "SHIPPED"),
            ("3", "PLACED", "CANCELLED"),
        ):
            conn.execute(
                insert(t.orders).values(
                    account="main",
                    feedamp_id=feedamp_id,
                    state=state,
                    marketplace_state=marketplace_state,
                    **old_columns,
                )
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.feedamp_id, t.orders.c.refreshed_at, t.orders.c.final_at).order_by(
                t.orders.c.feedamp_id
            )
        ).all()
    assert [tuple(row) for row in rows] == [("1", seen, None), ("2", seen, seen), ("3", seen, seen)]


def test_attempts_recorded_before_0010_are_unknown_unless_refused_or_never_sent(
    engine: Engine,
) -> None:
    """Upgrading to 0010 takes a 4xx (a refusal, a 429), a connection never made and a payload
    refused before sending as known non-effects, and a 5xx or a timeout as unknown; no stored
    number counts as generated with a nonce."""
    migrate.downgrade(engine, "0009")
    finished = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    attempts = [
        ("dead", 409, "HTTP 409: duplicate cp_refund_number"),
        ("retry", 429, "HTTP 429: slow down"),
        ("retry", None, "refund: could not connect to FeedAMP (ConnectError)"),
        ("dead", None, "invalid payload: mp_line_number: required"),
        ("retry", 503, "HTTP 503: busy"),
        ("retry", None, "refund: FeedAMP did not answer in time (ReadTimeout)"),
        ("sent", 201, None),
    ]
    with engine.begin() as conn:
        key = conn.execute(
            insert(t.outbox).values(
                account="main", kind="refund", target_id="1", payload={"cp_refund_number": "RF1"}
            )
        ).inserted_primary_key
        assert key is not None
        message_id = key[0]
        for number, (outcome, status, error) in enumerate(attempts, start=1):
            conn.execute(
                insert(t.outbox_attempts).values(
                    message_id=message_id,
                    attempt=number,
                    finished_at=finished,
                    outcome=outcome,
                    status_code=status,
                    error=error,
                )
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        unknown = conn.execute(
            select(t.outbox_attempts.c.effect_unknown).order_by(t.outbox_attempts.c.attempt)
        ).scalars()
        assert list(unknown) == [False, False, False, False, True, True, False]
        assert conn.scalar(select(t.outbox.c.own_number)) is False
