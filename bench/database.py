"""A scratch database per measured run: a SQLite file, or a PostgreSQL database dropped after."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for

BACKENDS: Final = ("sqlite", "postgresql")
POSTGRES_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(backend: str, directory: Path, postgres_url: str) -> Iterator[str]:
    """The URL of a fresh database migrated to head; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'bench.db'}"
        _migrate(url)
        yield url
        return
    admin = create_engine_for(postgres_url, pool_size=1).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    name = f"feedamp_bench_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
            _migrate(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _migrate(url: str) -> None:
    engine = create_engine_for(url, pool_size=1)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
