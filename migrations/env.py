"""Alembic environment for feedamp-sync.

Normally :mod:`feedamp_sync.db.migrate` runs the migrations and hands its connection over in
``config.attributes["connection"]``, already inside the migration lock and transaction. For
developers, ``alembic -c migrations/alembic.ini -x url=DATABASE_URL <command>`` (or the URL in
``FEEDAMP_SYNC_DATABASE__URL``) builds its own engine and takes the same lock.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **migrate.context_options(connection))
    with context.begin_transaction():
        context.run_migrations()


def _run_from_command_line() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "FEEDAMP_SYNC_DATABASE__URL"
    )
    if not url:
        raise SystemExit(
            "no database: run alembic -c migrations/alembic.ini -x url=DATABASE_URL ..."
        )
    engine = create_engine_for(url, pool_size=1)
    try:
        with migrate.migration_lock(engine), migrate.migration_connection(engine) as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline mode (--sql) is not supported: the migrations need a connection")
if isinstance(given := context.config.attributes.get("connection"), Connection):
    _run(given)
else:
    _run_from_command_line()
