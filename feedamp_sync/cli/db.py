"""``db``: schema migrations."""

from __future__ import annotations

import click
import structlog

from feedamp_sync.cli.common import Context, pass_context
from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.instance import held_open

log = structlog.get_logger(__name__)


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Apply migrations (idempotent; safe when several instances start at once)."""
    engine = create_engine_for(context.settings.database.url)
    try:
        with held_open(engine):  # a SQLite file is opened as every command opens it
            applied = migrate.upgrade(engine)
    finally:
        engine.dispose()
    log.info("db_upgraded" if applied else "db_already_current", revision=migrate.head_revision())
