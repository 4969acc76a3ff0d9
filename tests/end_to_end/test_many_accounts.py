"""Two hundred accounts in one daemon, from an accounts file, on a bounded number of threads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Sandbox, SandboxServer
from feedamp_sync.sandbox.tenants import generated
from tests.end_to_end.harness import (
    FAST,
    PASSWORD,
    USERNAME,
    accounts_confirmed_exactly_once,
    confirmed_count,
    daemon,
    merged,
    write_accounts_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300), pytest.mark.backends("sqlite")]

ACCOUNTS = 200
ORDERS_EACH = 3
POLL_CONCURRENCY = 4
OUTBOX_CONCURRENCY = 8
THREAD_BOUND = 2 * POLL_CONCURRENCY + OUTBOX_CONCURRENCY + 8
"""Pollers and a read-ahead each, outbox workers, and a few of the daemon's own (main,
scheduler, its worker, dispatcher, ...): nothing that counts accounts."""
RSS_BOUND_KIB = 300 * 1024
"""Peak memory: about 95 MiB measured; an API client's own CA bundle per account would
add 160 MiB."""


@pytest.fixture
def accounts() -> dict[str, Sandbox]:
    made = generated(ACCOUNTS, username=USERNAME, password=PASSWORD, seed=3)
    for account in made.values():
        account.add_orders(ORDERS_EACH)
    return made


@pytest.fixture
def accounts_server(accounts: dict[str, Sandbox]) -> Iterator[SandboxServer]:
    with SandboxServer(Sandbox(), accounts=accounts) as server:
        yield server


def status_field(pid: int, name: str) -> int:
    """A number from ``/proc/PID/status`` (``Threads``, ``VmHWM`` in KiB); 0 once it exited."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    for line in text.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    return 0


def test_two_hundred_accounts_are_served_on_a_bounded_number_of_threads(
    accounts: dict[str, Sandbox],
    accounts_server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """Accounts from accounts_file, 3 new orders each: every order stored and confirmed once
    for its own account, while the process never has more threads than the pools allow."""
    config = write_accounts_config(
        tmp_path,
        database_url,
        accounts_server,
        list(accounts),
        merged(
            FAST,
            {
                "jobs": {
                    "orders_interval": 5,
                    "returns_interval": 60,
                    "poll_concurrency": POLL_CONCURRENCY,
                },
                "outbox": {"concurrency": OUTBOX_CONCURRENCY},
                "api": {"rate_per_second": 5},
            },
        ),
    )
    expected = ACCOUNTS * ORDERS_EACH
    threads: list[int] = []
    with daemon(config, tmp_path) as running:
        running.start()
        assert running.process is not None
        pid = running.process.pid
        deadline = time.monotonic() + 180
        while confirmed_count(engine) < expected and time.monotonic() < deadline:
            threads.append(status_field(pid, "Threads"))
            assert running.process.poll() is None, running.output()[-3000:]
            time.sleep(0.2)
        peak_rss = status_field(pid, "VmHWM")
        code, _ = running.terminate()
    assert confirmed_count(engine) == expected, running.output()[-3000:]
    assert code == 0
    assert accounts_confirmed_exactly_once(accounts, engine, ORDERS_EACH) == {}
    assert 0 < max(threads) <= THREAD_BOUND, max(threads)
    assert peak_rss < RSS_BOUND_KIB, peak_rss
