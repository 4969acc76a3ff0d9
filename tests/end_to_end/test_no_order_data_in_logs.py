"""No customer data in what the program logs, records or prints when something fails.

Each test drives a failure that involves an order, on every backend, the way a seller's own
rules in the shared database might cause it (an index, a check constraint, a trigger), and
reads everything the program logged (at DEBUG) and what ``status`` shows: none of the customer
fields of the sandbox's orders may appear, however the database words its refusal (PostgreSQL's
DETAIL lines quote the failing row, MariaDB quotes a duplicate entry's values).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from feedamp_sync.db.engine import Backend, backend_name
from feedamp_sync.outbox.enqueue import enqueue
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.actions import QUICK_RETRIES, fulfillment, lines_of, shipment
from tests.end_to_end.harness import FAST, cli, cli_json, merged, write_config

CUSTOMER_FIELDS = (
    "shipping_full_name",
    "shipping_address1",
    "shipping_phone",
    "customer_email",
    "billing_full_name",
    "billing_address1",
)


def unique_on(table: str, column: str, path: str) -> dict[Backend, list[str]]:
    """A unique index on a value inside a JSON column (``path`` as ``a.b.c``)."""
    name = f"seller_unique_{table}"
    *parents, leaf = path.split(".")
    steps = "".join(f" -> '{step}'" for step in parents)
    return {
        "sqlite": [f"CREATE UNIQUE INDEX {name} ON {table} (json_extract({column}, '$.{path}'))"],
        "postgresql": [
            f"CREATE UNIQUE INDEX {name} ON {table} ((CAST({column} AS jsonb){steps} ->> '{leaf}'))"
        ],
        "mysql": [
            f"ALTER TABLE {table} ADD COLUMN {name}_value VARCHAR(255) "
            f"AS (JSON_VALUE({column}, '$.{path}')) VIRTUAL",
            f"CREATE UNIQUE INDEX {name} ON {table} ({name}_value)",
        ],
    }


SELLER_RULES: dict[str, dict[Backend, list[str]]] = {
    "one order per name": unique_on("feedamp_orders", "data", "order_info.shipping_full_name"),
    "one quarantined order per name": unique_on(
        "feedamp_quarantine", "raw", "order_info.shipping_full_name"
    ),
    "one fulfilled order per name": unique_on(
        "feedamp_outbox", "response", "order_info.shipping_full_name"
    ),
    "nothing cancelled": {
        "sqlite": [
            "CREATE TRIGGER seller_nothing_cancelled BEFORE UPDATE ON feedamp_outbox "
            "WHEN NEW.status = 'cancelled' BEGIN SELECT RAISE(ABORT, 'seller rule'); END"
        ],
        "postgresql": [
            "ALTER TABLE feedamp_outbox ADD CONSTRAINT seller_nothing_cancelled "
            "CHECK (status <> 'cancelled')"
        ],
        "mysql": [
            "ALTER TABLE feedamp_outbox ADD CONSTRAINT seller_nothing_cancelled "
            "CHECK (status <> 'cancelled')"
        ],
    },
}
"""Rules in the shared database that refuse a row the daemon writes, as a seller's own index
or check might, on each backend. A unique index on a customer's name makes the database quote
the name in its refusal (PostgreSQL in DETAIL, MariaDB in the message itself)."""

ONE_ATTEMPT = merged(FAST, {"outbox": {"max_attempts": 1}})

Json = dict[str, Any]


def info(**fields: Any) -> Callable[[Json], Json]:
    """An order as the sandbox serves it, with these ``order_info`` fields changed."""
    return lambda order: {**order, "order_info": {**order["order_info"], **fields}}


def impose(engine: Engine, rule: str) -> None:
    with engine.begin() as conn:
        for statement in SELLER_RULES[rule][backend_name(engine)]:
            conn.exec_driver_sql(statement)


def name_of(sandbox: Sandbox, order_id: str) -> str:
    name: str = sandbox.order(order_id)["order_info"]["shipping_full_name"]
    return name


def two_orders_to_one_name(sandbox: Sandbox, order_ids: list[str]) -> list[str]:
    """The first two of these orders that ship to the same name (the seed makes some)."""
    by_name: defaultdict[str, list[str]] = defaultdict(list)
    for order_id in order_ids:
        by_name[name_of(sandbox, order_id)].append(order_id)
    shared = [ids[:2] for ids in by_name.values() if len(ids) > 1]
    assert shared, "no two orders to one name: add more orders"
    return shared[0]


def spellings(value: str) -> set[str]:
    """``value`` as written, escaped once for a JSON log line, and escaped twice (JSON text,
    such as a row's ``data``, quoted inside a logged message)."""
    once = json.dumps(value)[1:-1]
    return {value, once, json.dumps(once)[1:-1]}


def assert_no_customer_data(text: str, sandbox: Sandbox, order_ids: list[str]) -> None:
    """No customer field of these orders appears in ``text``, in any spelling."""
    values = {
        sandbox.order(order_id)["order_info"][f] for order_id in order_ids for f in CUSTOMER_FIELDS
    }
    found = sorted(v for value in values - {""} for v in spellings(value) if v in text)
    assert found == [], "customer data printed"


@pytest.fixture
def config(server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path) -> Path:
    return write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)


