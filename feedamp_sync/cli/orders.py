"""``orders``: the stored orders."""

from __future__ import annotations

import click

from feedamp_sync.app import open_database
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context, to_json
from feedamp_sync.cli.table import table
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.outbox.fulfillment import FULFILLMENT
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.ledger import SentAction, order_ledger
from feedamp_sync.outbox.refund import REFUND

LIST_COLUMNS = {
    "ACCOUNT": "account",
    "ORDER": "feedamp_id",
    "CP ORDER NUMBER": "cp_order_number",
    "STATE": "state",
    "MP ORDER NUMBER": "mp_order_number",
    "CONFIRMED AT": "confirmed_at",
}


@click.group()
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
        click.echo(to_json(rows))
        return
    click.echo(table(LIST_COLUMNS, rows))


@orders.command("show")
@click.argument("order_id")
@click.option("--account", help="The account, when several share the FeedAMP id.")
@pass_context
def orders_show(context: Context, order_id: str, account: str | None) -> int:
    """One stored order as JSON, with its lines, the full order object as received, and its
    ledger: per line, what was ordered, shipped, cancelled and refunded, and by which message."""
    with open_database(context.settings) as engine:
        order = OrderStore(engine).get(order_id, account=account)
        if order is None:
            click.echo(f"feedamp-sync: no stored order with FeedAMP id {order_id}", err=True)
            return EXIT_FAILURE
        outbox = OutboxStore(engine, KINDS.return_kinds)
        sent = {
            kind: [
                SentAction(m["id"], m["payload"], m["response"])
                for m in outbox.sent_for(order["account"], order["feedamp_id"], kind)
            ]
            for kind in (FULFILLMENT.name, REFUND.name)
        }
    lines = [(line["mp_line_number"], line["quantity"]) for line in order["lines"]]
    order["ledger"] = order_ledger(lines, sent[FULFILLMENT.name], sent[REFUND.name])
    click.echo(to_json(order))
    return EXIT_OK
