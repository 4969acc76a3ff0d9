"""``healthcheck``: exit 0 when the running daemon says it is ready, else 1 (for HEALTHCHECK)."""

from __future__ import annotations

import click

from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context
from feedamp_sync.errors import ConfigError
from feedamp_sync.logs import scrub
from feedamp_sync.ops.probe import probe_ready


@click.command()
@click.option(
    "--timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 60), help="Seconds."
)
@pass_context
def healthcheck(context: Context, timeout: float) -> int:
    """Ask the running daemon's /readyz (at health.listen); 0 ready, 1 anything else."""
    try:
        health = context.settings.health
    except ConfigError as error:  # a container probe knows 0 and 1 only
        click.echo(f"healthcheck: {scrub(str(error))}", err=True)
        return EXIT_FAILURE
    if not health.enabled:
        click.echo("healthcheck: the health listener is off; set health.enabled = true", err=True)
        return EXIT_FAILURE
    ready, message = probe_ready(health.address, timeout)
    click.echo(f"healthcheck: {message}", err=not ready)
    return EXIT_OK if ready else EXIT_FAILURE
