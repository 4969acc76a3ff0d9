"""The systemd unit (verified, hardened) and the notifications a real daemon sends."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import FAST, daemon, merged, wait_until, write_config
from tests.end_to_end.ops_helpers import notify_socket, receive, receive_until

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "feedamp-sync.service"
INSTALLED = "/opt/feedamp-sync/bin/feedamp-sync"
MAX_EXPOSURE = 1.1
WATCHDOG = {"WATCHDOG_USEC": "1000000"}
"""A 1 s watchdog: the daemon pings every 0.5 s while its jobs are alive."""


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        message = "systemd-analyze is not installed (Debian package systemd)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def test_the_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit, checked on a copy whose commands name this
    checkout's feedamp-sync: verify insists the ExecStart binary exists, and the unit names
    where the README installs it (/opt/feedamp-sync), which is absent here."""
    analyze = systemd_analyze()
    program = Path(sys.executable).with_name("feedamp-sync")
    assert program.is_file(), "the project's console script is installed in the venv"
    text = UNIT.read_text()
    assert text.count(INSTALLED) == 2  # ExecStartPre and ExecStart, nothing else rewritten
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(INSTALLED, str(program)))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_unit_is_hardened_to_an_exposure_of_at_most_1_1() -> None:
    """`systemd-analyze security --offline=yes` scores the unit 1.1 or lower."""
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found is not None, result.stdout + result.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, result.stdout


@pytest.mark.slow
@pytest.mark.backends("sqlite")
def test_the_daemon_notifies_ready_then_watchdog_then_stopping(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """READY=1 after start-up, WATCHDOG=1 every half period while syncing, STOPPING=1 on
    SIGTERM, all received on a real datagram socket from the daemon process."""
    sandbox.add_orders(20)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    with notify_socket() as (address, sock), daemon(config, tmp_path) as running:
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        monkeypatch.setenv("WATCHDOG_USEC", WATCHDOG["WATCHDOG_USEC"])
        running.start()
        first = receive_until(sock, "READY=1", 30)
        pings = receive(sock, 2.0)
        code, _ = running.terminate()
        last = receive_until(sock, "STOPPING=1", 5)
    assert first == ["READY=1"], running.output()
    assert set(pings) == {"WATCHDOG=1"}
    assert len(pings) >= 3
    assert last[-1:] == ["STOPPING=1"]
    assert code == 0


@pytest.mark.slow
@pytest.mark.backends("sqlite")
def test_watchdog_pings_stop_while_jobs_are_stuck_and_resume_after(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the database write-locked by another process every tick hangs: the process lives
    but the pings stop (systemd would restart it); when the lock goes, they come back."""
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(FAST, {"api": {"timeout_seconds": 0.5, "connect_timeout_seconds": 0.5}}),
    )
    database = database_url.removeprefix("sqlite:///")
    with notify_socket() as (address, sock), daemon(config, tmp_path) as running:
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        monkeypatch.setenv("WATCHDOG_USEC", WATCHDOG["WATCHDOG_USEC"])
        running.start()
        assert receive_until(sock, "WATCHDOG=1", 30)[-1:] == ["WATCHDOG=1"], running.output()
        lock = sqlite3.connect(database, timeout=10, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            assert wait_until(lambda: receive(sock, 2.0) == [], timeout=30), running.output()
            assert running.process is not None
            assert running.process.poll() is None  # alive, yet no pings
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert receive_until(sock, "WATCHDOG=1", 15)[-1:] == ["WATCHDOG=1"], running.output()
        code, _ = running.terminate()
    assert '"daemon_stalled"' in running.output()
    assert code == 0
