"""``run``: the daemon, or one pass of every job."""

from __future__ import annotations

import click

from feedamp_sync.app import Stop, build_app
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context
from feedamp_sync.daemon import abandon_stuck_calls, run_daemon, stop_on_signals


@click.command()
@click.option("--once", is_flag=True, help="One full pass of every job, then exit.")
@pass_context
def run(context: Context, once: bool) -> int:
    """Run the daemon until SIGTERM/SIGINT (or one pass with --once)."""
    stop = Stop()
    stop_on_signals(stop)
    with build_app(context.settings) as app:
        if once:
            completed = app.run_once(stop)
            if stop.is_set():
                abandon_stuck_calls(EXIT_FAILURE)  # an interrupted pass is no success
            return EXIT_OK if completed else EXIT_FAILURE
        run_daemon(app, stop)
        abandon_stuck_calls()  # before closing the clients, which would wait for them
    return EXIT_OK
