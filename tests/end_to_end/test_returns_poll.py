"""The returns poller against the sandbox: open returns first, then refreshed ones, in UTC.

The sandbox runs on a clock that can be set back, so a test can create returns "two hours
ago": older than the incremental window of a later poll, as returns are on a real account.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.app import build_app
from feedamp_sync.db import tables as t
from feedamp_sync.db.returns import ReturnsSaved, ReturnStore
from feedamp_sync.db.sync_state import SyncStateStore
from feedamp_sync.errors import ApiUnavailable
from feedamp_sync.model import ReturnRecord
from feedamp_sync.sandbox import RETURN_STATES, Faults, Sandbox, SandboxServer
from feedamp_sync.settings import load_settings
from tests.end_to_end.harness import (
    CLIENT_ID,
    FAST,
    PASSWORD,
    USERNAME,
    cli,
    cli_json,
    daemon,
    merged,
    wait_until,
    write_config,
)

OPEN_STATES = RETURN_STATES[:5]
CLOSED_STATES = RETURN_STATES[5:]
TWO_HOURS = 7200.0
RETURNS_ONLY = merged(FAST, {"confirm": {"enabled": False}})


class SettableClock:
    """The sandbox's clock: real time, shifted by ``shift`` seconds."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


@pytest.fixture
def sandbox_clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def sandbox(sandbox_clock: SettableClock) -> Sandbox:
    return Sandbox(
        username=USERNAME, password=PASSWORD, client_id=CLIENT_ID, seed=11, clock=sandbox_clock
    )


@pytest.fixture
def config(server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path) -> Path:
    return write_config(tmp_path, database_url, server.base_url, RETURNS_ONLY)


def add_old_returns(sandbox: Sandbox, clock: SettableClock, count: int) -> list[str]:
    """Returns in every state, created and last refreshed two hours ago."""
    clock.shift = -TWO_HOURS
    try:
        return sandbox.add_returns(count, states=RETURN_STATES)
    finally:
        clock.shift = 0.0


def run_once(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err


def stored_states(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.returns.c.feedamp_id, t.returns.c.state))
        return {row.feedamp_id: row.state for row in rows}


