"""Orders FeedAMP sends malformed are quarantined; the rest of their page is stored and confirmed.

The sandbox serves some of its orders mangled, one defect each, the way a real feed might: text
PostgreSQL cannot hold, ids no column fits, numbers and dates past every column's range, JSON
nested past MariaDB's limit, or past what Python's JSON reader can read at all. Each is held
in ``feedamp_quarantine`` with its reason and raw text and never confirmed, while the good
orders of the same page go through; once FeedAMP serves an order sanely, the next pass stores
and confirms it and resolves its entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Sandbox, SandboxServer, Verbatim
from tests.end_to_end.actions import QUICK_RETRIES
from tests.end_to_end.harness import cli, cli_json, write_config

Json = dict[str, Any]


def info(**fields: Any) -> Callable[[Json], Json]:
    return lambda order: {**order, "order_info": {**order["order_info"], **fields}}


def first_line(**fields: Any) -> Callable[[Json], Json]:
    def mangle(order: Json) -> Json:
        lines = order["order_info"]["order_lines"]
        return info(order_lines=[{**lines[0], **fields}, *lines[1:]])(order)

    return mangle


DEFECTS: dict[str, tuple[Callable[[Json], Any], str]] = {
    "nul": (info(shipping_full_name="Ann\x00Lee"), "contains a NUL character"),
    "lone-surrogate": (info(shipping_full_name="Ann \ud800"), "unpaired surrogate"),
    "nul-id": (lambda o: {**o, "id": "A\x00B"}, "contains a NUL character"),
    "lone-surrogate-id": (lambda o: {**o, "id": "A\ud800B"}, "unpaired surrogate"),
    "long-id": (lambda o: {**o, "id": "9" * 65}, "over 64 characters"),
    "huge-int-id": (lambda o: {**o, "id": 10**70}, "over 64 characters"),
    "no-id": (lambda o: {k: v for k, v in o.items() if k != "id"}, "not a usable id"),
    "empty-id": (lambda o: {**o, "id": ""}, "not a usable id"),
    "quantity-3e9": (first_line(quantity=3_000_000_000), "does not fit an integer column"),
    "quantity-1e300": (first_line(quantity=1e300), "does not fit an integer column"),
    "price-1e15": (first_line(unit_price=1e15), "does not fit a money column"),
    "date-past-9999": (info(purchase_date="9999-12-31T23:59:59-14:00"), "outside the years"),
    "date-before-1": (info(purchase_date="0001-01-01T00:00:00+14:00"), "outside the years"),
    "nested-40": (
        lambda o: {**o, "gift": json.loads("[" * 40 + "]" * 40)},
        "nested deeper than 31 levels",
    ),
}


def test_malformed_orders_are_quarantined_while_their_page_is_stored_and_confirmed(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One entry per defect, with its reason; every good order is confirmed."""
    orders = sandbox.add_orders(len(DEFECTS) + 8)
    mangled = dict(zip(DEFECTS, orders, strict=False))
    for defect, order_id in mangled.items():
        sandbox.serve_order_as(order_id, DEFECTS[defect][0])
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)

    code, _, err = cli(capsys, config, "run", "--once")

    assert code == 0, err
    assert sorted(sandbox.unconfirmed_orders()) == sorted(mangled.values())
    entries = cli_json(capsys, config, "quarantine", "list")
    assert len(entries) == len(DEFECTS)
    reasons = sorted(entry["reason"] for entry in entries)
    for defect, (_, expected) in DEFECTS.items():
        assert any(expected in reason for reason in reasons), defect
    assert cli_json(capsys, config, "status")["quarantine"] == {"order": len(DEFECTS), "return": 0}


