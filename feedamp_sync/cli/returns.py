"""``returns``: the stored returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import click

from feedamp_sync.app import open_database
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context, to_json
from feedamp_sync.cli.fetching import account_client, chosen_account
from feedamp_sync.cli.table import cell, table
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.refresh import read_return

LIST_COLUMNS = {
    "ACCOUNT": "account",
    "RETURN": "feedamp_id",
    "STATE": "state",
    "ORDER": "order_feedamp_id",
    "MP RETURN NUMBER": "mp_return_number",
    "STATE CHANGED AT": "state_changed_at",
}


@click.group()
def returns() -> None:
    """Stored returns."""


@returns.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--account", help="Only this account's returns.")
@click.option("--state", help="Only returns in this state, e.g. 'Pending Refund'.")
@click.option("--open", "open_only", is_flag=True, help="Only open returns (not yet closed).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@pass_context
def returns_list(
    context: Context,
    as_json: bool,
    account: str | None,
    state: str | None,
    open_only: bool,
    limit: int,
) -> None:
    """The most recently stored returns."""
    with open_database(context.settings) as engine:
        rows = ReturnStore(engine).recent(
            account=account, state=state, open_only=open_only, limit=limit
        )
    if as_json:
        click.echo(to_json(rows))
        return
    click.echo(table(LIST_COLUMNS, rows))


@returns.command("show")
@click.argument("return_id")
@click.option("--account", help="The account, when several share the FeedAMP id.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable output, with the full return object as received.",
)
@pass_context
def returns_show(context: Context, return_id: str, account: str | None, as_json: bool) -> int:
    """One stored return: its summary and its lines. --json adds the full return object
    as received."""
    with open_database(context.settings) as engine:
        found = ReturnStore(engine).get(return_id, account=account)
    if found is None:
        click.echo(f"feedamp-sync: no stored return with FeedAMP id {return_id}", err=True)
        return EXIT_FAILURE
    click.echo(to_json(found) if as_json else "\n".join(_described(found)))
    return EXIT_OK


LINE_COLUMNS: Final = {
    "LINE": "mp_return_line_number",
    "ID": "feedamp_return_line_id",
    "ORDER LINE": "mp_order_line_number",
    "SKU": "sku",
    "QUANTITY": "quantity",
    "REASON": "reason",
}


def _described(found: dict[str, Any]) -> list[str]:
    """The return for people: its summary, then a row per line."""
    return [
        f"return {found['feedamp_id']} (account {found['account']}) "
        f"of order {cell(found['order_feedamp_id'])}",
        f"  mp return number:        {cell(found['mp_return_number'])}",
        f"  mp order number:         {cell(found['mp_order_number'])}",
        f"  merchant return number:  {cell(found['merchant_return_number'])}",
        f"  state:                   {cell(found['state'])} "
        f"(since {cell(found['state_changed_at'])})",
        f"  requested:               {cell(found['request_date'])}",
        f"  respond by:              {cell(found['respond_by_date'])}",
        f"  stored:                  {cell(found['first_seen_at'])}; copy changed "
        f"{cell(found['updated_at'])}",
        "",
        table(LINE_COLUMNS, found["lines"]),
    ]


@returns.command("fetch")
@click.argument("return_id")
@click.option("--account", help="The account, when several are configured.")
@pass_context
def returns_fetch(context: Context, return_id: str, account: str | None) -> int:
    """Read one return from FeedAMP now and store it as the returns poll does."""
    settings = context.settings
    chosen = chosen_account(settings, account)
    with open_database(settings) as engine, account_client(settings, chosen) as client:
        stored = read_return(
            client,
            ReturnStore(engine),
            QuarantineStore(engine),
            return_id,
            clock=lambda: datetime.now(UTC),
        )
        shown = ReturnStore(engine).get(return_id, account=chosen.name) if stored else None
    if shown is None:
        click.echo(
            f"feedamp-sync: return {return_id} cannot be stored as FeedAMP sent it; "
            "held in quarantine (feedamp-sync quarantine list)",
            err=True,
        )
        return EXIT_FAILURE
    click.echo(to_json(shown))
    return EXIT_OK
