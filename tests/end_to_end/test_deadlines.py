"""A call ends by its deadline however slowly FeedAMP answers, and ``run --once`` stops on
SIGTERM as the daemon does.

The sandbox's ``drip`` fault sends the headers at once and then the body one byte at a time:
every read returns quickly, so a per-read timeout never fires.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.app import STOP_SECONDS
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.harness import FAST, cli, merged, wait_until, write_config

TIMEOUT_SECONDS = 1.0
DEADLINE_SECONDS = 2 * TIMEOUT_SECONDS


def test_a_dripping_answer_ends_the_call_at_its_deadline(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One byte every half second of a list page: the pass fails within the call's bound
    (twice api.timeout_seconds) instead of reading for minutes."""
    sandbox.add_orders(20)
    sandbox.set_faults(Faults(drip=1.0, drip_seconds=0.5, endpoints={"new_orders"}))
    sections = merged(FAST, {"api": {"timeout_seconds": TIMEOUT_SECONDS}})
    config = write_config(tmp_path, database_url, server.base_url, sections)
    started = time.monotonic()
    code, _, err = cli(capsys, config, "run", "--once")
    elapsed = time.monotonic() - started
    assert code == 1
    assert "answer was still arriving at the call's deadline" in err
    assert elapsed < DEADLINE_SECONDS + 3.0, elapsed


@pytest.mark.slow
def test_sigterm_stops_run_once_within_the_grace_period_and_exits_non_zero(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """A pass stuck in a long call is stopped, not waited for: exit 1 within the grace."""
    sandbox.add_orders(20)
    sandbox.set_faults(Faults(drip=1.0, drip_seconds=1.0, endpoints={"new_orders"}))
    sections = merged(FAST, {"api": {"timeout_seconds": 30}})
    config = write_config(tmp_path, database_url, server.base_url, sections)
    command = [sys.executable, "-m", "feedamp_sync", "--config", str(config), "run", "--once"]
    with subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            assert wait_until(lambda: bool(sandbox.ledger("new_orders")), timeout=20)
            time.sleep(0.5)  # the first byte is on its way: the call is in its body now
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=STOP_SECONDS + 15)
            elapsed = time.monotonic() - started
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 1
    assert elapsed < STOP_SECONDS + 5, elapsed


def test_a_pass_over_the_same_orders_under_new_cursors_ends(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Cursors that never move on (the first page again, under a fresh cursor) end the pass
    with a warning once a page brings nothing new; run --once finishes."""
    sandbox.add_orders(5)
    sandbox.set_faults(Faults(stuck_cursor=True))
    sections = merged(FAST, {"confirm": {"enabled": False}})
    config = write_config(tmp_path, database_url, server.base_url, sections)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err
    assert "pagination_no_progress" in err
    assert len(sandbox.ledger("new_orders")) == 2
