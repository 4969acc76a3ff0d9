"""Orders stay current after confirm: a cancellation on the marketplace reaches the seller's
table and stops the shipment; an operator can read one order or return now."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    fulfillment,
    lines_of,
    message_row,
    run_until_settled,
    shipment,
    statuses,
)
from tests.end_to_end.harness import (
    CLIENT_ID,
    PASSWORD,
    USERNAME,
    cli,
    cli_json,
    cli_shown,
    merged,
    write_config,
)

EVERY_SECONDS = 0.5
REFRESHING = merged(
    QUICK_RETRIES, {"refresh": {"every_seconds": EVERY_SECONDS, "rate_per_second": 100}}
)


@pytest.fixture
def config(server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path) -> Path:
    return write_config(tmp_path, database_url, server.base_url, REFRESHING)


def confirmed_orders(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], config: Path, engine: Engine, count: int
) -> list[str]:
    ids = sandbox.add_orders(count)
    run_until_settled(capsys, config, engine)
    assert set(sandbox.confirmed_orders()) == set(ids)
    return ids


def refresh_pass(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    """One ``run --once`` once every stored copy is older than ``every_seconds``."""
    time.sleep(EVERY_SECONDS + 0.1)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err


def test_a_cancellation_after_confirm_shows_in_orders_show_after_one_pass(
    sandbox: Sandbox, config: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """The customer cancels after our confirm; one refresh pass later ``orders show`` has the
    new states and the change in its timeline, and ``status`` counts it."""
    order_id, _ = confirmed_orders(sandbox, capsys, config, engine, 2)
    sandbox.set_order_state(order_id, "CANCELLED", "CANCELLED")
    refresh_pass(capsys, config)

    shown = cli_json(capsys, config, "orders", "show", order_id)
    assert (shown["state"], shown["marketplace_state"]) == ("CANCELLED", "CANCELLED")
    events = [entry["event"] for entry in shown["timeline"]]
    assert events[:2] == ["stored", "message_enqueued"]
    assert {"confirmed", "attempt", "state_changed", "marketplace_state_changed"} <= set(events)
    [change] = [e for e in shown["timeline"] if e["event"] == "state_changed"]
    assert (change["from"], change["to"], change["source"]) == ("PLACED", "CANCELLED", "refresh")
    status = cli_shown(capsys, config, "status", "--json")
    assert status["orders"]["cancelled_after_confirm"] == 1
    listed = cli_shown(capsys, config, "orders", "list", "--state", "cancelled", "--json")
    assert [order["feedamp_id"] for order in listed] == [order_id]


def test_a_fulfillment_for_an_order_cancelled_on_the_marketplace_goes_dead(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A shipment queued for an order cancelled on the marketplace is not sent: dead with
    the reason; an operator's retry sends it."""
    [order_id] = confirmed_orders(sandbox, capsys, config, engine, 1)
    sandbox.set_order_state(order_id, "PLACED", "CANCELLED")
    line = lines_of(sandbox, order_id)[0]["mp_line_number"]
    payload = fulfillment(line, shipment(1, "1Z-AFTER-CANCEL"))
    code, _, err = enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, payload)
    assert code == 0, err
    run_until_settled(capsys, config, engine)

    [message_id] = [m for m, status in statuses(engine).items() if status == "dead"]
    assert "cancelled on the marketplace" in message_row(engine, message_id).last_error
    assert sandbox.effects("fulfill") == []
    code, _, err = cli(capsys, config, "outbox", "retry", str(message_id), "--reason", "ship it")
    assert code == 0, err
    run_until_settled(capsys, config, engine)
    assert statuses(engine)[message_id] == "sent"
    assert len(sandbox.effects("fulfill")) == 1


def confirm_elsewhere(server: SandboxServer, order_id: str, number: str) -> None:
    """Confirm an order as an earlier integration did, through the API."""
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        token = http.get("/api/v1/get_token", auth=(USERNAME, PASSWORD)).json()["token"]
        http.put(
            f"/api/v1/orders/{order_id}/confirm",
            json={"cp_order_number": number},
            headers={"token": token, "client": str(CLIENT_ID)},
        ).raise_for_status()


def test_orders_fetch_stores_an_order_confirmed_elsewhere_without_confirming_it(
    sandbox: Sandbox,
    server: SandboxServer,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An order the poller never saw, confirmed by an earlier integration, is stored with
    FeedAMP's number and confirmed nowhere again."""
    [order_id] = sandbox.add_orders(1)
    confirm_elsewhere(server, order_id, "LEGACY-1")
    fetched = cli_shown(capsys, config, "orders", "fetch", order_id)
    assert (fetched["stored"], fetched["confirm_enqueued"]) == ("new", False)
    run_until_settled(capsys, config, engine)

    assert len(sandbox.effects("confirm")) == 1
    shown = cli_json(capsys, config, "orders", "show", order_id)
    assert shown["cp_order_number"] == "LEGACY-1"
    assert shown["confirmed_at"] is not None
    with engine.connect() as conn:
        assert conn.scalar(select(t.outbox.c.id)) is None


def test_orders_fetch_records_a_change_of_a_stored_order(
    sandbox: Sandbox, config: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fetching a stored order stores its new state at once and says what changed."""
    [order_id] = confirmed_orders(sandbox, capsys, config, engine, 1)
    sandbox.set_order_state(order_id, "FULFILLED", "SHIPPED")
    fetched = cli_shown(capsys, config, "orders", "fetch", order_id)
    assert fetched["stored"] == "changed"
    assert [(c["field"], c["to_value"]) for c in fetched["changes"]] == [
        ("state", "FULFILLED"),
        ("marketplace_state", "SHIPPED"),
    ]


def test_fetching_an_order_feedamp_does_not_know_fails_with_its_reason(
    config: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 404 is FeedAMP's answer, printed on one line: exit 1, nothing stored."""
    code, _, err = cli(capsys, config, "orders", "fetch", "999999")
    assert code == 1
    assert "not found" in err


def test_returns_fetch_stores_a_return(
    sandbox: Sandbox, config: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A return read by hand is stored as the returns poll stores it, and shown."""
    [return_id] = sandbox.add_returns(1, states=["Pending Refund"])
    shown = cli_shown(capsys, config, "returns", "fetch", return_id)
    assert (shown["feedamp_id"], shown["state"]) == (return_id, "Pending Refund")
