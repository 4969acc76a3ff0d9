"""The operator's outbox commands against the sandbox: list, show, retry and cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.harness import (
    FAST,
    assert_confirmed_exactly_once,
    cli,
    cli_json,
    merged,
    write_config,
)

ONE_ATTEMPT = merged(FAST, {"outbox": {"max_attempts": 1}})
OUTAGE = Faults(error_5xx=1.0, endpoints={"confirm"})


@pytest.fixture
def config(server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path) -> Path:
    return write_config(tmp_path, database_url, server.base_url, ONE_ATTEMPT)


def run_once(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err


def dead_confirm(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], config: Path) -> int:
    """One order whose confirm went dead during an outage; returns the message id."""
    sandbox.add_orders(1)
    sandbox.set_faults(OUTAGE)
    run_once(capsys, config)
    sandbox.set_faults(Faults())
    [dead] = cli_json(capsys, config, "outbox", "list", "--status", "dead")
    assert dead["last_error"].startswith("gave up after 1 attempts")
    return int(dead["id"])


def enqueue(engine: Engine, target_id: str, kind: str, payload: Any) -> int:
    """A message inserted the way a seller's system does: four columns, the rest defaulted."""
    with engine.begin() as conn:
        key = conn.execute(
            t.outbox.insert().values(
                account="main", kind=kind, target_id=target_id, payload=payload
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def test_retry_after_the_cause_is_fixed_sends_the_message(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A dead confirm retried once FeedAMP is back is sent, once, after a read-back."""
    message_id = dead_confirm(sandbox, capsys, config)
    code, out, err = cli(
        capsys, config, "outbox", "retry", str(message_id), "--reason", "FeedAMP is back"
    )
    assert (code, "pending again" in out) == (0, True), err
    run_once(capsys, config)
    shown = cli_json(capsys, config, "outbox", "show", str(message_id))
    assert (shown["status"], shown["attempts"], shown["attempts_budget_start"]) == ("sent", 2, 1)
    assert [a["outcome"] for a in shown["attempt_history"]] == ["dead", "sent"]
    assert shown["note"].endswith(" retry: FeedAMP is back")
    assert_confirmed_exactly_once(sandbox, engine, 1)
    assert sandbox.ledger("get_order")  # the retry read the order back before confirming


def test_cancel_lets_the_next_message_of_the_order_go(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A dead message blocks its order until cancelled; then the order's next message is sent."""
    message_id = dead_confirm(sandbox, capsys, config)
    [order_id] = sandbox.unconfirmed_orders()
    later = enqueue(engine, order_id, "confirm", {"cp_order_number": "ERP-7"})
    run_once(capsys, config)
    assert cli_json(capsys, config, "outbox", "show", str(later))["status"] == "pending"
    code, out, err = cli(
        capsys, config, "outbox", "cancel", str(message_id), "--reason", "ERP confirms it"
    )
    assert (code, "cancelled" in out) == (0, True), err
    run_once(capsys, config)
    cancelled = cli_json(capsys, config, "outbox", "show", str(message_id))
    assert (cancelled["status"], cancelled["note"].endswith(" cancel: ERP confirms it")) == (
        "cancelled",
        True,
    )
    assert cli_json(capsys, config, "outbox", "show", str(later))["status"] == "sent"
    assert sandbox.confirmed_orders() == {order_id: "ERP-7"}


@pytest.mark.parametrize(
    ("action", "said"),
    [
        ("retry", "only a dead message can be retried"),
        ("cancel", "only a pending or dead message can be cancelled"),
    ],
)
def test_a_sent_message_can_be_neither_retried_nor_cancelled(
    action: str,
    said: str,
    sandbox: Sandbox,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Retry and cancel of a sent message exit 1 saying why, and leave no note."""
    sandbox.add_orders(1)
    run_once(capsys, config)
    [sent] = cli_json(capsys, config, "outbox", "list", "--status", "sent")
    code, _, err = cli(capsys, config, "outbox", action, str(sent["id"]), "--reason", "try")
    assert (code, said in err) == (1, True)
    assert cli_json(capsys, config, "outbox", "show", str(sent["id"]))["note"] is None


def test_an_unknown_message_id_fails(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Acting on an id that is not in the outbox exits 1 naming the id."""
    code, _, err = cli(capsys, config, "outbox", "cancel", "424242", "--reason", "x")
    assert (code, "no outbox message with id 424242" in err) == (1, True)


@pytest.mark.backends("sqlite")  # refused before the database is read
@pytest.mark.parametrize("reason", [None, "   "], ids=["missing", "blank"])
def test_a_reason_is_required(
    reason: str | None, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Retry without a reason that says something is a usage error (exit 2)."""
    args = ["--reason", reason] if reason is not None else []
    code, _, err = cli(capsys, config, "outbox", "retry", "1", *args)
    assert (code, "--reason" in err) == (2, True)


def test_outbox_list_filters_by_status_kind_and_account(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`outbox list --json` narrows by --status, --kind and --account."""
    sandbox.add_orders(3)
    run_once(capsys, config)
    refund = enqueue(engine, "1", "refund", {"mp_line_number": "1"})

    def ids(*filters: str) -> list[int]:
        return [int(m["id"]) for m in cli_json(capsys, config, "outbox", "list", *filters)]

    assert len(ids("--status", "sent")) == 3
    assert ids("--kind", "refund") == [refund]
    assert ids("--status", "pending", "--kind", "confirm") == []
    assert ids("--account", "elsewhere") == []
    assert len(ids("--account", "main", "--limit", "2")) == 2


def test_outbox_show_lists_each_attempt_with_its_request(
    sandbox: Sandbox,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The readable `outbox show` has the status, no last error once sent, the note and
    every attempt in order, each with its status code."""
    message_id = dead_confirm(sandbox, capsys, config)
    cli(capsys, config, "outbox", "retry", str(message_id), "--reason", "back")
    run_once(capsys, config)
    code, out, _ = cli(capsys, config, "outbox", "show", str(message_id))
    lines = out.splitlines()
    attempts = [line for line in lines if line.startswith("  #")]
    assert code == 0
    assert "status:     sent" in lines
    assert "last error: none" in lines  # not FeedAMP's 200 for the send
    assert "attempts:   2 (1 since the last retry)" in lines
    assert any(line.endswith(" retry: back") for line in lines)
    assert [line.split()[2:4] for line in attempts] == [["dead", "HTTP"], ["sent", "HTTP"]]
    assert (
        lines[lines.index(attempts[1]) + 1].strip().startswith('request:  {"cp_order_number": "FA')
    )
