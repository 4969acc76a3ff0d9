"""``outbox``: the operator's view of the queue, and retry or cancel of one message.

Retry and cancel record their reason on the message (``note``), so the table keeps why a
message was sent again or given up; the rules are in :mod:`feedamp_sync.core.operator`.
"""

from __future__ import annotations

import json
from typing import Any

import click

from feedamp_sync.app import open_database, utc_now
from feedamp_sync.cli.common import EXIT_FAILURE, EXIT_OK, Context, iso, pass_context, to_json
from feedamp_sync.cli.table import table
from feedamp_sync.core.operator import Action, clean_reason
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.tables import OUTBOX_STATUSES
from feedamp_sync.model import Undecodable
from feedamp_sync.outbox.kinds import KINDS

ERROR_PREVIEW_CHARS = 80
LIST_COLUMNS = {
    "ID": "id",
    "ACCOUNT": "account",
    "KIND": "kind",
    "TARGET": "target_id",
    "STATUS": "status",
    "ATTEMPTS": "attempts",
    "LAST ERROR": "error",
}


@click.group()
def outbox() -> None:
    """Inspect, retry and cancel outbox messages."""


@outbox.command("list")
@click.option("--status", type=click.Choice(OUTBOX_STATUSES), help="Only this status.")
@click.option("--kind", type=click.Choice(list(KINDS)), help="Only this kind.")
@click.option("--account", help="Only this account's messages.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def outbox_list(
    context: Context,
    status: str | None,
    kind: str | None,
    account: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The most recent messages, newest first."""
    with open_database(context.settings) as engine:
        rows = OutboxStore(engine, KINDS.return_kinds).messages(
            status=status, kind=kind, account=account, limit=limit
        )
    if as_json:
        click.echo(to_json(rows))
        return
    shown = [
        row | {"error": _error(row["last_status_code"], row["last_error"])[:ERROR_PREVIEW_CHARS]}
        for row in rows
    ]
    click.echo(table(LIST_COLUMNS, shown))


@outbox.command("show")
@click.argument("message_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def outbox_show(context: Context, message_id: int, as_json: bool) -> int:
    """One message: payload, last error and response, note, and every attempt."""
    with open_database(context.settings) as engine:
        message = OutboxStore(engine, KINDS.return_kinds).message(message_id)
    if message is None:
        click.echo(f"feedamp-sync: no outbox message with id {message_id}", err=True)
        return EXIT_FAILURE
    payload = message["payload"]
    if isinstance(payload, Undecodable):
        # Shown as stored, so an operator can see what was inserted and cancel or fix it.
        message |= {"payload": None, "payload_text": payload.text, "payload_error": payload.reason}
    click.echo(to_json(message) if as_json else "\n".join(_describe(message)))
    return EXIT_OK


def _describe(message: dict[str, Any]) -> list[str]:
    attempts = str(message["attempts"])
    if message["attempts_budget_start"]:
        since = message["attempts"] - message["attempts_budget_start"]
        attempts += f" ({since} since the last retry)"
    note = message["note"]
    lines = [
        f"message {message['id']}: {message['kind']} for {message['target_id']} "
        f"(account {message['account']})",
        f"status:     {message['status']}",
        f"attempts:   {attempts}",
        f"created:    {iso(message['created_at'])}",
        f"next try:   {iso(message['next_attempt_at'])}",
        f"sent:       {iso(message['sent_at']) or '-'}",
        f"last error: {_error(message['last_status_code'], message['last_error']) or 'none'}",
        f"payload:    {_payload(message)}",
        f"response:   {_compact(message['response'])}",
        "note:" + "".join(f"\n  {line}" for line in note.splitlines()) if note else "note: -",
        f"attempt history ({len(message['attempt_history'])}):",
    ]
    for attempt in message["attempt_history"]:
        lines.append(
            f"  #{attempt['attempt']} {iso(attempt['finished_at'])} {attempt['outcome']} "
            f"{_answer(attempt['status_code'], attempt['error'])}".rstrip()
        )
        lines.append(f"     request:  {_compact(attempt['request'])}")
        lines.append(f"     response: {_compact(attempt['response'])}")
    return lines


def _error(code: int | None, error: str | None) -> str:
    """The error with its status code; nothing when there was none (a sent message keeps
    FeedAMP's status code, 200, which is no error)."""
    return _answer(code, error) if error else ""


def _answer(code: int | None, error: str | None) -> str:
    """The status code with the error, which API errors already start with."""
    status = f"HTTP {code}" if code is not None else ""
    text = error or ""
    return text if text.startswith(status) else f"{status} {text}".strip()


def _payload(message: dict[str, Any]) -> str:
    if "payload_error" in message:
        return f"{message['payload_error']}: {message['payload_text']}"
    return _compact(message["payload"])


def _compact(value: Any) -> str:
    return "-" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _reason(_: click.Context, __: click.Parameter, value: str) -> str:
    try:
        return clean_reason(value)
    except ValueError as error:
        raise click.BadParameter(str(error).removeprefix("--reason: ")) from None


REASON = click.option(
    "--reason",
    required=True,
    callback=_reason,
    help="Why (recorded with the time in the message's note).",
)


@outbox.command("retry")
@click.argument("message_id", type=int)
@REASON
@pass_context
def outbox_retry(context: Context, message_id: int, reason: str) -> int:
    """Put a dead message back in the queue, due now, with a fresh attempt budget."""
    return _operate(context, "retry", message_id, reason)


@outbox.command("cancel")
@click.argument("message_id", type=int)
@REASON
@pass_context
def outbox_cancel(context: Context, message_id: int, reason: str) -> int:
    """Give up on a pending or dead message (later messages of its target may then go)."""
    return _operate(context, "cancel", message_id, reason)


def _operate(context: Context, action: Action, message_id: int, reason: str) -> int:
    with open_database(context.settings) as engine:
        store = OutboxStore(engine, KINDS.return_kinds)
        operate = store.retry if action == "retry" else store.cancel
        result = operate(message_id, reason=reason, now=utc_now())
    if result.refused is not None:
        click.echo(f"feedamp-sync: {result.refused}", err=True)
        return EXIT_FAILURE
    done = "is pending again, due now" if action == "retry" else "is cancelled"
    click.echo(f"outbox message {message_id} {done}; the reason is in its note")
    return EXIT_OK
