"""The health listener of a running daemon: /healthz, /readyz, /metrics, and an outage."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.db.sync_state import SyncStateStore
from feedamp_sync.jobs import ORDERS_JOB, OUTBOX_JOB, PRUNE_JOB, RETURNS_JOB
from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import (
    FAST,
    confirmed_count,
    daemon,
    merged,
    wait_until,
    write_config,
)
from tests.end_to_end.ops_helpers import free_port, http_get, http_head

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def health_config(tmp_path: Path, database_url: str, base_url: str) -> tuple[Path, str]:
    port = free_port()
    sections = merged(FAST, {"health": {"enabled": True, "listen": f"127.0.0.1:{port}"}})
    return write_config(tmp_path, database_url, base_url, sections), f"http://127.0.0.1:{port}"


def metric(text: str, line_start: str) -> float:
    """The value of the first sample line starting with ``line_start``."""
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {line_start!r} in:\n{text}")


def every_job_succeeded(engine: Engine) -> bool:
    """Each job has finished a tick with success, as the sync-state table records it."""
    rows = SyncStateStore(engine).all()
    done = {row["job"] for row in rows if row["last_success_at"] is not None}
    return done >= {ORDERS_JOB, RETURNS_JOB, OUTBOX_JOB, PRUNE_JOB}


def test_a_syncing_daemon_is_alive_ready_and_measured(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """/healthz and /readyz answer 200 with every check ok; /metrics counts what was done and
    names the release; HEAD on each path answers its status without a body."""
    sandbox.add_orders(30)
    config, url = health_config(tmp_path, database_url, server.base_url)
    with daemon(config, tmp_path) as running:
        running.start()
        assert wait_until(lambda: confirmed_count(engine) == 30, timeout=60), running.output()
        assert wait_until(lambda: http_get(f"{url}/readyz")[0] == 200, timeout=30)
        healthz, readyz, metrics = (
            http_get(f"{url}{path}") for path in ("/healthz", "/readyz", "/metrics")
        )
        heads = [http_head(f"{url}{path}") for path in ("/healthz", "/readyz", "/metrics")]
        code, _ = running.terminate()
    assert (healthz[0], json.loads(healthz[1])["failed"]) == (200, {})
    ready = json.loads(readyz[1])
    assert set(ready["checks"]) >= {
        "database",
        "job orders:main",
        "job outbox",
        "job prune",
        "account main",
    }
    assert metrics[0] == 200
    assert metric(metrics[1], 'feedamp_sync_orders_ingested_total{account="main"}') == 30
    assert metric(metrics[1], 'feedamp_sync_confirmations_total{account="main"}') == 30
    assert metric(metrics[1], 'feedamp_sync_outbox_results_total{outcome="sent"}') == 30
    assert metric(metrics[1], 'feedamp_sync_outbox_messages{kind="confirm",status="pending"}') == 0
    assert metric(metrics[1], "feedamp_sync_outbox_oldest_pending_age_seconds") == 0
    assert metric(metrics[1], 'feedamp_sync_token_renewals_total{account="main"}') >= 1
    assert metric(metrics[1], "feedamp_sync_database_up") == 1
    release = version("feedamp-sync")
    assert metric(metrics[1], f'feedamp_sync_build_info{{version="{release}"}}') == 1
    assert heads == [(200, "")] * 3
    requests = 'feedamp_sync_api_requests_total{account="main",endpoint="confirm",status="200"}'
    assert metric(metrics[1], requests) == 30
    assert 'feedamp_sync_api_request_duration_seconds_bucket{account="main"' in metrics[1]
    assert (
        'feedamp_sync_job_last_success_timestamp_seconds{account="main",job="orders"}'
        in (metrics[1])
    )
    assert code == 0


@pytest.mark.backends("sqlite")
def test_readyz_turns_unready_while_feedamp_is_gone_and_ready_when_it_returns(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """The sandbox stops answering for longer than three intervals: 503 naming the orders
    job; a new sandbox on the same port: 200 again. /healthz stays 200 throughout (the
    daemon is working, FeedAMP is not). The outage starts once every job has succeeded:
    a first returns tick it cut short would fail and, at the default 300 s interval, leave
    /readyz unready for the rest of the test."""
    config, url = health_config(tmp_path, database_url, server.base_url)
    with daemon(config, tmp_path) as running:
        running.start()
        assert wait_until(lambda: every_job_succeeded(engine), timeout=30), running.output()
        assert wait_until(lambda: http_get(f"{url}/readyz")[0] == 200, timeout=30), running.output()
        server.close()
        assert wait_until(lambda: http_get(f"{url}/readyz")[0] == 503, timeout=30), running.output()
        status, body = http_get(f"{url}/readyz")
        alive = http_get(f"{url}/healthz")[0]
        with SandboxServer(sandbox, host="127.0.0.1", port=server.port):
            back = wait_until(lambda: http_get(f"{url}/readyz")[0] == 200, timeout=30)
        code, _ = running.terminate()
    assert status == 503
    assert "job orders:main" in json.loads(body)["failed"]
    assert alive == 200
    assert back, running.output()
    assert code == 0
