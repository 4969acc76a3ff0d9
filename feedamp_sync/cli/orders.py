"""``orders``: the stored orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import click

from feedamp_sync.app import open_database
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, pass_context, to_json
from feedamp_sync.cli.fetching import account_client, chosen_account
from feedamp_sync.cli.table import cell, table
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.timeline import order_timeline
from feedamp_sync.outbox.fulfillment import FULFILLMENT
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.ledger import (
    FEEDAMP,
    Basis,
    Ledger,
    SentAction,
    StoredCopy,
    order_ledger,
)
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
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable output, with the full order object as received.",
)
@pass_context
def orders_show(context: Context, order_id: str, account: str | None, as_json: bool) -> int:
    """One stored order: its summary, its ledger (per line, what was ordered, shipped,
    cancelled and refunded, and whether FeedAMP or which message did it) and its timeline
    (stored, confirmed, state changes, messages and attempts). --json adds its lines and the
    full order object as received."""
    with open_database(context.settings) as engine:
        order = OrderStore(engine).get(order_id, account=account)
        if order is None:
            click.echo(f"feedamp-sync: no stored order with FeedAMP id {order_id}", err=True)
            return EXIT_FAILURE
        order["timeline"] = order_timeline(engine, order, KINDS.return_kinds)
        outbox = OutboxStore(engine, KINDS.return_kinds)
        sent = {
            kind: [
                SentAction(m["id"], m["payload"], m["response"], m["sent_at"])
                for m in outbox.sent_for(order["account"], order["feedamp_id"], kind)
            ]
            for kind in (FULFILLMENT.name, REFUND.name)
        }
    lines = [(line["mp_line_number"], line["quantity"]) for line in order["lines"]]
    stored = StoredCopy(order["data"], order["updated_at"])
    ledger = order_ledger(lines, sent[FULFILLMENT.name], sent[REFUND.name], stored)
    order["ledger"] = ledger.lines
    order["ledger_basis"] = ledger.basis.fields()
    click.echo(to_json(order) if as_json else "\n".join(_described(order, ledger)))
    return EXIT_OK


SUMMARY_COLUMNS: Final = {
    "LINE": "mp_line_number",
    "SKU": "sku",
    "ORDERED": "ordered",
    "SHIPPED": "shipped",
    "CANCELLED": "cancelled",
    "REFUNDED": "refunded",
}
ENTRY_COLUMNS: Final = {
    "LINE": "line",
    "ENTRY": "entry",
    "UNITS": "units",
    "DETAIL": "detail",
    "SOURCE": "source",
}
TIMELINE_COLUMNS: Final = {"AT": "at", "EVENT": "event", "DETAIL": "detail"}
REFUND_AMOUNTS: Final = (
    "item_refund",
    "item_tax_refund",
    "shipping_refund",
    "shipping_tax_refund",
    "discount_refund",
)


def _described(order: dict[str, Any], ledger: Ledger) -> list[str]:
    """The order for people: summary, ledger (a line each, then every entry with its
    source) and timeline."""
    skus = {line["mp_line_number"]: line["sku"] for line in order["lines"]}
    marketplace, marketplace_state = order["marketplace"], order["marketplace_state"]
    lines = [
        f"order {order['feedamp_id']} (account {order['account']})",
        f"  mp order number:  {cell(order['mp_order_number'])}"
        + (f" ({cell(marketplace)})" if marketplace else ""),
        f"  cp order number:  {cell(order['cp_order_number'])}",
        f"  state:            {cell(order['state'])}"
        + (f" (marketplace: {cell(marketplace_state)})" if marketplace_state else ""),
        f"  purchased:        {cell(order['purchase_date'])}",
        f"  confirmed:        {cell(order['confirmed_at'])}",
        f"  final since:      {cell(order['final_at'])}",
        f"  first stored:     {cell(order['first_seen_at'])}",
        f"  copy read:        {cell(order['refreshed_at'])} "
        f"(last changed {cell(order['updated_at'])})",
        "",
        f"ledger, {_basis(ledger.basis)}:",
        table(
            SUMMARY_COLUMNS,
            [line | {"sku": skus.get(line["mp_line_number"])} for line in ledger.lines],
        ),
    ]
    entries = [entry for line in ledger.lines for entry in _entries(line)]
    if entries:
        lines += ["", table(ENTRY_COLUMNS, entries)]
    timeline = [_event(entry) for entry in order["timeline"]]
    lines += ["", "timeline:", table(TIMELINE_COLUMNS, timeline)]
    return lines


def _basis(basis: Basis) -> str:
    """Where the ledger's shipments and cancellations come from, in words."""
    if basis.shown_by == "order":
        said = f"as FeedAMP's copy of the order shows them (stored, changed {cell(basis.at)})"
    elif basis.shown_by == "answer":
        said = (
            f"as FeedAMP's answer to message {basis.message_id} shows them (sent {cell(basis.at)})"
        )
    else:
        return "as this daemon sent them (no copy from FeedAMP shows fulfillment data)"
    if basis.applied:
        said += ", with message " + ", ".join(map(str, basis.applied)) + " sent since"
    return said


def _entries(line: dict[str, Any]) -> list[dict[str, Any]]:
    """Each shipment, cancellation and refund of a ledger line, as one row each."""
    number = line["mp_line_number"]
    rows = [
        {
            "line": number,
            "entry": "shipment",
            "units": s.get("quantity_shipped"),
            "detail": _joined(s.get("tracking_number"), s.get("carrier"), s.get("shipped_date")),
            "source": _source(s["source"]),
        }
        for s in line["shipments"]
    ]
    rows += [
        {
            "line": number,
            "entry": "cancellation",
            "units": c.get("quantity_cancelled"),
            "detail": _joined(c.get("cancellation_reason")),
            "source": _source(c["source"]),
        }
        for c in line["cancellations"]
    ]
    rows += [
        {
            "line": number,
            "entry": "refund",
            "units": r.get("refund_quantity"),
            "detail": _joined(
                r.get("cp_refund_number"),
                r.get("refund_reason"),
                *(
                    f"{name.removesuffix('_refund').replace('_', ' ')} {r[name]} "
                    f"{r.get('currency', '')}".rstrip()
                    for name in REFUND_AMOUNTS
                    if r.get(name)
                ),
            ),
            "source": _source(r["source"]),
        }
        for r in line["refunds"]
    ]
    return rows


def _event(entry: dict[str, Any]) -> dict[str, Any]:
    """One timeline entry as a row: its time, event and what else it carries."""
    event = entry["event"]
    if event.endswith("_changed"):
        detail = f"{cell(entry['from'])} -> {cell(entry['to'])} ({entry['source']})"
    elif event == "message_enqueued":
        detail = f"message {entry['message_id']} {entry['kind']}, now {entry['status']}"
    elif event == "attempt":
        code = entry["status_code"]
        detail = _joined(
            f"message {entry['message_id']} {entry['kind']} #{entry['attempt']}",
            entry["outcome"],
            f"HTTP {code}" if code is not None else None,
            entry["error"],
        )
    else:
        detail = ""
    return {"at": entry["at"], "event": event, "detail": detail}


def _source(source: str) -> str:
    return ", ".join("FeedAMP" if part == FEEDAMP else part for part in source.split(", "))


def _joined(*parts: Any) -> str:
    return "  ".join(str(part) for part in parts if part not in (None, ""))


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
