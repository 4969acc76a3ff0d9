"""``db``: schema migrations, and retention applied now."""

from __future__ import annotations

import threading

import click
import structlog

from feedamp_sync.app import locked_prune, open_database, retention_store, utc_now
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context, to_json
from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.instance import held_open
from feedamp_sync.db.sync_state import SyncStateStore

log = structlog.get_logger(__name__)


@click.group()
def db() -> None:
    """Database commands: schema migrations, retention."""


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


@db.command("prune")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--keep-days",
    type=click.IntRange(min=1),
    help="Keep this many days instead of retention.keep_days (this run only).",
)
@pass_context
def db_prune(context: Context, as_json: bool, keep_days: int | None) -> int:
    """Apply the retention settings now: delete sent and cancelled outbox messages (and their
    attempts) older than retention.keep_days, in batches, and print the counts."""
    settings = context.settings
    days = settings.retention.keep_days if keep_days is None else keep_days
    stop = threading.Event()
    with open_database(settings) as engine:
        pruned = locked_prune(
            engine,
            retention_store(engine),
            SyncStateStore(engine),
            settings.retention,
            keep_days=days,
            clock=utc_now,
            stop=stop,
        )
    if pruned is None:
        click.echo(
            "feedamp-sync: another instance is pruning this database right now; "
            "try again once its pass has ended",
            err=True,
        )
        return EXIT_FAILURE
    if as_json:
        click.echo(to_json({"keep_days": days, **pruned.fields()}))
        return EXIT_OK
    deleted = ", ".join(f"{table} {count}" for table, count in pruned.deleted.items())
    click.echo(
        f"pruned rows older than {days} days (before {pruned.cutoff.isoformat()}): {deleted}"
    )
    return EXIT_OK
