"""The daemon as a real process: faults, SIGKILL at random moments, and SIGTERM."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.harness import (
    FAST,
    assert_confirmed_exactly_once,
    confirmed_count,
    daemon,
    merged,
    outbox_statuses,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_run_confirms_everything_once_despite_faults(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """5xx, 429, timeouts, dropped connections and expiring tokens end in all confirmed, once."""
    sandbox.add_orders(200)
    sandbox.set_faults(
        Faults(
            error_5xx=0.10,
            rate_limited=0.05,
            retry_after_seconds=1,
            slow=0.03,
            slow_seconds=3.0,
            drop=0.02,
            token_expiry_requests=40,
        )
    )
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    with daemon(config, tmp_path) as running:
        running.start()
        assert wait_until(lambda: confirmed_count(engine) == 200, timeout=150), running.output()
        code, _ = running.terminate()
    assert code == 0
    assert_confirmed_exactly_once(sandbox, engine, 200)
    faults = {entry.fault for entry in sandbox.ledger()}
    assert {"error_5xx", "rate_limited", "slow", "drop", "token_expiry"} <= faults
    assert '"api_retry"' in running.output()  # DEBUG output with errors was checked for secrets


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Twelve SIGKILLs during a 600-order sync, then a clean run: each order stored and
    confirmed exactly once with one number."""
    sandbox.add_orders(600)
    short_leases = merged(FAST, {"outbox": {"lease_seconds": 2}})
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(short_leases, {"api": {"rate_per_second": 30}}),  # a sync the kills can land in
    )
    moments = random.Random(600)
    with daemon(config, tmp_path) as running:
        for _ in range(12):
            running.start()
            assert wait_until(lambda: "daemon_started" in running.latest_output(), timeout=20)
            time.sleep(moments.uniform(0.1, 1.5))
            running.kill()
        confirmed = len(sandbox.effects("confirm"))
        assert 0 < confirmed < 600, f"the kills should land mid-sync ({confirmed} confirmed)"
        # The clean run has nothing left to be interrupted: it need not be slowed down.
        write_config(tmp_path, database_url, server.base_url, short_leases)
        running.start()
        assert wait_until(lambda: confirmed_count(engine) == 600, timeout=120), running.output()
        code, _ = running.terminate()
    assert code == 0
    assert_confirmed_exactly_once(sandbox, engine, 600)
    assert outbox_statuses(engine) == {"sent": 600}


@pytest.mark.parametrize("slow_seconds", [2.0, 25.0], ids=["finish", "release"])
def test_sigterm_with_confirms_in_flight_exits_cleanly(
    slow_seconds: float,
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """SIGTERM mid-confirm: exit 0 within 20 s and no message left in_flight (in-flight
    calls either finish or have their claims released)."""
    sandbox.add_orders(20)
    sandbox.set_faults(Faults(slow=1.0, slow_seconds=slow_seconds, endpoints={"confirm"}))
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"api": {"timeout_seconds": 30}})
    )
    with daemon(config, tmp_path) as running:
        running.start()
        assert wait_until(lambda: outbox_statuses(engine).get("in_flight", 0) > 0, timeout=30)
        code, seconds = running.terminate()
        output = running.output()
    assert (code, outbox_statuses(engine).get("in_flight", 0)) == (0, 0), output
    assert seconds <= 20, output
