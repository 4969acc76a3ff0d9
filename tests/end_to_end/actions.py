"""Helpers for seller-action tests: payloads, stored returns, and passes run until settled."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from feedamp_sync.db import tables as t
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.model import return_record
from feedamp_sync.sandbox import Faults, Sandbox
from tests.end_to_end.harness import FAST, Sections, cli, merged, write_config

QUICK_RETRIES: Sections = merged(
    FAST, {"outbox": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}}
)
"""Retries due at once, so a bounded loop of ``run --once`` converges in a few passes."""

PATIENT: Sections = merged(
    QUICK_RETRIES, {"outbox": {"backoff_base_seconds": 3600, "backoff_max_seconds": 3600}}
)
"""Retries an hour away, so a pass attempts each message once however busy the machine."""

MAX_PASSES = 15


def shipment(quantity: int, tracking: str, **extra: Any) -> dict[str, Any]:
    return {
        "quantity_shipped": quantity,
        "shipped_date": "2026-05-01T10:00:00Z",
        "carrier": "UPS",
        "tracking_number": tracking,
        **extra,
    }


def fulfillment(line: str, *shipments: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"order_lines": [{"mp_line_number": line, "fulfillments": list(shipments), **extra}]}


def refund(line: str, **extra: Any) -> dict[str, Any]:
    return {
        "mp_line_number": line,
        "refund_reason": "customer_return",
        "currency": "USD",
        "item_refund": 1.5,
        **extra,
    }


def lines_of(sandbox: Sandbox, order_id: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = sandbox.order(order_id)["order_info"]["order_lines"]
    return lines


def order_with_quantities(sandbox: Sandbox, order_ids: list[str], quantities: list[int]) -> str:
    """The first order whose lines have exactly these quantities (the seed makes one)."""
    for order_id in order_ids:
        if [line["quantity"] for line in lines_of(sandbox, order_id)] == quantities:
            return order_id
    raise AssertionError(f"no order with line quantities {quantities}; add more orders")


def store_returns(engine: Engine, sandbox: Sandbox, return_ids: list[str]) -> None:
    """Store returns as the returns poller does, so actions on them pass the stored-data check."""
    records = [return_record(sandbox.return_(return_id)) for return_id in return_ids]
    ReturnStore(engine).save_page("main", records, now=datetime.now(UTC))


def write_payload(directory: Path, payload: Any, name: str = "payload.json") -> Path:
    path = directory / name
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return path


def enqueue_cli(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    tmp_path: Path,
    kind: str,
    target_id: str,
    payload: Any,
) -> tuple[int, str, str]:
    """``feedamp-sync enqueue KIND ID FILE``; returns (exit code, stdout, stderr)."""
    path = write_payload(tmp_path, payload)
    return cli(capsys, config, "enqueue", kind, target_id, str(path))


def statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {
            row.id: row.status for row in conn.execute(select(t.outbox.c.id, t.outbox.c.status))
        }


def message_row(engine: Engine, message_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(t.outbox).where(t.outbox.c.id == message_id)).one()


def run_passes(capsys: pytest.CaptureFixture[str], config: Path, passes: int) -> None:
    for _ in range(passes):
        code, _, err = cli(capsys, config, "run", "--once")
        assert code == 0, err


def run_until_settled(capsys: pytest.CaptureFixture[str], config: Path, engine: Engine) -> int:
    """``run --once`` until no message is pending or in flight (at most 15 passes)."""
    for passes in range(1, MAX_PASSES + 1):
        code, _, err = cli(capsys, config, "run", "--once")
        assert code == 0, err
        if not set(statuses(engine).values()) & {"pending", "in_flight"}:
            return passes
    raise AssertionError(f"outbox not settled after {MAX_PASSES} passes: {statuses(engine)}")


def patient_config(tmp_path: Path, database_url: str, base_url: str) -> Path:
    """The same seller with :data:`PATIENT` retries, for :func:`once_under`."""
    directory = tmp_path / "patient"
    directory.mkdir()
    return write_config(directory, database_url, base_url, PATIENT)


def once_under(
    capsys: pytest.CaptureFixture[str],
    patient: Path,
    engine: Engine,
    sandbox: Sandbox,
    faults: Faults,
) -> str:
    """One ``run --once`` under ``faults`` that attempts each due message once, then the
    sandbox's faults as before and every retry due; returns what the run logged.

    With quick retries, a pass tries a failed message again whenever recording the attempt
    and claiming again outlasts its backoff: on a busy machine, up to ``max_attempts`` times
    under the faults, so it would end dead before the faults are lifted. ``patient`` is a
    config from :func:`patient_config`.
    """
    before = sandbox.faults
    sandbox.set_faults(faults)
    code, _, err = cli(capsys, patient, "run", "--once")
    sandbox.set_faults(before)
    assert code == 0, err
    retries_fall_due(engine)
    return err


def retries_fall_due(engine: Engine) -> None:
    """The backoff has passed: every pending message is due now."""
    with engine.begin() as conn:
        conn.execute(
            update(t.outbox)
            .where(t.outbox.c.status == "pending")
            .values(next_attempt_at=datetime.now(UTC))
        )
