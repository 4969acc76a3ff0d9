"""Job locks keep one poller per account and job across instances sharing a database."""

from __future__ import annotations

from sqlalchemy import Engine

from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.locks import job_lock, lock_name


def test_a_held_lock_is_refused_to_another_instance(database_url: str, engine: Engine) -> None:
    """While one engine holds orders:main, a second engine (another instance) cannot."""
    other = create_engine_for(database_url)
    try:
        with (
            job_lock(engine, "main", "orders") as first,
            job_lock(other, "main", "orders") as second,
        ):
            expected_second = engine.dialect.name == "sqlite"  # one instance per file
            assert (first, second) == (True, expected_second)
    finally:
        other.dispose()


def test_a_released_lock_can_be_taken_again(database_url: str, engine: Engine) -> None:
    """Leaving the block releases the lock for the next instance."""
    other = create_engine_for(database_url)
    try:
        with job_lock(engine, "main", "orders") as first:
            assert first
        with job_lock(other, "main", "orders") as second:
            assert second
    finally:
        other.dispose()


def test_different_jobs_and_accounts_do_not_block_each_other(engine: Engine) -> None:
    """orders:a, orders:b and returns:a are independent locks."""
    with (
        job_lock(engine, "a", "orders") as one,
        job_lock(engine, "b", "orders") as two,
        job_lock(engine, "a", "returns") as three,
    ):
        assert (one, two, three) == (True, True, True)


def test_long_names_fit_mariadb_limit() -> None:
    """A lock name never exceeds MariaDB's 64 characters, and stays distinct."""
    long_a, long_b = "a" * 64, "a" * 63 + "b"
    assert len(lock_name(long_a, "orders")) <= 64
    assert lock_name(long_a, "orders") != lock_name(long_b, "orders")
