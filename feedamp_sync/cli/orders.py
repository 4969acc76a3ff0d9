"""``orders``: the stored orders."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from feedamp_sync.app import open_database
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context, to_json
from feedamp_sync.cli.fetching import account_client, chosen_account
from feedamp_sync.cli.table import table
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.timeline import order_timeline
from feedamp_sync.outbox.fulfillment import FULFILLMENT
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.ledger import SentAction, order_ledger
from feedamp_sync.outbox.refund import REFUND
from feedamp_sync.refresh import read_order

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
@click.option("--state", help="Only orders in this FeedAMP state (any case), e.g. CANCELLED.")
@click.option(
    "--changed-since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    help="Only orders whose state changed at or after this time (UTC unless an offset is given).",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@pass_context
def orders_list(
    context: Context,
    as_json: bool,
    account: str | None,
    unconfirmed: bool,
    state: str | None,
    changed_since: datetime | None,
    limit: int,
) -> None:
    """The most recent stored orders."""
    since = None
    if changed_since is not None:
        since = (
            changed_since.replace(tzinfo=UTC)
            if changed_since.tzinfo is None
            else changed_since.astimezone(UTC)
        )
    with open_database(context.settings) as engine:
        rows = OrderStore(engine).recent(
            account=account,
            confirmed=False if unconfirmed else None,
            state=state,
            changed_since=since,
            limit=limit,
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
    """One stored order as JSON, with its lines, the full order object as received, its
    ledger (per line, what was ordered, shipped, cancelled and refunded, and by which
    message) and its timeline (stored, confirmed, state changes, messages and attempts)."""
    with open_database(context.settings) as engine:
        order = OrderStore(engine).get(order_id, account=account)
        if order is None:
            click.echo(f"feedamp-sync: no stored order with FeedAMP id {order_id}", err=True)
            return EXIT_FAILURE
        order["timeline"] = order_timeline(engine, order, KINDS.return_kinds)
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


@orders.command("fetch")
@click.argument("order_id")
@click.option("--account", help="The account, when several are configured.")
@pass_context
def orders_fetch(context: Context, order_id: str, account: str | None) -> int:
    """Read one order from FeedAMP now and store it, recording its state changes. An order
    never stored before is stored as the poller stores it, and confirmed only if FeedAMP
    still reports it unconfirmed."""
    settings = context.settings
    chosen = chosen_account(settings, account)
    with open_database(settings) as engine, account_client(settings, chosen) as client:
        stored = read_order(
            client,
            OrderStore(engine),
            QuarantineStore(engine),
            order_id,
            clock=lambda: datetime.now(UTC),
            source="fetch",
            confirm=settings.confirm,
        )
    if stored is None:
        click.echo(
            f"feedamp-sync: order {order_id} cannot be stored as FeedAMP sent it; "
            "held in quarantine (feedamp-sync quarantine list)",
            err=True,
        )
        return EXIT_FAILURE
    outcome = "new" if stored.new else "changed" if stored.changed else "unchanged"
    click.echo(
        to_json(
            {
                "account": chosen.name,
                "feedamp_id": order_id,
                "stored": outcome,
                "changes": [vars(change) for change in stored.changes],
                "confirm_enqueued": stored.confirm_enqueued,
            }
        )
    )
    return EXIT_OK
