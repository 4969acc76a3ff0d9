"""Retention never takes the history a later shipment is sent with.

Where GET order shows no fulfillment data, the PUT that adds a shipment carries this daemon's
own earlier shipments, and FeedAMP keeps only what a PUT carries: an open order's sent
fulfillments are kept however old, so a back-order shipped months later keeps the first
parcel. A final order's go once it has been final for ``keep_days``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    fulfillment,
    lines_of,
    order_with_quantities,
    run_until_settled,
    shipment,
)
from tests.end_to_end.harness import cli, cli_json, cli_shown, write_config
from tests.integration.test_retention import message

LONG_AGO = datetime.now(UTC) - timedelta(days=40)
"""Past the default keep_days (30)."""


@pytest.fixture
def config(tmp_path: Path, database_url: str, server: SandboxServer) -> Path:
    return write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)


def stored_order(
    sandbox: Sandbox, config: Path, engine: Engine, capsys: pytest.CaptureFixture[str], units: int
) -> tuple[str, str]:
    """An order whose first line has ``units`` units, stored and confirmed: its id and line."""
    order_id = order_with_quantities(sandbox, sandbox.add_orders(40), [units])
    run_until_settled(capsys, config, engine)
    return order_id, lines_of(sandbox, order_id)[0]["mp_line_number"]


def ship(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    tmp_path: Path,
    engine: Engine,
    order_id: str,
    line: str,
    tracking: str,
) -> None:
    payload = fulfillment(line, shipment(1, tracking))
    code, _, err = enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, payload)
    assert code == 0, err
    run_until_settled(capsys, config, engine)


def age_everything(engine: Engine) -> None:
    """Every message enqueued and sent (and every order final, if it is) long ago, then one
    recent message of another order, the newest row, which retention always keeps."""
    with engine.begin() as conn:
        conn.execute(
            update(t.outbox).values(created_at=LONG_AGO, next_attempt_at=LONG_AGO, sent_at=LONG_AGO)
        )
        conn.execute(
            update(t.orders).where(t.orders.c.final_at.is_not(None)).values(final_at=LONG_AGO)
        )
    message(engine, "sent", datetime.now(UTC) - timedelta(days=1), target="another order")


def fulfillments_stored(engine: Engine, order_id: str) -> int:
    with engine.connect() as conn:
        return len(
            conn.scalars(
                select(t.outbox.c.id).where(
                    t.outbox.c.kind == "fulfillment", t.outbox.c.target_id == order_id
                )
            ).all()
        )


def test_a_back_order_shipped_after_keep_days_keeps_the_first_shipment(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GET order shows no fulfillments; the first unit shipped 40 days ago, `db prune` ran,
    the second unit ships now: FeedAMP holds both."""
    sandbox.set_faults(Faults(hide_fulfillments=True))
    order_id, line = stored_order(sandbox, config, engine, capsys, units=2)
    ship(capsys, config, tmp_path, engine, order_id, line, "1Z-FIRST")
    age_everything(engine)

    assert cli(capsys, config, "db", "prune")[0] == 0
    assert fulfillments_stored(engine, order_id) == 1
    ship(capsys, config, tmp_path, engine, order_id, line, "1Z-SECOND")

    held = lines_of(sandbox, order_id)[0]["fulfillments"]
    assert [(s["tracking_number"], s["quantity_shipped"]) for s in held] == [
        ("1Z-FIRST", 1),
        ("1Z-SECOND", 1),
    ]


def test_a_final_orders_shipments_are_pruned_once_it_is_final_for_keep_days(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The order is shipped in full and read back final (`orders fetch`); 40 days later its
    fulfillment goes with the rest of the old messages."""
    order_id, line = stored_order(sandbox, config, engine, capsys, units=1)
    ship(capsys, config, tmp_path, engine, order_id, line, "1Z-ONLY")
    assert sandbox.order(order_id)["state"] == "FULFILLED"
    assert cli_shown(capsys, config, "orders", "fetch", order_id)["stored"] == "changed"
    age_everything(engine)

    pruned = cli_json(capsys, config, "db", "prune")

    assert fulfillments_stored(engine, order_id) == 0
    assert pruned["deleted"]["feedamp_outbox"] >= 2
