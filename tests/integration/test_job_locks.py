"""Job locks keep one poller per account and job across instances sharing a database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.locks import job_lock, lock_name
from tests.conftest import Server


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


@pytest.fixture
def neighbour_url(servers: dict[str, Server]) -> Iterator[str]:
    """Another database on the same MariaDB server: another seller's, or a staging copy."""
    with servers["mariadb"].database() as url:
        yield url


@pytest.mark.backends("mariadb")  # PostgreSQL's advisory locks and SQLite's files are per database
def test_databases_sharing_a_server_do_not_share_locks(engine: Engine, neighbour_url: str) -> None:
    """MariaDB's named locks are server-wide: each database's pollers still run."""
    neighbour = create_engine_for(neighbour_url)
    try:
        with (
            job_lock(engine, "main", "orders") as here,
            job_lock(neighbour, "main", "orders") as there,
        ):
            assert (here, there) == (True, True)
    finally:
        neighbour.dispose()


def test_long_names_fit_mariadb_limit() -> None:
    """A lock name never exceeds MariaDB's 64 characters, and stays distinct."""
    database, long_a, long_b = "d" * 64, "a" * 64, "a" * 63 + "b"
    assert len(lock_name(long_a, "orders", database=database)) <= 64
    assert lock_name(long_a, "orders", database=database) != lock_name(
        long_b, "orders", database=database
    )
    assert lock_name("main", "orders", database="shop") != lock_name(
        "main", "orders", database="staging"
    )


def test_postgresql_lock_keys_stay_those_of_earlier_releases() -> None:
    """Instances of the old and the new release exclude each other during a rolling upgrade."""
    assert lock_name("main", "orders") == "feedamp_sync:orders:main"
