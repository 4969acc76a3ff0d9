"""Several daemons sharing one PostgreSQL or MariaDB database, each effect still once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import (
    FAST,
    Daemon,
    assert_confirmed_exactly_once,
    confirmed_count,
    merged,
    outbox_statuses,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.timeout(240), pytest.mark.backends("postgresql", "mariadb")]

LEASE_SECONDS = 2


def test_three_daemons_confirm_each_order_once_while_one_is_paused(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Three instances share 500 orders; one is frozen with SIGSTOP past its lease and then
    resumed: every order is confirmed exactly once and nothing is left in flight."""
    sandbox.add_orders(500)
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(
            FAST,
            {
                "api": {"rate_per_second": 40},
                "outbox": {"lease_seconds": LEASE_SECONDS, "concurrency": 4},
            },
        ),
    )
    daemons = [Daemon(config, tmp_path / f"instance-{n}") for n in range(3)]
    for running in daemons:
        running.logs.mkdir()
        running.start()
    paused = daemons[0]
    try:
        assert wait_until(lambda: confirmed_count(engine) >= 50, timeout=60)
        assert paused.process is not None
        paused.process.send_signal(signal.SIGSTOP)
        time.sleep(LEASE_SECONDS * 3)
        paused.process.send_signal(signal.SIGCONT)
        assert wait_until(lambda: confirmed_count(engine) == 500, timeout=150)
        codes = [running.terminate()[0] for running in daemons]
    finally:
        for running in daemons:
            running.stop_quietly()
    assert codes == [0, 0, 0]
    assert_confirmed_exactly_once(sandbox, engine, 500)
    assert outbox_statuses(engine) == {"sent": 500}
    outputs = "\n".join(running.output() for running in daemons)
    database_errors = [
        line for line in outputs.splitlines() if '"job_failed"' in line and "sqlalchemy" in line
    ]
    assert database_errors == []  # pollers never raced to insert the same order
    assert '"outbox_lease_lost"' in paused.output()  # its late results were fenced off
