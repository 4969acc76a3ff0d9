"""`orders show` and `returns show`: text for people, `--json` for programs.

`orders show` answers "what does FeedAMP hold for this order?" in one command: per line the
units ordered, shipped, cancelled and refunded, each shipment with where it came from
(FeedAMP, or the message that carried it), from FeedAMP's newest copy of the order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    fulfillment,
    lines_of,
    order_with_quantities,
    refund,
    run_until_settled,
    shipment,
)
from tests.end_to_end.harness import cli, cli_json, cli_shown, write_config


@pytest.fixture
def config(tmp_path: Path, database_url: str, server: SandboxServer) -> Path:
    return write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)


def three_unit_order(
    sandbox: Sandbox, config: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str]:
    """A stored, confirmed order whose first line has 3 units: its id and that line."""
    order_id = order_with_quantities(sandbox, sandbox.add_orders(40), [3])
    run_until_settled(capsys, config, engine)
    return order_id, lines_of(sandbox, order_id)[0]["mp_line_number"]


def enqueued(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    tmp_path: Path,
    kind: str,
    order_id: str,
    payload: dict[str, object],
) -> int:
    code, out, err = enqueue_cli(capsys, config, tmp_path, kind, order_id, payload)
    assert code == 0, err
    message_id: int = json.loads(out)["id"]
    return message_id


def refund_number(engine: Engine, message_id: int) -> str:
    with engine.connect() as conn:
        payload = conn.scalar(select(t.outbox.c.payload).where(t.outbox.c.id == message_id))
    assert isinstance(payload, dict)
    number: str = payload["cp_refund_number"]
    return number


def test_orders_show_prints_each_lines_units_and_where_each_entry_came_from(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A unit shipped in FeedAMP's UI, one by the daemon and a refund: the line reads
    3 ordered, 2 shipped, 0 cancelled, 1 refunded, and each entry names its source."""
    order_id, line = three_unit_order(sandbox, config, engine, capsys)
    sandbox.enter_shipment(order_id, line, shipment(1, "1Z-BY-HAND"))
    shipped = enqueued(
        capsys, config, tmp_path, "fulfillment", order_id, fulfillment(line, shipment(1, "1Z-OURS"))
    )
    refunded = enqueued(
        capsys, config, tmp_path, "refund", order_id, refund(line, refund_quantity=1)
    )
    run_until_settled(capsys, config, engine)

    code, out, err = cli(capsys, config, "orders", "show", order_id)

    assert code == 0, err
    printed = out.splitlines()
    assert printed[0] == f"order {order_id} (account main)"
    units = next(row for row in printed if row.startswith(f"{line} "))
    assert units.split()[-4:] == ["3", "2", "0", "1"]
    [by_hand] = [row for row in printed if "1Z-BY-HAND" in row]
    [ours] = [row for row in printed if "1Z-OURS" in row]
    [refund_row] = [row for row in printed if refund_number(engine, refunded) in row]
    assert by_hand.split()[:3] == [line, "shipment", "1"]
    assert by_hand.endswith("FeedAMP")
    assert ours.endswith(f"message {shipped}")
    assert refund_row.split()[:3] == [line, "refund", "1"]
    assert refund_row.endswith(f"message {refunded}")
    assert "timeline:" in printed
    assert any(row.split()[1:2] == ["confirmed"] for row in printed)


def test_orders_show_json_is_the_order_with_its_ledger_timeline_and_object(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--json` keeps what `orders show` printed before: typed columns, lines, the object as
    received, the ledger and the timeline, and adds the ledger's basis."""
    order_id, line = three_unit_order(sandbox, config, engine, capsys)

    shown = cli_json(capsys, config, "orders", "show", order_id)

    assert {"feedamp_id", "lines", "data", "ledger", "ledger_basis", "timeline"} <= set(shown)
    assert shown["data"]["id"] == order_id
    assert shown["ledger"][0]["mp_line_number"] == line
    assert shown["ledger_basis"]["shown_by"] in {"order", "answer", "messages"}


def test_the_ledger_shows_a_ui_shipment_made_after_ours_once_the_order_is_read_again(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Our shipment's answer is older than the copy `orders fetch` stores afterwards, which
    holds a shipment typed into FeedAMP's UI since: the ledger is that copy."""
    order_id, line = three_unit_order(sandbox, config, engine, capsys)
    shipped = enqueued(
        capsys, config, tmp_path, "fulfillment", order_id, fulfillment(line, shipment(1, "1Z-OURS"))
    )
    run_until_settled(capsys, config, engine)
    sandbox.enter_shipment(order_id, line, shipment(1, "1Z-LATER-BY-HAND"))
    assert cli_shown(capsys, config, "orders", "fetch", order_id)["stored"] == "changed"

    shown = cli_json(capsys, config, "orders", "show", order_id)

    ledger_line = shown["ledger"][0]
    assert [(s["tracking_number"], s["source"]) for s in ledger_line["shipments"]] == [
        ("1Z-OURS", f"message {shipped}"),
        ("1Z-LATER-BY-HAND", "feedamp"),
    ]
    assert ledger_line["shipped"] == 2
    assert shown["ledger_basis"]["shown_by"] == "order"


def test_returns_show_prints_the_return_and_a_row_per_line(
    sandbox: Sandbox, config: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text form names the return, its order and state, then each line; `--json` is
    the stored return with the object as received."""
    [return_id] = sandbox.add_returns(1, states=["Pending Authorization"])
    run_until_settled(capsys, config, engine)
    received = sandbox.return_(return_id)

    code, out, err = cli(capsys, config, "returns", "show", return_id)

    assert code == 0, err
    printed = out.splitlines()
    assert printed[0] == f"return {return_id} (account main) of order {received['order_id']}"
    assert any("Pending Authorization" in row for row in printed)
    for line in received["return_info"]["return_lines"]:
        number = str(line["mp_return_line_number"])
        assert any(row.split()[:2] == [number, line["feedamp_return_line_id"]] for row in printed)
    assert cli_json(capsys, config, "returns", "show", return_id)["data"] == received