def stored_lines(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    lines: dict[str, set[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.returns.c.feedamp_id,
                t.return_lines.c.mp_return_line_number,
                t.return_lines.c.feedamp_return_line_id,
                t.return_lines.c.mp_order_line_number,
                t.return_lines.c.sku,
                t.return_lines.c.quantity,
            ).join(t.returns, t.returns.c.id == t.return_lines.c.return_id)
        )
        for row in rows:
            lines.setdefault(row[0], set()).add(tuple(row[1:]))
    return lines


def sandbox_lines(sandbox: Sandbox, return_id: str) -> set[tuple[Any, ...]]:
    return {
        (
            line["mp_return_line_number"],
            line["feedamp_return_line_id"],
            line["mp_order_line_number"],
            line["sku"],
            line["quantity"],
        )
        for line in sandbox.return_(return_id)["return_info"]["return_lines"]
    }


def search_queries(sandbox: Sandbox) -> list[dict[str, list[str]]]:
    return [parse_qs(entry.query) for entry in sandbox.ledger("search_returns")]


def test_returns_that_appear_after_the_first_pass_are_stored_in_every_state(
    sandbox: Sandbox,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """150 new returns across all 8 states are all stored by the next pass, with their lines."""
    run_once(capsys, config)
    ids = sandbox.add_returns(150, states=RETURN_STATES)
    run_once(capsys, config)
    assert stored_states(engine) == {rid: sandbox.return_(rid)["state"] for rid in ids}
    assert set(stored_states(engine).values()) == set(RETURN_STATES)
    assert stored_lines(engine) == {rid: sandbox_lines(sandbox, rid) for rid in ids}
    assert cli_json(capsys, config, "status")["returns"] == {
        "total": 150,
        "open": sum(1 for rid in ids if sandbox.return_(rid)["state"] in OPEN_STATES),
    }


def test_the_first_pass_stores_every_open_return_and_no_closed_one(
    sandbox: Sandbox,
    sandbox_clock: SettableClock,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without a checkpoint, only open returns are fetched, each with its state and lines."""
    ids = add_old_returns(sandbox, sandbox_clock, 150)
    run_once(capsys, config)
    expected = {
        rid: state for rid in ids if (state := sandbox.return_(rid)["state"]) in OPEN_STATES
    }
    assert set(expected.values()) == set(OPEN_STATES)
    assert stored_states(engine) == expected
    assert stored_lines(engine) == {rid: sandbox_lines(sandbox, rid) for rid in expected}


def test_a_later_pass_records_transitions_including_into_closed_states(
    sandbox: Sandbox,
    sandbox_clock: SettableClock,
    config: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Returns refreshed since the last pass are stored in their new state, closed or not;
    closed returns that never changed since before the first pass stay unfetched."""
    ids = add_old_returns(sandbox, sandbox_clock, 150)
    run_once(capsys, config)
    first = stored_states(engine)
    moves = dict(zip(list(first)[:4], [*CLOSED_STATES, "Pending Refund"], strict=True))
    untouched_closed = [rid for rid in ids if rid not in first]
    moves[untouched_closed[0]] = "Merchant Refunded"  # a closed return refreshed again
    for rid, state in moves.items():
        sandbox.set_return_state(rid, state)
    run_once(capsys, config)
    assert stored_states(engine) == first | moves
    assert not set(untouched_closed[1:]) & set(stored_states(engine))


def test_a_return_moved_to_pending_refund_is_seen_with_a_new_state_changed_at(
    sandbox: Sandbox,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After the marketplace moves a return to Pending Refund, the next poll records it."""
    [return_id] = sandbox.add_returns(1, states=["Pending Shipping"])
    run_once(capsys, config)
    before = cli_json(capsys, config, "returns", "show", return_id)
    sandbox.set_return_state(return_id, "Pending Refund")
    run_once(capsys, config)
    after = cli_json(capsys, config, "returns", "show", return_id)
    assert (before["state"], after["state"]) == ("Pending Shipping", "Pending Refund")
    assert datetime.fromisoformat(after["state_changed_at"]) > datetime.fromisoformat(
        before["state_changed_at"]
    )
    assert after["data"]["state"] == "Pending Refund"


def test_no_search_request_carries_a_naive_timestamp(
    sandbox: Sandbox,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first pass asks for open returns; later ones for refreshed-after with +00:00."""
    sandbox.add_returns(5)
    for _ in range(3):
        run_once(capsys, config)
    entries = sandbox.ledger("search_returns")
    assert [entry.naive_timestamp for entry in entries] == [False] * 3
    first, *later = search_queries(sandbox)
    assert (first.get("open"), "refreshed-after" in first) == (["true"], False)
    for query in later:
        [value] = query["refreshed-after"]
        assert value.endswith("+00:00")
        assert "open" not in query


@pytest.mark.slow
def test_a_pass_that_fails_half_way_leaves_the_checkpoint(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """A fault after the first page fails the pass; the next pass asks for the same window."""
    sandbox.add_returns(120, states=OPEN_STATES)
    pages_of_50 = merged(RETURNS_ONLY, {"api": {"page_size": 50, "get_attempts": 1}})
    settings = load_settings(write_config(tmp_path, database_url, server.base_url, pages_of_50))
    stop = threading.Event()
    state = SyncStateStore(engine)
    with build_app(settings) as app:
        app.pull_returns("main", stop)
        checkpoint = state.checkpoint("main", "returns")
        app.returns = FailingAfterFirstPage(engine, sandbox)
        with pytest.raises(ApiUnavailable):
            app.pull_returns("main", stop)
        assert state.checkpoint("main", "returns") == checkpoint
        sandbox.set_faults(Faults())
        app.returns = ReturnStore(engine)
        app.pull_returns("main", stop)
    first, failed, repeated = [q for q in search_queries(sandbox) if "cursor" not in q]
    assert (first["open"], "refreshed-after" in failed) == (["true"], True)
    assert [e.status for e in sandbox.ledger("search_returns")].count(503) == 1
    assert failed["refreshed-after"] == repeated["refreshed-after"]
    assert state.checkpoint("main", "returns") != checkpoint


class FailingAfterFirstPage(ReturnStore):
    """Stores pages normally, then makes FeedAMP fail every later search request."""

    def __init__(self, engine: Engine, sandbox: Sandbox) -> None:
        super().__init__(engine)
        self._sandbox = sandbox

    def save_page(
        self, account: str, records: Sequence[ReturnRecord], *, now: datetime
    ) -> ReturnsSaved:
        saved = super().save_page(account, records, now=now)
        self._sandbox.set_faults(Faults(error_5xx=1.0, endpoints={"search_returns"}))
        return saved


def test_returns_list_filters_by_state_and_open(
    sandbox: Sandbox,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`returns list --json` lists stored returns; --state and --open narrow the list."""
    run_once(capsys, config)
    ids = sandbox.add_returns(16, states=RETURN_STATES)
    run_once(capsys, config)
    listed = cli_json(capsys, config, "returns", "list")
    refunded = cli_json(capsys, config, "returns", "list", "--state", "Merchant Refunded")
    still_open = cli_json(capsys, config, "returns", "list", "--open", "--limit", "3")
    assert sorted(row["feedamp_id"] for row in listed) == sorted(ids)
    assert {row["state"] for row in refunded} == {"Merchant Refunded"}
    assert len(refunded) == 2
    assert len(still_open) == 3
    assert {row["state"] for row in still_open} <= set(OPEN_STATES)


def test_returns_show_gives_the_lines_and_the_object_as_received(
    sandbox: Sandbox,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`returns show` has the typed columns, the lines and the whole return object."""
    [return_id] = sandbox.add_returns(1, states=["Pending Authorization"])
    run_once(capsys, config)
    shown = cli_json(capsys, config, "returns", "show", return_id)
    received = sandbox.return_(return_id)
    assert shown["data"] == received
    assert shown["order_feedamp_id"] == received["order_id"]
    assert [line["feedamp_return_line_id"] for line in shown["lines"]] == [
        line["feedamp_return_line_id"] for line in received["return_info"]["return_lines"]
    ]
    code, _, err = cli(capsys, config, "returns", "show", "404404")
    assert (code, "no stored return" in err) == (1, True)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_daemon_polls_returns_on_their_own_schedule(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """`run` polls each account's returns on their own schedule; a return that moves is seen
    on a later poll."""
    [return_id] = sandbox.add_returns(1, states=["Pending Shipping"])
    fast_returns = merged(RETURNS_ONLY, {"jobs": {"returns_interval": 0.5}})
    config = write_config(tmp_path, database_url, server.base_url, fast_returns)
    with daemon(config, tmp_path) as running:
        running.start()
        assert wait_until(lambda: return_id in stored_states(engine), timeout=60), running.output()
        sandbox.set_return_state(return_id, "Pending Refund")
        assert wait_until(
            lambda: stored_states(engine)[return_id] == "Pending Refund", timeout=60
        ), running.output()
        code, _ = running.terminate()
    assert code == 0
    assert running.output().count('"returns_pulled"') >= 2
