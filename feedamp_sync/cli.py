"""The command line: parse arguments, call the application, map outcomes to exit codes.

Exit codes (DESIGN.md): 0 success, 1 runtime failure, 2 usage error, 65 invalid input data,
77 FeedAMP refused the credentials or client id, 78 invalid configuration.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import click
import structlog

from feedamp_sync.app import build_app, open_database
from feedamp_sync.daemon import abandon_stuck_calls, run_daemon, stop_on_signals
from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.sync_state import GLOBAL_ACCOUNT, SyncStateStore
from feedamp_sync.errors import (
    ApiAuthError,
    ConfigError,
    DatabaseNotMigrated,
    FeedampSyncError,
    InstanceConflict,
    InvalidPayload,
)
from feedamp_sync.logs import configure_logging, scrub
from feedamp_sync.sandbox.command import sandbox
from feedamp_sync.settings import CONFIG_PATH_ENV, Settings, load_settings

log = structlog.get_logger(__name__)

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
EXIT_DATA: Final = 65
EXIT_AUTH: Final = 77
EXIT_CONFIG: Final = 78


def exit_code_for(error: FeedampSyncError) -> int:
    if isinstance(error, ConfigError | DatabaseNotMigrated | InstanceConflict):
        return EXIT_CONFIG
    if isinstance(error, ApiAuthError):
        return EXIT_AUTH
    if isinstance(error, InvalidPayload):
        return EXIT_DATA
    return EXIT_FAILURE


class Context:
    """What the group's options give every command: the config path, settings on demand."""

    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings


def _to_json(value: Any) -> str:
    def default(obj: object) -> object:
        if isinstance(obj, datetime):
            return obj.isoformat()
        raise TypeError(f"cannot serialise {type(obj).__name__}")

    return json.dumps(value, default=default, indent=2, ensure_ascii=False)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=CONFIG_PATH_ENV,
    help=f"TOML config file (or ${CONFIG_PATH_ENV}); environment overrides it.",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.option(
    "--log-format",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "json", "console"]),
    help="auto: console on a terminal, JSON lines otherwise.",
)
@click.version_option(package_name="feedamp-sync")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, log_level: str, log_format: str) -> None:
    """Keep a local database in step with the FeedAMP Order Management API."""
    configure_logging(level=log_level, log_format=log_format)  # type: ignore[arg-type]
    ctx.obj = Context(config)


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Apply migrations (idempotent; safe when several instances start at once)."""
    engine = create_engine_for(context.settings.database.url)
    try:
        applied = migrate.upgrade(engine)
    finally:
        engine.dispose()
    log.info("db_upgraded" if applied else "db_already_current", revision=migrate.head_revision())


@cli.command()
@click.option("--once", is_flag=True, help="One full pass of every job, then exit.")
@pass_context
def run(context: Context, once: bool) -> int:
    """Run the daemon until SIGTERM/SIGINT (or one pass with --once)."""
    stop = threading.Event()
    stop_on_signals(stop)
    with build_app(context.settings) as app:
        if once:
            return EXIT_OK if app.run_once(stop) else EXIT_FAILURE
        run_daemon(app, stop)
        abandon_stuck_calls()  # before closing the clients, which would wait for them
    return EXIT_OK


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def status(context: Context, as_json: bool) -> None:
    """Counts of orders, returns and outbox messages; last success/failure of each job."""
    with open_database(context.settings) as engine:
        jobs = {}
        for row in SyncStateStore(engine).all():
            name = (
                row["job"] if row["account"] == GLOBAL_ACCOUNT else f"{row['job']}:{row['account']}"
            )
            jobs[name] = {
                "last_success": _iso(row["last_success_at"]),
                "last_error": _iso(row["last_error_at"]),
                "last_error_message": row["last_error"],
            }
        report = {
            "orders": OrderStore(engine).counts(),
            "returns": ReturnStore(engine).counts(),
            "outbox": OutboxStore(engine).counts(),
            "jobs": jobs,
        }
    if as_json:
        click.echo(_to_json(report))
        return
    for section in ("orders", "returns", "outbox"):
        counts = report[section]
        assert isinstance(counts, dict)
        click.echo(f"{section:8} " + "  ".join(f"{k}={v}" for k, v in counts.items()))
    for name, state in jobs.items():
        click.echo(
            f"job {name}: last success {state['last_success'] or 'never'}, "
            f"last error {state['last_error'] or 'never'}"
        )


@cli.group()
def orders() -> None:
    """Stored orders."""


@orders.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--account", help="Only this account's orders.")
@click.option("--unconfirmed", is_flag=True, help="Only orders not yet confirmed.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@pass_context
def orders_list(
    context: Context, as_json: bool, account: str | None, unconfirmed: bool, limit: int
) -> None:
    """The most recent stored orders."""
    with open_database(context.settings) as engine:
        rows = OrderStore(engine).recent(
            account=account, confirmed=False if unconfirmed else None, limit=limit
        )
    if as_json:
        click.echo(_to_json(rows))
        return
    for row in rows:
        confirmed = row["confirmed_at"]
        click.echo(
            f"{row['account']:10} {row['feedamp_id']:>10} {row['cp_order_number'] or '-':14} "
            f"{row['state'] or '-':10} {row['mp_order_number'] or '-':22} "
            + (f"confirmed {confirmed.isoformat()}" if confirmed else "unconfirmed")
        )


@orders.command("show")
@click.argument("order_id")
@click.option("--account", help="The account, when several share the FeedAMP id.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (the default).")
@pass_context
def orders_show(context: Context, order_id: str, account: str | None, as_json: bool) -> int:
    """One stored order with its lines and the full order object as received."""
    with open_database(context.settings) as engine:
        order = OrderStore(engine).get(order_id, account=account)
    if order is None:
        click.echo(f"feedamp-sync: no stored order with FeedAMP id {order_id}", err=True)
        return EXIT_FAILURE
    click.echo(_to_json(order))
    return EXIT_OK


cli.add_command(sandbox)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code instead of raising SystemExit inside click."""
    try:
        result = cli.main(args=argv, prog_name="feedamp-sync", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_FAILURE
    except FeedampSyncError as error:
        click.echo(f"feedamp-sync: {scrub(str(error))}", err=True)
        return exit_code_for(error)
    return result if isinstance(result, int) else EXIT_OK


def entry_point() -> None:
    """The ``feedamp-sync`` console script."""
    sys.exit(main())
