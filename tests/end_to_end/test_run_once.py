"""`run --once` against the sandbox: every new order stored, numbered and confirmed once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from feedamp_sync.db import tables as t
from feedamp_sync.feedamp import client as client_module
from feedamp_sync.feedamp.ratelimit import RateLimiter
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from feedamp_sync.settings import ApiSettings
from tests.end_to_end.harness import (
    FAST,
    assert_confirmed_exactly_once,
    cli,
    cli_json,
    merged,
    write_config,
)


def test_437_new_orders_are_stored_and_each_confirmed_once(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One pass stores all 437 orders with their lines and confirms each with its own number."""
    sandbox.add_orders(437)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err
    assert_confirmed_exactly_once(sandbox, engine, 437)
    expected_lines = sum(
        len(sandbox.order(order_id)["order_info"]["order_lines"])
        for order_id in sandbox.confirmed_orders()
    )
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.order_lines)) == expected_lines
    status = cli_json(capsys, config, "status")
    assert status["orders"] == {
        "total": 437,
        "confirmed": 437,
        "unconfirmed": 0,
        "cancelled_after_confirm": 0,
    }
    assert status["outbox"] == {
        "pending": 0,
        "in_flight": 0,
        "sent": 437,
        "dead": 0,
        "cancelled": 0,
    }
    assert status["returns"] == {"total": 0, "open": 0}
    assert status["jobs"]["orders:main"]["last_success"] is not None
    assert status["jobs"]["outbox"]["last_error"] is None


def test_fields_the_docs_do_not_list_survive_into_orders_show(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`orders show` returns the order object as received, unknown fields included."""
    [order_id] = sandbox.add_orders(1)
    received = sandbox.order(order_id)
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"confirm": {"enabled": False}})
    )
    assert cli(capsys, config, "run", "--once")[0] == 0
    shown = cli_json(capsys, config, "orders", "show", order_id)
    undocumented = {"sandbox_channel"} & set(received)
    assert undocumented
    assert shown["data"] == received
    assert (
        shown["data"]["order_info"]["sandbox_loyalty_tier"]
        == (received["order_info"]["sandbox_loyalty_tier"])
    )
    assert [line["mp_line_number"] for line in shown["lines"]] == [
        line["mp_line_number"] for line in received["order_info"]["order_lines"]
    ]


@pytest.mark.slow
@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("end_of_pages", ["null", "absent", "empty", "empty_page"])
def test_every_end_of_pages_form_ends_the_pass(
    end_of_pages: str,
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A null, absent or empty next_cursor, or an empty page, ends the pass with all pages read."""
    sandbox.add_orders(120)
    sandbox.set_faults(Faults(end_of_pages=end_of_pages))  # type: ignore[arg-type]
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(FAST, {"confirm": {"enabled": False}, "api": {"page_size": 50}}),
    )
    assert cli(capsys, config, "run", "--once")[0] == 0
    pages = sandbox.ledger("new_orders")
    assert len(pages) == (4 if end_of_pages == "empty_page" else 3)
    assert cli_json(capsys, config, "status")["orders"]["total"] == 120


@pytest.mark.slow
@pytest.mark.backends("sqlite")
def test_the_list_endpoints_are_never_sent_more_than_two_requests_a_second(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the default list rate, no one-second window holds more than 2 list requests as the
    client's limiter started them, and the sandbox saw no list request it did not start.

    Start times, by the limiter's own clock, not the sandbox's arrival times: a request held up
    on its way (a busy core, the interpreter lock this in-process sandbox shares) arrives
    closer to the next one than it was sent. Under load that delay reached 400 ms, past the
    limiter's 20 ms margin and past any tolerance that would still catch three in a second.
    """
    starts: dict[float, list[float]] = {}

    class Recorded(RateLimiter):
        """The client's limiter, keeping each start it admits, by its rate."""

        def __init__(self, rate_per_second: float, **options: Any) -> None:
            super().__init__(rate_per_second, **options)
            self.admitted = starts.setdefault(rate_per_second, [])

        def acquire(self, deadline: float | None = None) -> float | None:
            start = super().acquire(deadline)
            if start is not None:
                self.admitted.append(start)
            return start

    monkeypatch.setattr(client_module, "RateLimiter", Recorded)
    sandbox.add_orders(800)
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(FAST, {"confirm": {"enabled": False}, "api": {"page_size": 50}}),
    )
    assert cli(capsys, config, "run", "--once")[0] == 0
    listed = sandbox.ledger("new_orders") + sandbox.ledger("search_returns")
    started = sorted(starts[ApiSettings().list_rate_per_second])
    assert len(sandbox.ledger("new_orders")) >= 16
    assert len(started) >= len(listed)
    busiest = max(sum(1 for other in started if start <= other < start + 1.0) for start in started)
    assert busiest <= 2


def test_apply_then_fail_on_confirm_is_reconciled_by_reading_the_order_back(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A confirm applied but answered with an error is found by read-back, never re-sent."""
    sandbox.add_orders(60)
    sandbox.set_faults(Faults(apply_then_fail=0.4, endpoints={"confirm"}))
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(FAST, {"outbox": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}}),
    )
    for _ in range(20):
        assert cli(capsys, config, "run", "--once")[0] == 0
        if cli_json(capsys, config, "status")["orders"]["unconfirmed"] == 0:
            break
    failed = {e.path.split("/")[-2] for e in sandbox.ledger("confirm") if e.fault}
    assert failed
    assert_confirmed_exactly_once(sandbox, engine, 60)
    confirm_requests = [e.path.split("/")[-2] for e in sandbox.ledger("confirm")]
    assert all(confirm_requests.count(order) == 1 for order in failed)
    read_back = {e.path.split("/")[-1] for e in sandbox.ledger("get_order")}
    assert failed <= read_back


@pytest.mark.slow
def test_run_once_confirms_the_first_pages_while_later_ones_are_listed(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The outbox drains beside the pollers: a confirm goes out before the last page is read."""
    sandbox.add_orders(200)
    sandbox.set_faults(Faults(slow=1.0, slow_seconds=0.3, endpoints={"new_orders"}))
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"api": {"page_size": 50}})
    )
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err
    first_confirm = sandbox.ledger("confirm")[0].seq
    assert first_confirm < sandbox.ledger("new_orders")[-1].seq
    assert_confirmed_exactly_once(sandbox, engine, 200)