def test_an_order_the_database_refuses_is_quarantined_without_its_data_in_the_logs(
    sandbox: Sandbox, engine: Engine, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second order to the same name breaks the seller's unique index: it is quarantined
    with the database's reason, and no name or address is logged."""
    orders = sandbox.add_orders(3)
    sandbox.serve_order_as(orders[1], info(shipping_full_name=name_of(sandbox, orders[0])))
    impose(engine, "one order per name")

    code, _, err = cli(capsys, config, "run", "--once")

    assert code == 0, err
    [entry] = cli_json(capsys, config, "quarantine", "list")
    assert (entry["feedamp_id"], '"order_quarantined"' in err) == (orders[1], True)
    assert_no_customer_data(err, sandbox, orders)


def test_a_pass_the_database_fails_leaves_no_order_data_in_the_logs_or_status(
    sandbox: Sandbox, engine: Engine, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two malformed orders to one name cannot both be quarantined: the pass fails, and
    neither its traceback nor ``status`` quotes the refused row."""
    orders = sandbox.add_orders(3)
    malformed = info(
        purchase_date="9999-12-31T23:59:59-14:00", shipping_full_name=name_of(sandbox, orders[0])
    )
    sandbox.serve_order_as(orders[0], malformed)
    sandbox.serve_order_as(orders[1], malformed)
    impose(engine, "one quarantined order per name")

    code, _, err = cli(capsys, config, "run", "--once")

    assert (code, '"job_failed"' in err) == (1, True), err
    status = cli_json(capsys, config, "status")
    assert status["jobs"]["orders:main"]["last_error_message"]
    assert_no_customer_data(err + json.dumps(status), sandbox, orders)


def test_a_delivery_result_the_database_refuses_is_recorded_without_order_data_in_the_logs(
    sandbox: Sandbox, engine: Engine, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two orders to one name are shipped, and FeedAMP's answers (each the whole order) cannot
    both be recorded: both shipments end sent, the refused one without its answer and with the
    database's reason, which neither the logs nor the listing quote."""
    orders = sandbox.add_orders(20)
    assert cli(capsys, config, "run", "--once")[0] == 0
    impose(engine, "one fulfilled order per name")
    shipped_orders = two_orders_to_one_name(sandbox, orders)
    with engine.begin() as conn:
        for order_id in shipped_orders:
            line = lines_of(sandbox, order_id)[0]
            shipped = shipment(line["quantity"], f"TRACK-{order_id}")
            payload = fulfillment(line["mp_line_number"], shipped)
            enqueue(conn, account="main", kind="fulfillment", target_id=order_id, payload=payload)

    code, _, err = cli(capsys, config, "run", "--once")

    assert (code, '"job_failed"' in err, '"outbox_result_refused"' in err) == (0, False, True)
    listed = cli_json(capsys, config, "outbox", "list", "--kind", "fulfillment")
    assert sorted(m["target_id"] for m in listed if m["status"] == "sent") == sorted(shipped_orders)
    [refused] = [m for m in listed if m["last_error"]]
    assert refused["last_error"].startswith("the database refused this attempt's record: ")
    assert_no_customer_data(err + json.dumps(listed), sandbox, orders)


@pytest.fixture
def one_attempt(server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path) -> Path:
    """A config under which a message goes dead at its first failure."""
    return write_config(tmp_path, database_url, server.base_url, ONE_ATTEMPT)


def confirms_gone_dead(
    sandbox: Sandbox, config: Path, capsys: pytest.CaptureFixture[str], count: int
) -> tuple[str, list[Json]]:
    """``count`` orders whose confirms gave up during an outage: the pass's log and the dead
    messages as ``outbox list`` shows them."""
    sandbox.add_orders(count)
    sandbox.set_faults(Faults(error_5xx=1.0, endpoints={"confirm"}))
    code, _, err = cli(capsys, config, "run", "--once")
    assert (code, err.count('"outbox_dead"')) == (0, count), err
    dead: list[Json] = cli_json(capsys, config, "outbox", "list", "--status", "dead")
    return err, dead


def test_a_message_that_goes_dead_leaves_no_order_data_in_the_logs(
    sandbox: Sandbox, one_attempt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A confirm that gives up is logged and listed dead with its reason only."""
    err, dead = confirms_gone_dead(sandbox, one_attempt, capsys, 2)
    orders = [message["target_id"] for message in dead]
    assert_no_customer_data(err + json.dumps(dead), sandbox, orders)


def test_a_command_the_database_refuses_prints_one_line_without_the_row(
    sandbox: Sandbox, engine: Engine, one_attempt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``outbox cancel`` refused by a seller's check prints the database's reason on one line,
    without the statement or the row, and exits 1."""
    _, [message] = confirms_gone_dead(sandbox, one_attempt, capsys, 1)
    impose(engine, "nothing cancelled")

    code, _, err = cli(capsys, one_attempt, "outbox", "cancel", str(message["id"]), "--reason", "x")

    assert (code, err.startswith("feedamp-sync: ("), err.count("\n")) == (1, True, 1), err
    for statement_or_row in ("DETAIL", "Failing row", "[SQL"):
        assert statement_or_row not in err
    assert_no_customer_data(err, sandbox, [message["target_id"]])
