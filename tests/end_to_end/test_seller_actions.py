"""Seller actions against the sandbox: fulfillments accumulate, every action takes effect once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.outbox.enqueue import enqueue
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    fulfillment,
    lines_of,
    order_with_quantities,
    refund,
    run_passes,
    run_until_settled,
    shipment,
    statuses,
    store_returns,
)
from tests.end_to_end.harness import merged, write_config


def test_two_partial_shipments_of_one_line_both_reach_feedamp_and_complete_the_order(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ship 1 then 2 of a 3-unit line: FeedAMP holds both; a third is refused at enqueue,
    the line being used up."""
    order_id = order_with_quantities(sandbox, sandbox.add_orders(40), [3])
    line = lines_of(sandbox, order_id)[0]["mp_line_number"]
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    first = fulfillment(line, shipment(1, "1Z-FIRST"))
    second = fulfillment(line, shipment(2, "1Z-SECOND"))
    assert enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, first)[0] == 0
    run_until_settled(capsys, config, engine)
    assert enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, second)[0] == 0
    run_until_settled(capsys, config, engine)

    held = lines_of(sandbox, order_id)[0]["fulfillments"]
    assert [(s["tracking_number"], s["quantity_shipped"]) for s in held] == [
        ("1Z-FIRST", 1),
        ("1Z-SECOND", 2),
    ]
    assert sandbox.order(order_id)["state"] == "FULFILLED"

    code, _, err = enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, second)
    assert code == 65  # each message's shipments count: the line has no unit left
    assert "only 0 of its 3 units are left" in err


