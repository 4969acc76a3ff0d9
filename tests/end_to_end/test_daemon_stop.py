"""A stopped daemon ends normally: clients closed, engine disposed, exit 0, and no call
abandoned when none is stuck (``os._exit`` is for a call still waiting on FeedAMP)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import (
    FAST,
    PASSWORD,
    Daemon,
    confirmed_count,
    daemon,
    stored_numbers,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

STOPS = 3
BACKLOG = 6_000
"""Stops per test: a worker thread left alive by a stop showed in one stop out of two."""


def stop_cleanly(running: Daemon) -> None:
    """SIGTERM ends the daemon with exit 0, through daemon_stopped, abandoning nothing."""
    code, _ = running.terminate()
    output = running.latest_output()
    assert code == 0, output
    assert '"daemon_stopped"' in output
    assert "daemon_abandoned_calls" not in output


def progressed(engine: Engine) -> Callable[[], bool]:
    """Whether more orders are stored or confirmed than now: the daemon is at work.

    Either counts: after a restart the first pages hold orders stored but not yet confirmed,
    so on a loaded machine the confirms may be all that moves for a while.
    """
    stored, confirmed = len(stored_numbers(engine)), confirmed_count(engine)
    return lambda: len(stored_numbers(engine)) > stored or confirmed_count(engine) > confirmed


def test_an_idle_daemon_stops_without_abandoning_a_call(
    server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """With nothing to sync, every stop exits 0 without daemon_abandoned_calls."""
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    with daemon(config, tmp_path) as running:
        for _ in range(STOPS):
            running.start()
            assert wait_until(lambda: '"returns_pulled"' in running.latest_output(), timeout=30)
            stop_cleanly(running)


def test_a_busy_daemon_stops_without_abandoning_a_call(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Stopped while it lists and confirms a backlog (pages at FeedAMP's 2 a second), every
    stop exits 0 without daemon_abandoned_calls.

    The backlog is large enough that three starts on a slow machine (each waiting for the
    daemon to start, then for progress) still leave it unfinished: "mid-sync" is judged by
    the confirms, which go on after the last page is stored."""
    sandbox.add_orders(BACKLOG)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    with daemon(config, tmp_path) as running:
        for _ in range(STOPS):
            busy = progressed(engine)
            running.start()
            assert wait_until(lambda: '"daemon_started"' in running.latest_output(), timeout=30)
            assert wait_until(busy, timeout=60), running.latest_output()[-4_000:]
            stop_cleanly(running)
    assert confirmed_count(engine) < BACKLOG, "the stops should land mid-sync"


@pytest.mark.backends("sqlite")  # not a database matter
def test_a_daemon_whose_password_is_refused_stops_without_abandoning_a_call(
    server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """With every tick failing on the refused password, every stop exits 0 without
    daemon_abandoned_calls."""
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    config.write_text(config.read_text().replace(PASSWORD, "not-the-password"))
    with daemon(config, tmp_path) as running:
        for _ in range(STOPS):
            running.start()
            assert wait_until(lambda: '"job_failed"' in running.latest_output(), timeout=30)
            stop_cleanly(running)
