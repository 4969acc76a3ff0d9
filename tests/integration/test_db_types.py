"""Column types, server defaults and engine settings, on every backend they concern."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

import pytest
from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import DBAPIError, StatementError

from feedamp_sync.db import tables
from feedamp_sync.db.engine import SQLITE_BUSY_TIMEOUT_MS, backend_name, create_engine_for
from feedamp_sync.storable import MAX_DEPTH, json_problems

THREADS: Final = 8
TRANSACTIONS_PER_THREAD: Final = 50
THREAD_TIMEOUT_SECONDS: Final = 60
CLOCK_TOLERANCE: Final = timedelta(seconds=5)
# A seller's system in New York; MariaDB without time zone tables understands offsets only.
FOREIGN_SESSION_ZONE: Final = {
    "postgresql": "SET TIME ZONE 'America/New_York'",
    "mysql": "SET time_zone = '-05:00'",
}
SELLER_INSERT: Final = text(
    "INSERT INTO feedamp_outbox (account, kind, target_id, payload) "
    """VALUES ('main', 'fulfillment', '1001', '{"order_lines": []}')"""
)


def started_at(engine: Engine, value: datetime) -> Any:
    """Store ``value`` in a UtcDateTime column and read it back."""
    with engine.begin() as connection:
        connection.execute(
            insert(tables.sync_state).values(account="main", job="orders", last_started_at=value)
        )
        return connection.execute(select(tables.sync_state.c.last_started_at)).scalar_one()


def defaulted_outbox_row(connection: Connection) -> Any:
    """Insert like a seller's system (four columns, plain SQL) and read the row back."""
    connection.execute(SELLER_INSERT)
    return connection.execute(select(tables.outbox)).one()


def outbox_payload(engine: Engine, payload: Any, **columns: Any) -> Any:
    with engine.begin() as connection:
        connection.execute(
            insert(tables.outbox).values(
                account="main", kind="fulfillment", target_id="1", payload=payload, **columns
            )
        )
        return connection.execute(select(tables.outbox)).one()


def test_utc_datetime_round_trips_aware_utc(engine: Engine) -> None:
    """An aware UTC datetime comes back equal, microseconds included, and still UTC."""
    value = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
    stored = started_at(engine, value)
    assert (stored, stored.utcoffset()) == (value, timedelta(0))


def test_utc_datetime_converts_other_offsets_to_utc(engine: Engine) -> None:
    """A datetime with another offset is stored as the same instant and read back in UTC."""
    value = datetime(2026, 3, 1, 7, 30, tzinfo=timezone(timedelta(hours=-5)))
    stored = started_at(engine, value)
    assert (stored, stored.tzinfo) == (datetime(2026, 3, 1, 12, 30, tzinfo=UTC), UTC)


def test_utc_datetime_refuses_naive_datetimes(engine: Engine) -> None:
    """A naive datetime is refused before it reaches the database."""
    with pytest.raises(StatementError, match="naive datetime"):
        started_at(engine, datetime(2026, 3, 1, 12, 30))


def test_outbox_defaults_fill_a_plain_sql_insert(engine: Engine) -> None:
    """Inserting only the four seller columns gives pending, 0 attempts and UTC now."""
    with engine.begin() as connection:
        row = defaulted_outbox_row(connection)
    now = datetime.now(UTC)
    assert (row.status, row.attempts) == ("pending", 0)
    assert abs(row.next_attempt_at - now) < CLOCK_TOLERANCE
    assert abs(row.created_at - now) < CLOCK_TOLERANCE


@pytest.mark.backends("postgresql", "mariadb")
def test_outbox_defaults_are_utc_whatever_the_session_time_zone(engine: Engine) -> None:
    """A seller's session in another time zone still gets UTC default times."""
    with engine.begin() as connection:
        connection.exec_driver_sql(FOREIGN_SESSION_ZONE[backend_name(engine)])
        row = defaulted_outbox_row(connection)
    now = datetime.now(UTC)
    assert abs(row.next_attempt_at - now) < CLOCK_TOLERANCE
    assert abs(row.created_at - now) < CLOCK_TOLERANCE


def test_json_columns_round_trip_nested_unicode(engine: Engine) -> None:
    """Nested JSON with non-ASCII text, numbers, booleans and nulls comes back unchanged."""
    payload = {
        "order_lines": [
            {"mp_line_number": "1", "fulfillments": [{"carrier": "Deutsche Post", "qty": 2}]},
        ],
        "note": "Grüße, 注文 📦",
        "amount": 12.5,
        "gift": True,
        "extra": None,
    }
    assert outbox_payload(engine, payload).payload == payload


def test_json_columns_keep_integers_beyond_64_bits_and_numeric_keys(engine: Engine) -> None:
    """Values the fast JSON writer refuses or treats differently come back as written."""
    payload = {"huge": 2**70, "negative": -(2**65), "by_line": {1: "one"}}
    assert outbox_payload(engine, payload).payload == {
        "huge": 2**70,
        "negative": -(2**65),
        "by_line": {"1": "one"},
    }


def test_json_nested_as_deep_as_the_storage_policy_allows_is_stored_everywhere(
    engine: Engine,
) -> None:
    """The deepest nesting ``json_problems`` accepts is stored by every backend: the policy's
    limit is MariaDB's own, not one level past it."""
    deepest: Any = "leaf"
    for _ in range(MAX_DEPTH):
        deepest = [deepest]
    assert json_problems(deepest) == []
    assert outbox_payload(engine, {"lines": deepest[0]}).payload == {"lines": deepest[0]}


