"""The command line: parse arguments, call the application, map outcomes to exit codes.

Exit codes (docs/guarantees.md, "Exit codes"): 0 success, 1 runtime failure, 2 usage error,
65 invalid input data, 77 FeedAMP refused the credentials or client id, 78 invalid
configuration. Each command (or group) lives in its own module and is registered here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from feedamp_sync.cli.check import check
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, exit_code_for
from feedamp_sync.cli.db import db
from feedamp_sync.cli.enqueue import enqueue
from feedamp_sync.cli.events import events
from feedamp_sync.cli.healthcheck import healthcheck
from feedamp_sync.cli.orders import orders
from feedamp_sync.cli.outbox import outbox
from feedamp_sync.cli.quarantine import quarantine
from feedamp_sync.cli.returns import returns
from feedamp_sync.cli.run import run
from feedamp_sync.cli.status import status
from feedamp_sync.db.errors import reason
from feedamp_sync.errors import FeedampSyncError
from feedamp_sync.logs import configure_logging, scrub
from feedamp_sync.sandbox.command import sandbox
from feedamp_sync.settings import CONFIG_PATH_ENV


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


for command in (
    db,
    run,
    status,
    orders,
    returns,
    events,
    outbox,
    enqueue,
    quarantine,
    check,
    healthcheck,
    sandbox,
):
    cli.add_command(command)


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
    except SQLAlchemyError as error:
        # A query of a command failed: its reason, not a traceback quoting the order data.
        click.echo(f"feedamp-sync: {scrub(reason(error))}", err=True)
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK


def entry_point() -> None:
    """The ``feedamp-sync`` console script."""
    sys.exit(main())