def test_a_shipment_and_a_cancellation_on_two_lines_arrive_in_one_request(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One message shipping one line and cancelling another is one fulfill holding both."""
    [order_id] = [i for i in sandbox.add_orders(10) if len(lines_of(sandbox, i)) >= 2][:1]
    shipped, cancelled = lines_of(sandbox, order_id)[:2]
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    payload = {
        "invoice_number": "INV-7",
        "order_lines": [
            {
                "mp_line_number": shipped["mp_line_number"],
                "fulfillments": [shipment(shipped["quantity"], "1Z-BOTH")],
            },
            {
                "mp_line_number": cancelled["mp_line_number"],
                "cancellations": [{"quantity_cancelled": 1, "cancellation_reason": "out_of_stock"}],
            },
        ],
    }
    assert enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, payload)[0] == 0
    run_until_settled(capsys, config, engine)
    [effect] = sandbox.effects("fulfill")
    assert effect["invoice_number"] == "INV-7"
    assert {line["mp_line_number"]: line for line in effect["order_lines"]} == {
        shipped["mp_line_number"]: {
            "mp_line_number": shipped["mp_line_number"],
            "fulfillments": [shipment(shipped["quantity"], "1Z-BOTH")],
            "cancellations": [],
        },
        cancelled["mp_line_number"]: {
            "mp_line_number": cancelled["mp_line_number"],
            "fulfillments": [],
            "cancellations": [{"quantity_cancelled": 1, "cancellation_reason": "out_of_stock"}],
        },
    }


def test_forty_refunds_with_apply_then_fail_take_effect_exactly_once(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """30 % of refunds applied then failed: still 40 refunds in FeedAMP, all 40 messages sent."""
    order_ids = sandbox.add_orders(40)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    sandbox.set_faults(Faults(apply_then_fail=0.3, endpoints={"refund"}))
    with engine.begin() as conn:
        for order_id in order_ids:
            line = lines_of(sandbox, order_id)[0]["mp_line_number"]
            enqueue(conn, account="main", kind="refund", target_id=order_id, payload=refund(line))
    run_until_settled(capsys, config, engine)

    assert any(entry.fault == "apply_then_fail" for entry in sandbox.ledger("refund"))
    effects = sandbox.effects("refund")
    assert len(effects) == 40
    assert sorted(e["order_id"] for e in effects) == sorted(order_ids)
    assert list(statuses(engine).values()).count("sent") == 40 + 40  # and the 40 confirms


def test_return_authorization_and_refund_with_apply_then_fail_take_effect_once_each(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """8 authorizations and 8 return refunds, each applied then failed: one effect each."""
    sandbox.add_orders(20)
    to_authorize = sandbox.add_returns(8, ["Pending Authorization"])
    to_refund = sandbox.add_returns(8, ["Pending Refund"])
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    store_returns(engine, sandbox, to_authorize + to_refund)
    # Every first attempt is applied and then fails, so every message is settled by read-back.
    sandbox.set_faults(Faults(apply_then_fail=1.0, endpoints={"authorize_return", "refund_return"}))
    for return_id in to_authorize:
        assert enqueue_cli(capsys, config, tmp_path, "return-authorization", return_id, {})[0] == 0
    for return_id in to_refund:
        assert enqueue_cli(capsys, config, tmp_path, "return-refund", return_id, {})[0] == 0
    run_until_settled(capsys, config, engine)

    faulted = [e for e in sandbox.ledger() if e.fault == "apply_then_fail"]
    assert {e.endpoint for e in faulted} == {"authorize_return", "refund_return"}
    authorized = [e["return_id"] for e in sandbox.effects("authorize_return")]
    refunded = [e["return_id"] for e in sandbox.effects("refund_return")]
    assert sorted(authorized) == sorted(to_authorize)
    assert sorted(refunded) == sorted(to_refund)
    for return_id in to_authorize:
        info = sandbox.return_(return_id)["return_info"]
        assert info["merchant_return_number"] == info["mp_return_number"]
    assert all(sandbox.return_(r)["state"] == "Merchant Refunded" for r in to_refund)
    assert set(statuses(engine).values()) == {"sent"}


def test_a_refund_waits_for_the_fulfillment_enqueued_before_it(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """While the order's fulfillment keeps failing, its later refund is not sent; then it is."""
    [order_id] = sandbox.add_orders(1)
    line = lines_of(sandbox, order_id)[0]
    # `run --once` drains every 0.2 s while its pollers run, so a slow machine fits more
    # quick retries into a pass: the budget must outlast any three passes.
    never_dead = merged(QUICK_RETRIES, {"outbox": {"max_attempts": 1000}})
    config = write_config(tmp_path, database_url, server.base_url, never_dead)
    run_until_settled(capsys, config, engine)
    ship = fulfillment(line["mp_line_number"], shipment(line["quantity"], "1Z-ORDER"))
    assert enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, ship)[0] == 0
    assert (
        enqueue_cli(capsys, config, tmp_path, "refund", order_id, refund(line["mp_line_number"]))[0]
        == 0
    )
    sandbox.set_faults(Faults(error_5xx=1.0, endpoints={"fulfill"}))
    run_passes(capsys, config, 3)
    assert sandbox.ledger("fulfill")
    assert sandbox.ledger("refund") == []
    sandbox.set_faults(Faults())
    run_until_settled(capsys, config, engine)
    [fulfilled] = [e for e in sandbox.ledger("fulfill") if e.effect is not None]
    [refunded] = sandbox.ledger("refund")
    assert fulfilled.seq < refunded.seq


def test_a_dead_message_blocks_only_its_own_order(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A dead fulfillment holds back its order's later refund; another order's refund goes."""
    blocked, free = sandbox.add_orders(2)
    one_try = merged(QUICK_RETRIES, {"outbox": {"max_attempts": 1}})
    config = write_config(tmp_path, database_url, server.base_url, one_try)
    run_until_settled(capsys, config, engine)
    blocked_line = lines_of(sandbox, blocked)[0]["mp_line_number"]
    free_line = lines_of(sandbox, free)[0]["mp_line_number"]
    sandbox.set_faults(Faults(error_5xx=1.0, endpoints={"fulfill"}))
    doomed = fulfillment(blocked_line, shipment(1, "1Z-DOOMED"))
    results = [
        enqueue_cli(capsys, config, tmp_path, "fulfillment", blocked, doomed),
        enqueue_cli(capsys, config, tmp_path, "refund", blocked, refund(blocked_line)),
        enqueue_cli(capsys, config, tmp_path, "refund", free, refund(free_line)),
    ]
    ids = [json.loads(out)["id"] for _, out, _ in results]
    run_passes(capsys, config, 3)
    assert [statuses(engine)[i] for i in ids] == ["dead", "pending", "sent"]
    assert [e["order_id"] for e in sandbox.effects("refund")] == [free]
