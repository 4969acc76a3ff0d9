"""``events``: the event log, read by cursor (``list``) or followed (``tail``).

A script consumes the log without a server: it keeps the id of the last event it handled and
asks for the events after it. Events commit in id order (``db/events.py``), so a cursor never
passes over one.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, Final

import click

from feedamp_sync.app import open_database
from feedamp_sync.cli.common import EXIT_OK, Context, pass_context, to_json
from feedamp_sync.cli.table import table
from feedamp_sync.core.events import EVENT_TYPES
from feedamp_sync.db.events import EventStore, public_event

LIST_COLUMNS: Final = {
    "ID": "id",
    "OCCURRED AT": "occurred_at",
    "TYPE": "type",
    "ACCOUNT": "account",
    "SUBJECT": "subject",
    "DATA": "data",
}
TAIL_BATCH: Final = 500
"""The most events one read of ``tail`` takes; it reads again at once while more are there."""

type_option = click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice(EVENT_TYPES),
    help="Only events of this type (repeatable).",
)
account_option = click.option("--account", help="Only this account's events.")


@click.group()
def events() -> None:
    """The event log for the seller's systems (see the README's event catalogue)."""


@events.command("list")
@click.option("--after", default=0, show_default=True, type=click.IntRange(0), help="Cursor.")
@type_option
@account_option
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def events_list(
    context: Context,
    after: int,
    types: Sequence[str],
    account: str | None,
    limit: int,
    as_json: bool,
) -> int:
    """Events with an id above --after, oldest first: hand the last id printed to the next
    call as --after to read on."""
    with open_database(context.settings) as engine:
        rows = [
            public_event(row)
            for row in EventStore(engine).after(after, types=types, account=account, limit=limit)
        ]
    if as_json:
        click.echo(to_json(rows))
    else:
        click.echo(table(LIST_COLUMNS, [{**row, "data": _compact(row["data"])} for row in rows]))
    return EXIT_OK


@events.command("tail")
@click.option(
    "--after",
    type=click.IntRange(0),
    help="Start after this id (default: after the newest event: only new ones are shown).",
)
@type_option
@account_option
@click.option(
    "--interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="Seconds between two reads of the log.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def events_tail(
    context: Context,
    after: int | None,
    types: Sequence[str],
    account: str | None,
    interval: float,
    as_json: bool,
) -> int:
    """Print events as they are recorded, until SIGINT or SIGTERM (exit 0)."""
    stop = threading.Event()
    _stop_on_signals(stop)
    with open_database(context.settings) as engine:
        store = EventStore(engine)
        cursor = store.newest_id() if after is None else after
        while not stop.is_set():
            rows = store.after(cursor, types=types, account=account, limit=TAIL_BATCH)
            for row in rows:
                event = public_event(row)
                click.echo(_compact(event) if as_json else _line(event))
                cursor = row["id"]
            if len(rows) < TAIL_BATCH:
                stop.wait(interval)
    return EXIT_OK


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _line(event: dict[str, Any]) -> str:
    return " ".join(
        str(part)
        for part in (
            event["id"],
            event["occurred_at"],
            event["type"],
            event["account"],
            event["subject"],
            _compact(event["data"]),
        )
    )