def test_text_columns_hold_any_unicode(engine: Engine) -> None:
    """Text columns keep emoji and CJK, even where the database default is latin1."""
    assert outbox_payload(engine, {}, note="注文 📦").note == "注文 📦"


def test_unique_text_is_case_sensitive(engine: Engine) -> None:
    """Keys differing only in case are distinct on every backend (binary collation on MariaDB)."""
    with engine.begin() as connection:
        for key in ("confirm:main:a", "confirm:main:A"):
            connection.execute(
                insert(tables.outbox).values(
                    account="main", kind="confirm", target_id="1", payload={}, unique_key=key
                )
            )
        keys = connection.execute(select(tables.outbox.c.unique_key)).scalars().all()
    assert sorted(keys) == ["confirm:main:A", "confirm:main:a"]


@pytest.mark.backends("mariadb")
def test_mariadb_sessions_are_utc_read_committed_utf8mb4(engine: Engine) -> None:
    """Every MariaDB connection runs in UTC, READ COMMITTED and utf8mb4."""
    with engine.connect() as connection:
        settings = connection.exec_driver_sql(
            "SELECT @@session.time_zone, @@session.tx_isolation, @@character_set_connection"
        ).one()
    assert tuple(settings) == ("+00:00", "READ-COMMITTED", "utf8mb4")


@pytest.mark.backends("postgresql")
def test_postgresql_sessions_plan_every_statement_for_its_parameters(engine: Engine) -> None:
    """Custom plans only, and the setting outlives a rolled-back transaction on the connection."""
    for _ in range(2):
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("SHOW plan_cache_mode").scalar_one()
            connection.rollback()
        assert mode == "force_custom_plan"


@pytest.mark.backends("postgresql", "mariadb")
def test_a_session_idle_in_a_transaction_past_the_limit_is_ended_and_its_locks_released(
    database_url: str, engine: Engine
) -> None:
    """A process frozen between two statements of a transaction (SIGSTOP, a stalled VM) must
    not hold up the others: the server ends its session and the row it locked is free."""
    with engine.begin() as conn:
        conn.execute(insert(tables.meta).values(key="probe", value="1"))
    frozen = create_engine_for(database_url, pool_size=1, idle_transaction_seconds=1)
    try:
        with frozen.connect() as holder:
            holder.begin()
            holder.execute(
                select(tables.meta).where(tables.meta.c.key == "probe").with_for_update()
            ).all()
            time.sleep(3)  # idle in its transaction, as a frozen process is
            with engine.begin() as other:
                other.execute(
                    update(tables.meta).where(tables.meta.c.key == "probe").values(value="2")
                )
            with pytest.raises(DBAPIError):
                holder.execute(select(tables.meta)).all()
    finally:
        frozen.dispose()
    with engine.connect() as conn:
        assert conn.scalar(select(tables.meta.c.value).where(tables.meta.c.key == "probe")) == "2"


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("synchronous", 2),
        ("busy_timeout", SQLITE_BUSY_TIMEOUT_MS),
        ("foreign_keys", 1),
    ],
)
def test_sqlite_pragmas_are_in_force(engine: Engine, pragma: str, expected: object) -> None:
    """Each pooled SQLite connection runs with WAL, FULL sync, a busy timeout and FKs on."""
    with engine.connect() as connection:
        assert connection.exec_driver_sql(f"PRAGMA {pragma}").scalar() == expected


@pytest.mark.backends("sqlite")
def test_sqlite_concurrent_read_then_write_transactions_all_succeed(engine: Engine) -> None:
    """Eight threads doing read-then-write transactions on one file never fail or lose one."""
    with engine.begin() as connection:
        connection.execute(
            insert(tables.outbox).values(account="main", kind="confirm", target_id="1", payload={})
        )
    start = threading.Barrier(THREADS)
    errors: list[Exception] = []

    def increment_repeatedly() -> None:
        try:
            start.wait()
            for _ in range(TRANSACTIONS_PER_THREAD):
                with engine.begin() as connection:
                    seen = connection.execute(select(tables.outbox.c.attempts)).scalar_one()
                    connection.execute(update(tables.outbox).values(attempts=seen + 1))
        except Exception as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=increment_repeatedly) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    with engine.connect() as connection:
        attempts = connection.execute(select(tables.outbox.c.attempts)).scalar_one()
    assert attempts == THREADS * TRANSACTIONS_PER_THREAD


@pytest.mark.parametrize(
    ("url", "driver", "backend"),
    [
        pytest.param("sqlite:///feedamp.db", "pysqlite", "sqlite", id="sqlite"),
        pytest.param("postgresql://feedamp@db/feedamp", "psycopg", "postgresql", id="postgresql"),
        pytest.param("mysql://feedamp@db/feedamp", "pymysql", "mysql", id="mysql"),
        pytest.param("mariadb://feedamp@db/feedamp", "pymysql", "mysql", id="mariadb"),
    ],
)
def test_urls_without_a_driver_get_the_installed_one(url: str, driver: str, backend: str) -> None:
    """Bare URLs use the installed drivers, and backend_name names the family."""
    engine = create_engine_for(url)
    try:
        assert (engine.dialect.driver, backend_name(engine)) == (driver, backend)
    finally:
        engine.dispose()
