"""Numbers that never collide, and refunds under the answers the docs leave open.

A second database on the same FeedAMP account (a move, a restore, a staging copy) must issue
numbers of its own; a duplicate refusal must be read whatever status and words FeedAMP uses;
a return whose lines carry no id can still be refunded by naming them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    lines_of,
    refund,
    run_until_settled,
    statuses,
)
from tests.end_to_end.harness import cli, cli_json, write_config


def refund_first_line(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path, sandbox: Sandbox, order: str
) -> None:
    line = lines_of(sandbox, order)[0]["mp_line_number"]
    payload = refund(line, refund_quantity=1)
    assert enqueue_cli(capsys, config, tmp_path, "refund", order, payload)[0] == 0


def test_a_second_database_on_the_same_account_confirms_and_refunds_without_collision(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each database's first order and first refund get numbers the other never used."""
    first_orders = sandbox.add_orders(3)
    (tmp_path / "first").mkdir()
    first = write_config(tmp_path / "first", database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, first, engine)
    refund_first_line(capsys, first, tmp_path, sandbox, first_orders[0])
    run_until_settled(capsys, first, engine)

    second_orders = sandbox.add_orders(3)
    (tmp_path / "second").mkdir()
    second_url = f"sqlite:///{tmp_path / 'second' / 'second.db'}"
    second = write_config(tmp_path / "second", second_url, server.base_url, QUICK_RETRIES)
    assert cli(capsys, second, "db", "upgrade")[0] == 0
    assert cli(capsys, second, "run", "--once")[0] == 0
    refund_first_line(capsys, second, tmp_path, sandbox, second_orders[0])
    assert cli(capsys, second, "run", "--once")[0] == 0

    assert sandbox.unconfirmed_orders() == []
    refunds = [effect["cp_refund_number"] for effect in sandbox.effects("refund")]
    assert len(refunds) == len(set(refunds)) == 2
    dead = cli_json(capsys, second, "outbox", "list", "--status", "dead")
    assert dead == []


def test_a_refund_whose_answer_was_lost_is_sent_when_the_duplicate_is_a_worded_400(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """FeedAMP refuses the retry with 400 "has been used before", not 409 "duplicate": the
    refund still ends sent, once, with no second refund in FeedAMP."""
    [order] = sandbox.add_orders(1)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    sandbox.set_faults(
        Faults(
            apply_then_fail=1.0,
            endpoints={"refund"},
            duplicate_status=400,
            duplicate_wording="has been used before",
        )
    )
    refund_first_line(capsys, config, tmp_path, sandbox, order)
    assert cli(capsys, config, "run", "--once")[0] == 0
    sandbox.set_faults(Faults(duplicate_status=400, duplicate_wording="has been used before"))
    run_until_settled(capsys, config, engine)

    assert len(sandbox.effects("refund")) == 1
    assert set(statuses(engine).values()) == {"sent"}


def test_a_return_whose_lines_carry_no_id_is_refunded_by_naming_its_lines(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Refunding "every line" is refused, naming what to give; naming the ids works."""
    [return_id] = sandbox.add_returns(1, ["Pending Refund"])
    sandbox.set_faults(Faults(hide_return_line_ids=True))
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)

    code, _, err = enqueue_cli(capsys, config, tmp_path, "return-refund", return_id, {})
    assert code == 65
    assert "carry no feedamp_return_line_id (nor id)" in err

    line_ids = [
        line["feedamp_return_line_id"]
        for line in sandbox.return_(return_id)["return_info"]["return_lines"]
    ]
    named = {
        "merchant_refund_lines": [
            {"feedamp_return_line_id": line_id, "merchant_full_refund": True}
            for line_id in line_ids
        ]
    }
    assert enqueue_cli(capsys, config, tmp_path, "return-refund", return_id, named)[0] == 0
    run_until_settled(capsys, config, engine)
    assert sandbox.return_(return_id)["state"] in ("Processing Refund", "Merchant Refunded")
