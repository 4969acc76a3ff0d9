"""Rows a seller's system inserts with plain SQL: checked when claimed, the bad ones go dead."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from feedamp_sync.db import tables as t
from feedamp_sync.db.identity import database_identity_of
from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    fulfillment,
    lines_of,
    message_row,
    refund,
    run_until_settled,
    shipment,
    store_returns,
)
from tests.end_to_end.harness import cli, write_config

INSERT = text(
    "INSERT INTO feedamp_outbox (account, kind, target_id, payload) "
    "VALUES (:account, :kind, :target_id, :payload)"
)


def insert(engine: Engine, kind: str, target_id: str, payload: Any, account: str = "main") -> int:
    """Insert the four columns a seller's system gives, the payload as JSON text."""
    document = payload if isinstance(payload, str) else json.dumps(payload)
    with engine.begin() as conn:
        conn.execute(
            INSERT,
            {"account": account, "kind": kind, "target_id": target_id, "payload": document},
        )
        found = conn.scalar(text("SELECT MAX(id) FROM feedamp_outbox"))
    return int(found)


def test_garbage_rows_go_dead_with_a_reason_while_valid_rows_beside_them_are_sent(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """16 bad rows end dead, each with its reason; 5 good rows inserted among them are sent."""
    orders = sandbox.add_orders(20)
    authorize, refund_all = sandbox.add_returns(2, ["Pending Authorization", "Pending Refund"])
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    store_returns(engine, sandbox, [authorize, refund_all])
    line = {order: lines_of(sandbox, order)[0] for order in orders}

    def number(order: str) -> str:
        return str(line[order]["mp_line_number"])

    good = [
        insert(engine, "refund", orders[0], refund(number(orders[0]), cp_refund_number="RF-OURS")),
        insert(engine, "fulfillment", orders[1], fulfillment(number(orders[1]), shipment(1, "1Z"))),
        insert(engine, "refund", orders[2], {"refund_info": refund(number(orders[2]))}),
        insert(engine, "return_authorization", authorize, {}),
        insert(engine, "return_refund", refund_all, {"merchant_refund_lines": []}),
    ]
    too_many = line[orders[6]]["quantity"] + 1
    bad = {
        "empty fulfillment": insert(engine, "fulfillment", orders[3], {}),
        "zero shipped": insert(
            engine, "fulfillment", orders[4], fulfillment(number(orders[4]), shipment(0, "1Z"))
        ),
        "unknown line": insert(
            engine, "fulfillment", orders[5], fulfillment("NOPE", shipment(1, "1Z"))
        ),
        "too many": insert(
            engine,
            "fulfillment",
            orders[6],
            fulfillment(number(orders[6]), shipment(too_many, "1Z")),
        ),
        "misspelt field": insert(
            engine,
            "fulfillment",
            orders[7],
            fulfillment(number(orders[7]), shipment(1, "1Z", tracking_nubmer="x")),
        ),
        "bad reason": insert(
            engine, "refund", orders[8], refund(number(orders[8]), refund_reason="x")
        ),
        "bad currency": insert(
            engine, "refund", orders[9], refund(number(orders[9]), currency="XYZ")
        ),
        "array payload": insert(engine, "refund", orders[10], []),
        "string payload": insert(engine, "fulfillment", orders[11], '"ship it"'),
        "unknown order": insert(engine, "refund", "999999", refund("L1")),
        "unknown kind": insert(engine, "shipment", orders[12], {}),
        "unknown account": insert(
            engine, "refund", orders[13], refund(number(orders[13])), account="nope"
        ),
        "unknown return": insert(engine, "return_authorization", "424242", {}),
        "unknown return line": insert(
            engine,
            "return_refund",
            refund_all,
            {
                "merchant_refund_lines": [
                    {"feedamp_return_line_id": "0", "merchant_full_refund": True}
                ]
            },
        ),
        "number taken": insert(
            engine, "refund", orders[14], refund(number(orders[14]), cp_refund_number="RF-OURS")
        ),
        "date in words": insert(
            engine,
            "fulfillment",
            orders[15],
            fulfillment(number(orders[15]), shipment(1, "1Z", shipped_date="yesterday")),
        ),
    }
    run_until_settled(capsys, config, engine)

    for message_id in good:
        assert message_row(engine, message_id).status == "sent"
    for case, message_id in bad.items():
        row = message_row(engine, message_id)
        assert (case, row.status) == (case, "dead")
        assert row.last_error, case
    assert "already used by outbox message" in message_row(engine, bad["number taken"]).last_error
    assert "is not a line of order" in message_row(engine, bad["unknown line"]).last_error
    assert "is not a line of return" in message_row(engine, bad["unknown return line"]).last_error


def test_a_refund_inserted_without_a_number_gets_one_before_its_first_send(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The generated cp_refund_number is written into the row, and it is the one FeedAMP got."""
    [order_id] = sandbox.add_orders(1)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    wrapped = {"refund_info": refund(lines_of(sandbox, order_id)[0]["mp_line_number"])}
    message_id = insert(engine, "refund", order_id, wrapped)
    run_until_settled(capsys, config, engine)
    row = message_row(engine, message_id)
    number = row.payload["cp_refund_number"]
    assert re.fullmatch(rf"RF{database_identity_of(engine)}-{message_id}-[0-9A-Z]{{5}}", number)
    assert row.unique_key == f"refund:main:{number}"
    assert [e["cp_refund_number"] for e in sandbox.effects("refund")] == [number]


def poisons(engine: Engine) -> dict[str, str]:
    """Payload texts a plain INSERT gets past this backend's own checks, none of them usable:
    not JSON (SQLite keeps any text), nested far too deep (PostgreSQL), text holding a NUL
    (MariaDB) or a lone surrogate (SQLite)."""
    deep = '{"order_lines": ' + "[" * 3_000 + "]" * 3_000 + "}"
    return {
        "sqlite": {
            "not JSON": "{'merchant_return_number': 'X'}",
            "too deep": deep,
            "lone surrogate": '{"merchant_return_number": "\\ud800"}',
        },
        "postgresql": {"too deep": deep},
        "mysql": {"NUL": '{"merchant_return_number": "A\\u0000B"}'},
    }[engine.dialect.name]


def test_a_row_no_one_can_read_goes_dead_while_new_orders_are_confirmed(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A poison row fails only itself: in the same pass, every new order is confirmed, the
    poison goes dead with the reason, and ``outbox show`` prints it as stored."""
    sandbox.add_orders(10)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    poisoned = {
        label: insert(engine, "return_authorization", f"P{n}", document)  # a target each
        for n, (label, document) in enumerate(poisons(engine).items())
    }
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err
    assert sandbox.unconfirmed_orders() == []
    with engine.connect() as conn:
        ends = {
            row.id: (row.status, row.last_error)
            for row in conn.execute(select(t.outbox.c.id, t.outbox.c.status, t.outbox.c.last_error))
        }
    for label, message_id in poisoned.items():
        status, error = ends[message_id]
        assert status == "dead", label
        assert error.startswith("invalid payload: "), error
        code, out, err = cli(capsys, config, "outbox", "show", str(message_id), "--json")
        assert code == 0, err
        shown = json.loads(out)
        assert shown["payload"] is not None or shown["payload_text"], label


NOT_UTF8: dict[str, tuple[str, str, str]] = {
    # (account, target_id, payload) as SQL: 0xff and 0xfc ("Müller" in Latin-1) are no UTF-8
    "payload": ("'main'", "'P1'", "CAST(X'7b2278223a22ff227d' AS TEXT)"),
    "target_id": ("'main'", "CAST(X'4dfc6c6c6572' AS TEXT)", "'{}'"),
    "account": ("CAST(X'4dfc6c6c6572' AS TEXT)", "'P3'", "'{}'"),
}
"""Rows a seller's raw SQL writes in Latin-1, which SQLite keeps as they are."""


@pytest.mark.backends("sqlite")
def test_rows_that_are_not_utf8_go_dead_while_new_orders_are_confirmed(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A payload, target id or account that is not UTF-8 fails only its own row: in the same
    pass every new order is confirmed, each such row goes dead saying it is not UTF-8, and
    nothing logged quotes the payload."""
    sandbox.add_orders(10)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    with engine.begin() as conn:
        for account, target_id, payload in NOT_UTF8.values():
            conn.exec_driver_sql(
                "INSERT INTO feedamp_outbox (account, kind, target_id, payload) "
                f"VALUES ({account}, 'return_authorization', {target_id}, {payload})"
            )

    code, _, err = cli(capsys, config, "run", "--once")

    assert code == 0, err
    assert sandbox.unconfirmed_orders() == []
    with engine.connect() as conn:
        ends = conn.execute(
            select(t.outbox.c.status, t.outbox.c.last_error)
            .where(t.outbox.c.kind == "return_authorization")
            .order_by(t.outbox.c.id)
        ).all()
    assert [(status, "which is not UTF-8" in error) for status, error in ends] == [
        ("dead", True)
    ] * len(NOT_UTF8)
    assert [error.split(": ")[1] for _, error in ends] == ["x", *list(NOT_UTF8)[1:]]
    for quoted in ('{"x":', "\xff", "\udcff", "\ufffd", "Could not decode"):
        assert quoted not in err