def test_an_entry_keeps_the_order_exactly_as_sent(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The raw text holds the NUL as sent, and a second pass counts a sighting, not a row."""
    [order_id] = sandbox.add_orders(1)
    sandbox.serve_order_as(order_id, DEFECTS["nul"][0])
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    for _ in range(2):
        assert cli(capsys, config, "run", "--once")[0] == 0
    [entry] = cli_json(capsys, config, "quarantine", "list")
    assert (entry["feedamp_id"], entry["kind"], entry["times_seen"]) == (order_id, "order", 2)
    code, out, err = cli(capsys, config, "quarantine", "show", str(entry["id"]))
    assert code == 0, err
    raw = json.loads(json.loads(out)["raw"])
    assert raw["order_info"]["shipping_full_name"] == "Ann\x00Lee"


@pytest.mark.parametrize(
    ("identifier", "shown"),
    [("A\x00B", "A\\u0000B"), ("A\ud800B", "A\\ud800B")],
    ids=["nul", "lone-surrogate"],
)
def test_an_id_no_column_can_hold_is_shown_escaped(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    identifier: str,
    shown: str,
) -> None:
    """The entry names the order by its id as JSON writes it; the raw text keeps it exact."""
    [order_id] = sandbox.add_orders(1)
    sandbox.serve_order_as(order_id, lambda order: {**order, "id": identifier})
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    assert cli(capsys, config, "run", "--once")[0] == 0
    [entry] = cli_json(capsys, config, "quarantine", "list")
    assert entry["feedamp_id"] == shown
    code, out, err = cli(capsys, config, "quarantine", "show", str(entry["id"]))
    assert code == 0, err
    assert json.loads(json.loads(out)["raw"])["id"] == identifier


def test_an_order_too_deep_to_read_is_quarantined_while_its_page_is_confirmed(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An order nested 5,000 deep (past the thousand levels Python's JSON reader follows)
    would leave its page unreadable: the page is read order by order instead, the good ones
    stored and confirmed, and the deep one held with the text FeedAMP sent."""
    deep, *good = sandbox.add_orders(6)
    nested = "[" * 5000 + "]" * 5000
    sandbox.serve_order_as(deep, lambda order: {**order, "gift": Verbatim(nested)})
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)

    code, _, err = cli(capsys, config, "run", "--once")

    assert code == 0, err
    assert sandbox.unconfirmed_orders() == [deep]
    stored = {row["feedamp_id"] for row in cli_json(capsys, config, "orders", "list")}
    assert stored == set(good)
    [entry] = cli_json(capsys, config, "quarantine", "list")
    assert (entry["feedamp_id"], entry["kind"]) == (deep, "order")
    assert "nested 5001 levels deep, too deep to be read" in entry["reason"]
    code, out, err = cli(capsys, config, "quarantine", "show", str(entry["id"]))
    assert code == 0, err
    assert nested in json.loads(out)["raw"]


def test_an_order_served_sanely_again_is_stored_confirmed_and_its_entry_resolved(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Once FeedAMP's data can be stored, the next pass takes the order like any other."""
    [order_id] = sandbox.add_orders(1)
    sandbox.serve_order_as(order_id, DEFECTS["quantity-3e9"][0])
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    assert cli(capsys, config, "run", "--once")[0] == 0
    assert sandbox.unconfirmed_orders() == [order_id]

    sandbox.serve_order_as(order_id, None)
    assert cli(capsys, config, "run", "--once")[0] == 0

    assert sandbox.unconfirmed_orders() == []
    assert cli_json(capsys, config, "status")["quarantine"]["order"] == 0
    [entry] = cli_json(capsys, config, "quarantine", "list", "--all")
    assert entry["resolved_at"] is not None


def test_a_malformed_return_is_quarantined_and_the_poll_moves_on(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The other returns of the window are stored and the checkpoint moves: the held one is
    read again when FeedAMP next refreshes it."""
    bad, *good = sandbox.add_returns(3, ["Pending Refund"])
    sandbox.serve_return_as(bad, lambda ret: {**ret, "state": "Pending\x00Refund"})
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)

    assert cli(capsys, config, "run", "--once")[0] == 0

    stored = {row["feedamp_id"] for row in cli_json(capsys, config, "returns", "list")}
    assert stored == set(good)
    [entry] = cli_json(capsys, config, "quarantine", "list")
    assert (entry["kind"], entry["feedamp_id"]) == ("return", bad)
    status = cli_json(capsys, config, "status")
    assert status["jobs"]["returns:main"]["last_error"] is None


def test_the_listing_is_a_table_with_a_header(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """quarantine list prints a header row and one aligned line per entry."""
    [order_id] = sandbox.add_orders(1)
    sandbox.serve_order_as(order_id, DEFECTS["empty-id"][0])
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    assert cli(capsys, config, "run", "--once")[0] == 0
    code, out, _ = cli(capsys, config, "quarantine", "list")
    header, row = out.splitlines()
    assert code == 0
    assert header.split()[:4] == ["ID", "ACCOUNT", "KIND", "FEEDAMP"]
    assert "not a usable id" in row


def test_a_large_malformed_order_is_held_whole(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An order of 200 KB (past MariaDB's 64 KiB TEXT) is held with all its text, and the
    pass goes on: the order beside it is confirmed."""
    held_id, _ = sandbox.add_orders(2)  # the second order is stored and confirmed
    note = "x" * 200_000 + "\x00"
    sandbox.serve_order_as(held_id, info(gift_message=note))
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)

    code, _, err = cli(capsys, config, "run", "--once")

    assert code == 0, err
    assert sandbox.unconfirmed_orders() == [held_id]
    [entry] = cli_json(capsys, config, "quarantine", "list")
    code, out, err = cli(capsys, config, "quarantine", "show", str(entry["id"]))
    assert code == 0, err
    assert json.loads(json.loads(out)["raw"])["order_info"]["gift_message"] == note
