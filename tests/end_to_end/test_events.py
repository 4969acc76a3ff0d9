"""The event log from the outside: each action's event once, read with `events list` and
followed with `events tail`, and exactly one event per fact across SIGKILLs."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from feedamp_sync.db.events import EventStore
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.harness import (
    FAST,
    cli,
    cli_json,
    cli_shown,
    confirmed_count,
    daemon,
    logged,
    merged,
    wait_until,
    write_config,
)

TAIL_SECONDS = 30.0
TAIL = (sys.executable, "-m", "feedamp_sync")


def every_event(engine: Engine) -> list[dict[str, Any]]:
    return EventStore(engine).after(0, limit=100_000)


def per_fact(engine: Engine) -> Counter[tuple[str, str]]:
    """How many events each (type, subject) has."""
    return Counter((e["type"], e["subject"]) for e in every_event(engine))


def test_each_action_records_its_event_once(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Orders stored and confirmed, a return stored and moved on, an order cancelled after
    confirm, a shipment sent and one refused: each fact is one event of its type."""
    [order, other] = sandbox.add_orders(2)
    [return_id] = sandbox.add_returns(1, states=["Pending Authorization"])
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"outbox": {"max_attempts": 1}})
    )
    assert cli(capsys, config, "run", "--once")[0] == 0
    sandbox.set_return_state(return_id, "Pending Refund")
    sandbox.set_order_state(order, "CANCELLED", "CANCELLED")
    assert cli(capsys, config, "orders", "fetch", order)[0] == 0
    assert cli(capsys, config, "run", "--once")[0] == 0
    sandbox.set_faults(Faults(error_5xx=1.0, endpoints={"fulfill"}))
    shipment = tmp_path / "shipment.json"
    line = sandbox.order(other)["order_info"]["order_lines"][0]["mp_line_number"]
    shipment.write_text(
        json.dumps(
            {
                "order_lines": [
                    {
                        "mp_line_number": line,
                        "fulfillments": [
                            {
                                "quantity_shipped": 1,
                                "shipped_date": "2026-05-01",
                                "carrier": "UPS",
                                "tracking_number": "1Z1",
                            }
                        ],
                    }
                ]
            }
        )
    )
    dead = cli_shown(capsys, config, "enqueue", "fulfillment", other, str(shipment))["id"]
    assert cli(capsys, config, "run", "--once")[0] == 0
    counts = per_fact(engine)
    assert {fact: n for fact, n in counts.items() if n != 1} == {}
    confirms = [
        str(m["id"]) for m in cli_json(capsys, config, "outbox", "list") if m["kind"] == "confirm"
    ]
    assert set(counts) == {
        ("order.stored", order),
        ("order.stored", other),
        ("order.confirmed", order),
        ("order.confirmed", other),
        *(("message.sent", message) for message in confirms),
        ("order.changed", order),
        ("return.stored", return_id),
        ("return.changed", return_id),
        ("message.dead", str(dead)),
    }


def test_events_list_reads_on_from_a_cursor(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`events list --after ID --json` gives the events after the cursor, oldest first;
    `--type` and `--limit` narrow them; the table has a header and one line per event."""
    sandbox.add_orders(3)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    assert cli(capsys, config, "run", "--once")[0] == 0
    first = cli_json(capsys, config, "events", "list", "--limit", "2")
    rest = cli_json(capsys, config, "events", "list", "--after", str(first[-1]["id"]))
    ids = [e["id"] for e in first + rest]
    assert ids == sorted(ids)
    assert len(ids) == 9  # stored, confirmed and the confirm sent, for each of 3 orders
    stored = cli_json(capsys, config, "events", "list", "--type", "order.stored")
    assert [e["type"] for e in stored] == ["order.stored"] * 3
    assert set(stored[0]) == {"id", "type", "account", "subject", "occurred_at", "data"}
    assert stored[0]["data"]["v"] == 1
    code, out, _ = cli(capsys, config, "events", "list", "--type", "order.confirmed")
    header, *rows = out.splitlines()
    assert (code, header.split()[:2], len(rows)) == (0, ["ID", "OCCURRED"], 3)


def test_an_unknown_event_type_is_a_usage_error(
    database_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--type` takes the catalogue's names only: exit 2 naming the choices."""
    config = write_config(tmp_path, database_url, "http://127.0.0.1:9", {})
    code, _, err = cli(capsys, config, "events", "list", "--type", "order.shipped")
    assert code == 2
    assert "order.stored" in err


@pytest.mark.slow
def test_events_tail_follows_new_events_until_sigterm(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`events tail --after ID --json` prints the events recorded after that id, one JSON
    object a line, as they come, and exits 0 on SIGTERM."""
    sandbox.add_orders(1)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    assert cli(capsys, config, "run", "--once")[0] == 0
    started = EventStore(engine).newest_id()
    output = tmp_path / "tail.out"
    log = tmp_path / "tail.log"
    with output.open("wb") as sink, log.open("wb") as log_sink:
        tail = subprocess.Popen(
            [
                *TAIL,
                *("--config", str(config), "events", "tail", "--after", str(started)),
                *("--json", "--interval", "0.1", "--type", "order.stored"),
            ],
            stdout=sink,
            stderr=log_sink,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        [new] = sandbox.add_orders(1)
        assert cli(capsys, config, "run", "--once")[0] == 0
        assert wait_until(lambda: output.read_text().strip() != "", timeout=TAIL_SECONDS)
        tail.send_signal(signal.SIGTERM)
        assert tail.wait(timeout=TAIL_SECONDS) == 0
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait(timeout=10)
    logged(log.read_text(errors="replace"))
    [line] = output.read_text().splitlines()
    event = json.loads(line)
    assert (event["type"], event["subject"]) == ("order.stored", new)
    assert event["id"] > started


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sigkills_mid_sync_leave_exactly_one_event_per_fact(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Six SIGKILLs during a 300-order sync, then a clean run: every order stored, every
    confirm and its message sent are one event each, never two, never none."""
    sandbox.add_orders(300)
    returns = sandbox.add_returns(20, states=["Pending Authorization"])
    short_leases = merged(FAST, {"outbox": {"lease_seconds": 2}})
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(short_leases, {"api": {"rate_per_second": 30}}),
    )
    moments = random.Random(300)
    with daemon(config, tmp_path) as running:
        for _ in range(6):
            running.start()
            assert wait_until(lambda: "daemon_started" in running.latest_output(), timeout=20)
            time.sleep(moments.uniform(0.1, 1.5))
            running.kill()
        write_config(tmp_path, database_url, server.base_url, short_leases)
        running.start()
        assert wait_until(lambda: confirmed_count(engine) == 300, timeout=120), running.output()
        assert wait_until(
            lambda: sum(1 for t, _ in per_fact(engine) if t == "return.stored") == 20, timeout=30
        )
        code, _ = running.terminate()
    assert code == 0
    counts = per_fact(engine)
    assert {fact: n for fact, n in counts.items() if n != 1} == {}
    by_type = Counter(kind for kind, _ in counts)
    assert by_type == {
        "order.stored": 300,
        "order.confirmed": 300,
        "message.sent": 300,
        "return.stored": 20,
    }
    assert {s for t, s in counts if t == "return.stored"} == set(returns)
