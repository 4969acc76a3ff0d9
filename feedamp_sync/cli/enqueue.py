"""``enqueue``: validate a seller action from a file (or stdin) and add it to the outbox."""

from __future__ import annotations

import json
from typing import Any, BinaryIO, Final

import click

from feedamp_sync.app import open_database
from feedamp_sync.cli.common import EXIT_DATA, EXIT_OK, Context, pass_context, to_json
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.logs import scrub
from feedamp_sync.outbox.enqueue import enqueue as add_to_outbox
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.settings import Settings
from feedamp_sync.storable import storable_text

_CLI_NAMES: Final = [kind.cli_name for kind in KINDS.seller if kind.cli_name is not None]


def _kinds_help() -> str:
    width = max(len(f"{kind.cli_name} {kind.target.name}_ID") for kind in KINDS.seller)
    return "\n".join(
        f"{kind.cli_name} {kind.target.name}_ID".ljust(width + 1) + kind.summary
        for kind in KINDS.seller
    )


@click.command(
    epilog="\b\nKinds:\n" + _kinds_help(),
)
@click.argument("kind", type=click.Choice(_CLI_NAMES))
@click.argument("target_id", metavar="ID")
@click.argument("file", type=click.File("rb"))
@click.option("--account", help="The account (required when several are configured).")
@pass_context
def enqueue(
    context: Context, kind: str, target_id: str, file: BinaryIO, account: str | None
) -> int:
    """Add a seller action for order (or return) ID, read as JSON from FILE ('-': stdin).

    Everything is validated first: any problem exits 65 with every problem listed, and
    nothing is stored. Prints the new message as JSON.
    """
    settings = context.settings
    chosen = _account(settings, account)
    what = f"{kind} for {storable_text(target_id)}"  # an argument's bytes not UTF-8, escaped
    try:
        payload = _read_json(file)
        with open_database(settings) as engine, engine.begin() as conn:
            added = add_to_outbox(
                conn,
                account=chosen,
                kind=KINDS.by_cli_name(kind).name,
                target_id=target_id,
                payload=payload,
                settings=settings,
            )
    except InvalidPayload as invalid:
        click.echo(f"feedamp-sync: {what} refused, nothing stored:", err=True)
        for problem in invalid.problems:
            click.echo(f"  {scrub(problem)}", err=True)
        return EXIT_DATA
    for warning in added.warnings:
        click.echo(f"feedamp-sync: warning: {scrub(warning)}", err=True)
    click.echo(to_json(added.summary()))
    return EXIT_OK


def _account(settings: Settings, given: str | None) -> str:
    names = [account.name for account in settings.accounts]
    if given is None:
        if len(names) > 1:
            raise click.UsageError(
                f"several accounts are configured ({', '.join(names)}); name one with --account"
            )
        return names[0]
    if given not in names:
        raise click.BadParameter(
            f"{given!r} is not configured; configured: {', '.join(names)}", param_hint="--account"
        )
    return given


def _read_json(file: BinaryIO) -> Any:
    """The file's JSON; InvalidPayload for text that is not strict JSON.

    A key given twice is refused (``json`` would keep the last one silently), and so are
    ``NaN`` and ``Infinity``, which are not JSON.
    """
    name = getattr(file, "name", "<stdin>")
    source = "stdin" if name == "<stdin>" else str(name)
    try:
        text = file.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPayload([f"{source}: not UTF-8 text ({exc.reason})"]) from None
    try:
        return json.loads(text, object_pairs_hook=_no_repeats, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidPayload(
            [f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
        ) from None
    except ValueError as exc:
        raise InvalidPayload([f"{source}: not valid JSON ({exc})"]) from None
    except RecursionError:
        raise InvalidPayload([f"{source}: JSON nested too deeply to read"]) from None


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"key {key!r} appears twice in one object")
        obj[key] = value
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
