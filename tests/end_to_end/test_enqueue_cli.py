"""`feedamp-sync enqueue` accepting an action: the new message as JSON, warnings on stderr."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    fulfillment,
    lines_of,
    message_row,
    run_until_settled,
    shipment,
)
from tests.end_to_end.harness import CLIENT_ID, PASSWORD, USERNAME, cli, write_config


def test_a_payload_from_stdin_is_stored_and_printed_as_the_new_message(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`enqueue fulfillment ID -` prints {id, kind, target_id, status}; a naive time is warned."""
    [order_id] = sandbox.add_orders(1)
    line = lines_of(sandbox, order_id)[0]["mp_line_number"]
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    payload = fulfillment(line, shipment(1, "1Z-STDIN", shipped_date="2026-05-01T09:30:00"))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(payload).encode())))
    code, out, err = cli(capsys, config, "enqueue", "fulfillment", order_id, "-")
    assert code == 0, err
    printed = json.loads(out)
    assert printed == {
        "id": printed["id"],
        "kind": "fulfillment",
        "target_id": order_id,
        "status": "pending",
    }
    assert "has no UTC offset; taken as UTC" in err
    stored = message_row(engine, printed["id"]).payload
    assert (
        stored["order_lines"][0]["fulfillments"][0]["shipped_date"] == "2026-05-01T09:30:00+00:00"
    )


@pytest.mark.backends("sqlite")  # refused before the database is read
def test_with_several_accounts_enqueue_needs_account(
    server: SandboxServer,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Which account an order belongs to is not guessed: a usage error names the accounts."""
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    config.write_text(
        config.read_text()
        + "\n[[accounts]]\n"
        + f'name = "eu"\nbase_url = "{server.base_url}"\nusername = "{USERNAME}"\n'
        + f'password = "{PASSWORD}"\nclient_id = {CLIENT_ID}\n'
    )
    path = tmp_path / "refund.json"
    path.write_text("{}")
    code, _, err = cli(capsys, config, "enqueue", "refund", "10001", str(path))
    assert code == 2
    assert "several accounts are configured (main, eu); name one with --account" in err
