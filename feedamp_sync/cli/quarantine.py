"""``quarantine``: orders and returns FeedAMP sent that could not be stored as received."""

from __future__ import annotations

import click

from feedamp_sync.app import open_database
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context, to_json
from feedamp_sync.cli.table import table
from feedamp_sync.db.quarantine import QuarantineStore

LIST_COLUMNS = {
    "ID": "id",
    "ACCOUNT": "account",
    "KIND": "kind",
    "FEEDAMP ID": "feedamp_id",
    "SEEN": "times_seen",
    "LAST SEEN": "last_seen_at",
    "RESOLVED AT": "resolved_at",
    "REASON": "reason",
}


@click.group()
def quarantine() -> None:
    """Orders and returns set aside because they cannot be stored as received."""


@quarantine.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--account", help="Only this account's entries.")
@click.option("--all", "everything", is_flag=True, help="Resolved entries too.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@pass_context
def quarantine_list(
    context: Context, as_json: bool, account: str | None, everything: bool, limit: int
) -> None:
    """The most recently seen entries (open ones unless --all), without their raw text."""
    with open_database(context.settings) as engine:
        rows = QuarantineStore(engine).entries(account=account, resolved=everything, limit=limit)
    if as_json:
        click.echo(to_json(rows))
        return
    click.echo(table(LIST_COLUMNS, rows))


@quarantine.command("show")
@click.argument("entry_id", type=int)
@pass_context
def quarantine_show(context: Context, entry_id: int) -> int:
    """One entry as JSON, with the object's raw text as FeedAMP sent it."""
    with open_database(context.settings) as engine:
        entry = QuarantineStore(engine).entry(entry_id)
    if entry is None:
        click.echo(f"feedamp-sync: no quarantine entry with id {entry_id}", err=True)
        return EXIT_FAILURE
    click.echo(to_json(entry))
    return EXIT_OK
