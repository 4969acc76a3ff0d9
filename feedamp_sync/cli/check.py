"""``check``: is the configuration usable, the database migrated, every account accepted?"""

from __future__ import annotations

import os

import click

from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, exit_code_for, pass_context
from feedamp_sync.logs import scrub
from feedamp_sync.ops.preflight import Result, run_checks


@click.command()
@pass_context
def check(context: Context) -> int:
    """Validate the config, reach the database and FeedAMP; one line per check.

    Exits 0 when all pass, else with the code of the first failure: 78 configuration (or
    database not migrated), 77 credentials or client id refused, 1 unreachable.
    """
    results = []
    for result in run_checks(context.config, os.environ):
        click.echo(f"{_verdict(result):4} {result.name}: {scrub(result.detail)}")
        results.append(result)
    return exit_code(results)


def exit_code(results: list[Result]) -> int:
    """The first failed check's exit code; 0 when every check passed."""
    for result in results:
        if result.error is not None:
            return exit_code_for(result.error)
    return EXIT_OK if results else EXIT_FAILURE


def _verdict(result: Result) -> str:
    if not result.ok:
        return "FAIL"
    return "WARN" if result.warning else "ok"
