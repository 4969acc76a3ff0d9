"""`enqueue` refuses bad input: exit 65, every problem named, nothing stored.

The cases share one world per backend (a module-scoped database and sandbox), since a refused
enqueue changes nothing: orders stored and confirmed, a return stored, and a few messages
already queued (a partial shipment, a refund and an authorization whose numbers are taken).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from feedamp_sync.app import Stop, build_app
from feedamp_sync.db import migrate
from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.model import return_record
from feedamp_sync.outbox.enqueue import enqueue
from feedamp_sync.sandbox import Sandbox, SandboxServer
from feedamp_sync.settings import load_settings
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    fulfillment,
    lines_of,
    order_with_quantities,
    refund,
    shipment,
)
from tests.end_to_end.harness import cli, new_sandbox, write_config


@dataclass(frozen=True)
class World:
    config: Path
    engine: Engine
    order_id: str
    line: str
    quantity: int
    sku: str
    partly_shipped_order: str
    partly_shipped_line: str
    return_id: str
    return_line_ids: list[str]


@pytest.fixture(scope="module")
def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sandbox: Sandbox = new_sandbox(seed=23)
    order_ids = sandbox.add_orders(40)
    [return_id] = sandbox.add_returns(1, ["Pending Refund"])
    engine = create_engine_for(module_database_url)
    migrate.upgrade(engine)
    directory = tmp_path_factory.mktemp("corpus")
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        config = write_config(directory, module_database_url, server.base_url, QUICK_RETRIES)
        with build_app(load_settings(config)) as app:
            assert app.run_once(Stop())
        order_id = next(i for i in order_ids if len(lines_of(sandbox, i)) >= 2)
        first = lines_of(sandbox, order_id)[0]
        partly = order_with_quantities(sandbox, order_ids, [3])
        partly_line = lines_of(sandbox, partly)[0]["mp_line_number"]
        stored_return = return_record(sandbox.return_(return_id))
        ReturnStore(engine).save_page("main", [stored_return], now=datetime.now(UTC))
        with engine.begin() as conn:
            queue = _queue(conn)
            queue("fulfillment", partly, fulfillment(partly_line, shipment(2, "1Z-QUEUED")))
            queue("refund", order_id, refund(first["mp_line_number"], cp_refund_number="RF-TAKEN"))
            queue("return_authorization", return_id, {"merchant_return_number": "RMA-TAKEN"})
        yield World(
            config=config,
            engine=engine,
            order_id=order_id,
            line=first["mp_line_number"],
            quantity=first["quantity"],
            sku=first["sku"],
            partly_shipped_order=partly,
            partly_shipped_line=partly_line,
            return_id=return_id,
            return_line_ids=[line.feedamp_return_line_id or "" for line in stored_return.lines],
        )
    engine.dispose()


def _queue(conn: Any) -> Callable[[str, str, Any], None]:
    def add(kind: str, target_id: str, payload: Any) -> None:
        enqueue(conn, account="main", kind=kind, target_id=target_id, payload=payload)

    return add


Payload = Callable[[World], Any]
"""A case's payload: JSON (a str is written as is) built from the world's ids."""


def ship(w: World, **fields: Any) -> dict[str, Any]:
    return fulfillment(w.line, {**shipment(1, "1Z-CASE"), **fields})


def line_with(w: World, **fields: Any) -> dict[str, Any]:
    return {"order_lines": [{"mp_line_number": w.line, **fields}]}


def cancel(w: World, **fields: Any) -> dict[str, Any]:
    entry = {"quantity_cancelled": 1, "cancellation_reason": "out_of_stock", **fields}
    return line_with(w, cancellations=[entry])


def refund_of(w: World, **fields: Any) -> dict[str, Any]:
    return refund(w.line, **fields)


def return_lines(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"merchant_refund_lines": list(lines)}


def full(line_id: Any, **fields: Any) -> dict[str, Any]:
    return {"feedamp_return_line_id": line_id, "merchant_full_refund": True, **fields}


ORDER = "order"
RETURN = "return"

CASES: list[tuple[str, str, str, Payload, str]] = [
    # (case, kind, target, payload, a fragment of the expected message)
    ("not-json", "fulfillment", ORDER, lambda w: '{"order_lines": [', "not valid JSON"),
    ("empty-file", "fulfillment", ORDER, lambda w: "", "not valid JSON"),
    ("key-twice", "fulfillment", ORDER, lambda w: '{"a": 1, "a": 2}', "appears twice"),
    ("nan", "refund", ORDER, lambda w: '{"item_refund": NaN}', "NaN is not a JSON number"),
    ("not-an-object", "fulfillment", ORDER, lambda w: [], "payload: must be a JSON object"),
    ("no-order-lines", "fulfillment", ORDER, lambda w: {}, "order_lines: required"),
    ("empty-order-lines", "fulfillment", ORDER, lambda w: {"order_lines": []}, "must not be empty"),
    ("order-lines-object", "fulfillment", ORDER, lambda w: {"order_lines": {}}, "list of objects"),
    ("line-not-object", "fulfillment", ORDER, lambda w: {"order_lines": ["x"]}, "[0]: must be an"),
    (
        "no-line-number",
        "fulfillment",
        ORDER,
        lambda w: {"order_lines": [{"fulfillments": [shipment(1, "1Z")]}]},
        "order_lines[0].mp_line_number: required",
    ),
    (
        "line-number-not-text",
        "fulfillment",
        ORDER,
        lambda w: {"order_lines": [{"mp_line_number": 12345, "cancellations": []}]},
        "mp_line_number: must be a non-empty string, got 12345",
    ),
    ("line-without-entries", "fulfillment", ORDER, line_with, "at least one fulfillment"),
    (
        "quantity-zero",
        "fulfillment",
        ORDER,
        lambda w: ship(w, quantity_shipped=0),
        "order_lines[0].fulfillments[0].quantity_shipped: must be a positive integer, got 0",
    ),
    ("quantity-negative", "fulfillment", ORDER, lambda w: ship(w, quantity_shipped=-1), "got -1"),
    ("quantity-fraction", "fulfillment", ORDER, lambda w: ship(w, quantity_shipped=1.5), "got 1.5"),
    ("quantity-text", "fulfillment", ORDER, lambda w: ship(w, quantity_shipped="2"), 'got "2"'),
    ("quantity-true", "fulfillment", ORDER, lambda w: ship(w, quantity_shipped=True), "got true"),
    (
        "no-tracking-number",
        "fulfillment",
        ORDER,
        lambda w: ship(w, tracking_number=None),
        "tracking_number: required",
    ),
    (
        "misspelt-field",
        "fulfillment",
        ORDER,
        lambda w: ship(w, tracking_nubmer="1Z"),
        'tracking_nubmer: unknown field (did you mean "tracking_number"?)',
    ),
    ("date-in-words", "fulfillment", ORDER, lambda w: ship(w, shipped_date="yesterday"), "ISO"),
    ("date-impossible", "fulfillment", ORDER, lambda w: ship(w, shipped_date="2026-02-30"), "ISO"),
    (
        "date-with-space",
        "fulfillment",
        ORDER,
        lambda w: ship(w, shipped_date="2026-05-01 10:00:00"),
        "shipped_date: must be an ISO 8601 date",
    ),
    ("carrier-empty", "fulfillment", ORDER, lambda w: ship(w, carrier=" "), "non-empty string"),
    (
        "cancellation-reason",
        "fulfillment",
        ORDER,
        lambda w: cancel(w, cancellation_reason="oos"),
        "cancellation_reason: must be one of",
    ),
    (
        "cancellation-zero",
        "fulfillment",
        ORDER,
        lambda w: cancel(w, quantity_cancelled=0),
        "quantity_cancelled: must be a positive integer",
    ),
    (
        "misspelt-top-field",
        "fulfillment",
        ORDER,
        lambda w: {**ship(w), "invoce_number": "INV"},
        'did you mean "invoice_number"',
    ),
    (
        "line-twice",
        "fulfillment",
        ORDER,
        lambda w: {"order_lines": ship(w)["order_lines"] * 2},
        "is named twice",
    ),
    (
        "same-shipment-twice",
        "fulfillment",
        ORDER,
        lambda w: fulfillment(w.line, shipment(1, "1Z-A"), shipment(1, "1Z-A")),
        "fulfillments[1]: is identical to fulfillments[0]",
    ),
    (
        "unknown-line",
        "fulfillment",
        ORDER,
        lambda w: fulfillment("NOPE", shipment(1, "1Z")),
        "is not a line of order",
    ),
    (
        "wrong-sku",
        "fulfillment",
        ORDER,
        lambda w: line_with(w, sku=w.sku + "-X", fulfillments=[shipment(1, "1Z")]),
        "is not the SKU of line",
    ),
    (
        "more-than-ordered",
        "fulfillment",
        ORDER,
        lambda w: fulfillment(w.line, shipment(w.quantity + 1, "1Z")),
        "units are left",
    ),
    (
        "more-than-left-after-queued",
        "fulfillment",
        "partly",
        lambda w: fulfillment(w.partly_shipped_line, shipment(2, "1Z-MORE")),
        "only 1 of its 3 units are left (2 covered by outbox messages",
    ),
    ("unknown-order", "fulfillment", "999999", ship, 'no order "999999" is stored'),
    (
        "refund-reason",
        "refund",
        ORDER,
        lambda w: refund_of(w, refund_reason="refunded"),
        "refund_reason: must be one of",
    ),
    ("currency-case", "refund", ORDER, lambda w: refund_of(w, currency="usd"), 'mean "USD"'),
    ("currency-unknown", "refund", ORDER, lambda w: refund_of(w, currency="XYZ"), "ISO 4217"),
    ("currency-withdrawn", "refund", ORDER, lambda w: refund_of(w, currency="HRK"), "ISO 4217"),
    ("currency-missing", "refund", ORDER, lambda w: refund_of(w, currency=None), "currency: req"),
    ("amount-negative", "refund", ORDER, lambda w: refund_of(w, item_refund=-1), "non-negative"),
    ("amount-text", "refund", ORDER, lambda w: refund_of(w, item_refund="1.50"), "non-negative"),
    (
        "refund-quantity-zero",
        "refund",
        ORDER,
        lambda w: refund_of(w, refund_quantity=0),
        "refund_quantity: must be a positive integer",
    ),
    (
        "refund-quantity-over",
        "refund",
        ORDER,
        lambda w: refund_of(w, refund_quantity=w.quantity + 5),
        "is more than line",
    ),
    (
        "wrapper-extra-key",
        "refund",
        ORDER,
        lambda w: {"refund_info": refund_of(w), "note": "x"},
        "note: unknown field",
    ),
    (
        "wrapper-not-object",
        "refund",
        ORDER,
        lambda w: {"refund_info": "x"},
        "refund_info: must be an object",
    ),
    (
        "wrapped-bad-reason",
        "refund",
        ORDER,
        lambda w: {"refund_info": refund_of(w, refund_reason="x")},
        "refund_info.refund_reason: must be one of",
    ),
    ("refund-unknown-line", "refund", ORDER, lambda w: refund("NOPE"), "is not a line of order"),
    ("refund-unknown-order", "refund", "999999", refund_of, 'no order "999999"'),
    (
        "refund-number-taken",
        "refund",
        ORDER,
        lambda w: refund_of(w, cp_refund_number="RF-TAKEN"),
        'cp_refund_number: "RF-TAKEN" is already used by outbox message',
    ),
    (
        "rma-empty",
        "return-authorization",
        RETURN,
        lambda w: {"merchant_return_number": ""},
        "merchant_return_number: must be a non-empty string",
    ),
    ("rma-misspelt", "return-authorization", RETURN, lambda w: {"rma": "1"}, "unknown field"),
    ("rma-unknown-return", "return-authorization", "424242", lambda w: {}, 'no return "424242"'),
    (
        "rma-taken",
        "return-authorization",
        RETURN,
        lambda w: {"merchant_return_number": "RMA-TAKEN"},
        "is already used by outbox message",
    ),
    (
        "partial-return-refund",
        "return-refund",
        RETURN,
        lambda w: return_lines(full(w.return_line_ids[0], merchant_full_refund=False)),
        "merchant_full_refund: must be true",
    ),
    (
        "line-id-number",
        "return-refund",
        RETURN,
        lambda w: return_lines(full(900001)),
        "feedamp_return_line_id: must be a non-empty string, got 900001",
    ),
    (
        "line-id-unknown",
        "return-refund",
        RETURN,
        lambda w: return_lines(full("0")),
        "is not a line of return",
    ),
    (
        "line-number-unknown",
        "return-refund",
        RETURN,
        lambda w: {
            "merchant_refund_lines": [{"mp_return_line_number": "0", "merchant_full_refund": True}]
        },
        'mp_return_line_number: "0" is not a line of return',
    ),
    (
        "line-id-twice",
        "return-refund",
        RETURN,
        lambda w: return_lines(full(w.return_line_ids[0]), full(w.return_line_ids[0])),
        "is named twice",
    ),
    (
        "full-flag-missing",
        "return-refund",
        RETURN,
        lambda w: return_lines({"feedamp_return_line_id": w.return_line_ids[0]}),
        "merchant_full_refund: required",
    ),
    (
        "lines-not-list",
        "return-refund",
        RETURN,
        lambda w: {"merchant_refund_lines": "all"},
        "merchant_refund_lines: must be a list of objects",
    ),
    # Text and values no database can store, or that no marketplace should show.
    (
        "nul-in-text",
        "fulfillment",
        ORDER,
        lambda w: json.dumps(ship(w, tracking_number="A\x00B")),
        "tracking_number: contains a NUL character",
    ),
    (
        "lone-surrogate",
        "fulfillment",
        ORDER,
        lambda w: json.dumps(ship(w, carrier="UPS\ud800")),
        "carrier: contains an unpaired surrogate",
    ),
    ("nested-100000", "refund", ORDER, lambda w: "[" * 100_000, "JSON nested too deeply"),
    (
        "nested-40",
        "refund",
        ORDER,
        lambda w: refund_of(w) | {"x": json.loads("[" * 40 + "]" * 40)},
        "nested deeper than 31 levels",
    ),
    (
        "huge-amount",
        "refund",
        ORDER,
        lambda w: refund_of(w, item_refund=1e308),
        "at most 1,000,000",
    ),
    ("tiny-amount", "refund", ORDER, lambda w: refund_of(w, item_refund=1e-7), "4 decimal places"),
    ("year-9999", "fulfillment", ORDER, lambda w: ship(w, shipped_date="9999-12-31"), "from 2000"),
    (
        "script-url",
        "fulfillment",
        ORDER,
        lambda w: ship(w, tracking_url="javascript:alert(1)"),
        "must be an http:// or https:// URL",
    ),
    # A command line's bytes that are not UTF-8 reach the program as lone surrogates.
    ("target-not-utf8", "refund", "M\udcfcller", refund_of, "target_id: contains an unpaired"),
    ("target-too-long", "refund", "1" * 65, refund_of, "target_id: 65 characters, over 64"),
]


def _target(world: World, target: str) -> str:
    return {
        ORDER: world.order_id,
        RETURN: world.return_id,
        "partly": world.partly_shipped_order,
    }.get(target, target)


def _outbox_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(t.outbox)) or 0)


@pytest.mark.parametrize(
    ("kind", "target", "payload", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_refused_with_exit_65_and_nothing_stored(
    kind: str,
    target: str,
    payload: Payload,
    expected: str,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each malformed or inconsistent payload exits 65, names its problem, stores nothing."""
    before = _outbox_rows(world.engine)
    target_id = _target(world, target)
    code, out, err = enqueue_cli(capsys, world.config, tmp_path, kind, target_id, payload(world))
    assert (code, out) == (65, "")
    assert "nothing stored" in err
    assert expected in err
    assert _outbox_rows(world.engine) == before


def test_the_corpus_has_forty_named_cases() -> None:
    """The corpus covers at least 40 distinct, named refusals."""
    names = [case[0] for case in CASES]
    assert len(names) >= 40
    assert len(set(names)) == len(names)


def test_every_problem_of_a_payload_is_listed_at_once(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A payload with three mistakes gets three lines, each naming its field."""
    body = refund_of(world, refund_reason="x", currency="usd", item_refund=-2)
    code, _, err = enqueue_cli(capsys, world.config, tmp_path, "refund", world.order_id, body)
    assert code == 65
    problems = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    assert [problem.split(":")[0] for problem in problems] == [
        "refund_reason",
        "currency",
        "item_refund",
    ]


def test_an_unknown_account_is_a_usage_error(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--account naming an account that is not configured exits 2 and lists the known ones."""
    path = tmp_path / "refund.json"
    path.write_text("{}")
    code, _, err = cli(
        capsys, world.config, "enqueue", "--account", "nope", "refund", world.order_id, str(path)
    )
    assert code == 2
    assert "configured: main" in err
