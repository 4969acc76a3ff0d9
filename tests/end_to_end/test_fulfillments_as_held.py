"""Fulfillments as FeedAMP holds them, under each answer the docs leave open.

PUT fulfill replaces everything the order holds, so what we PUT must start from what FeedAMP
holds, not from what this daemon remembers sending: a shipment typed into FeedAMP's UI
survives our next one. Each message's shipments count once per message. A fulfill that took
effect but whose answer was lost ends ``sent``. And when GET order shows no fulfillment data
at all (the docs do not say how it shows them), our own history is sent, with a warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    fulfillment,
    lines_of,
    order_with_quantities,
    run_until_settled,
    shipment,
    statuses,
)
from tests.end_to_end.harness import cli, cli_json, write_config


def held(sandbox: Sandbox, order_id: str) -> list[tuple[str, int]]:
    line = lines_of(sandbox, order_id)[0]
    return [(s["tracking_number"], s["quantity_shipped"]) for s in line["fulfillments"]]


def shipped_order(sandbox: Sandbox, quantity: int) -> tuple[str, str]:
    order_id = order_with_quantities(sandbox, sandbox.add_orders(40), [quantity])
    return order_id, lines_of(sandbox, order_id)[0]["mp_line_number"]


def ship(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path, order: str, entry: Any
) -> None:
    line, payload = entry
    assert (
        enqueue_cli(capsys, config, tmp_path, "fulfillment", order, fulfillment(line, payload))[0]
        == 0
    )


def test_a_shipment_entered_in_feedamps_ui_survives_our_next_fulfillment(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A unit shipped by hand in FeedAMP stays shipped after the daemon ships another."""
    order_id, line = shipped_order(sandbox, 3)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    sandbox.enter_shipment(order_id, line, shipment(1, "1Z-BY-HAND"))

    ship(capsys, config, tmp_path, order_id, (line, shipment(1, "1Z-OURS")))
    run_until_settled(capsys, config, engine)

    assert held(sandbox, order_id) == [("1Z-BY-HAND", 1), ("1Z-OURS", 1)]
    assert set(statuses(engine).values()) == {"sent"}
    [line] = cli_json(capsys, config, "orders", "show", order_id)["ledger"][:1]
    sources = [(s["tracking_number"], s["source"]) for s in line["shipments"]]
    assert sources[0] == ("1Z-BY-HAND", "feedamp")
    assert sources[1][0] == "1Z-OURS"
    assert sources[1][1].startswith("message ")
    assert (line["ordered"], line["shipped"]) == (3, 2)


def test_two_identical_one_unit_shipments_in_two_messages_ship_two_units(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two units scanned into one box, told in two messages: FeedAMP holds both."""
    order_id, line = shipped_order(sandbox, 2)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    for _ in range(2):
        ship(capsys, config, tmp_path, order_id, (line, shipment(1, "1Z-BOX")))
        run_until_settled(capsys, config, engine)

    assert held(sandbox, order_id) == [("1Z-BOX", 1), ("1Z-BOX", 1)]
    assert sandbox.order(order_id)["state"] == "FULFILLED"


def test_a_fulfill_that_took_effect_but_lost_its_answer_ends_sent(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fulfill completes the order, its answer is lost; the retry reads the order back
    and finds everything there: sent, not dead on the "order is complete" refusal."""
    order_id, line = shipped_order(sandbox, 1)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    sandbox.set_faults(Faults(apply_then_fail=1.0, endpoints={"fulfill"}))
    ship(capsys, config, tmp_path, order_id, (line, shipment(1, "1Z-ONLY")))
    assert cli(capsys, config, "run", "--once")[0] == 0
    sandbox.set_faults(Faults())
    run_until_settled(capsys, config, engine)

    assert sandbox.order(order_id)["state"] == "FULFILLED"
    assert set(statuses(engine).values()) == {"sent"}


def test_without_fulfillment_data_in_get_order_our_own_history_is_sent(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GET order shows no fulfillments: each PUT carries what this daemon sent, a warning (and
    ``status``) says shipments from elsewhere cannot be kept, and both of ours arrive."""
    sandbox.set_faults(Faults(hide_fulfillments=True))
    order_id, line = shipped_order(sandbox, 3)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    ship(capsys, config, tmp_path, order_id, (line, shipment(1, "1Z-FIRST")))
    run_until_settled(capsys, config, engine)
    ship(capsys, config, tmp_path, order_id, (line, shipment(1, "1Z-SECOND")))
    code, _, err = cli(capsys, config, "run", "--once")

    assert code == 0
    assert "fulfillment_history_unreadable" in err
    assert held(sandbox, order_id) == [("1Z-FIRST", 1), ("1Z-SECOND", 1)]
    noticed = cli_json(capsys, config, "status")["jobs"]["fulfillment_history:main"]
    assert noticed["last_error_message"].startswith("GET order shows no fulfillments")


def test_a_mistyped_tracking_number_is_corrected_by_withdrawing_it(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One message withdraws the mistyped shipment and adds the right one: FeedAMP holds the
    right one only, and a later shipment does not bring the typo back."""
    order_id, line = shipped_order(sandbox, 3)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    run_until_settled(capsys, config, engine)
    ship(capsys, config, tmp_path, order_id, (line, shipment(1, "1Z-TYPO")))
    run_until_settled(capsys, config, engine)
    correction = fulfillment(line, shipment(1, "1Z-RIGHT"))
    correction["order_lines"][0]["withdrawn"] = [
        {"tracking_number": "1Z-TYPO", "quantity_shipped": 1}
    ]
    assert enqueue_cli(capsys, config, tmp_path, "fulfillment", order_id, correction)[0] == 0
    run_until_settled(capsys, config, engine)
    assert held(sandbox, order_id) == [("1Z-RIGHT", 1)]

    ship(capsys, config, tmp_path, order_id, (line, shipment(1, "1Z-LATER")))
    run_until_settled(capsys, config, engine)
    assert held(sandbox, order_id) == [("1Z-RIGHT", 1), ("1Z-LATER", 1)]
