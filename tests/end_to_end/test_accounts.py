"""Several accounts in one daemon: one with refused credentials pauses alone."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import (
    CLIENT_ID,
    PASSWORD,
    USERNAME,
    cli_json,
    confirmed_count,
    daemon,
    wait_until,
)
from tests.end_to_end.ops_helpers import free_port, http_get

pytestmark = [pytest.mark.timeout(180), pytest.mark.backends("sqlite")]  # not a database matter

OBSERVED_SECONDS = 20.0


def two_accounts_config(directory: Path, database_url: str, base_url: str, port: int) -> Path:
    config = directory / "feedamp-sync.toml"
    config.write_text(f"""
[database]
url = "{database_url}"

[[accounts]]
name = "good"
base_url = "{base_url}"
username = "{USERNAME}"
password = "{PASSWORD}"
client_id = {CLIENT_ID}

[[accounts]]
name = "refused"
base_url = "{base_url}"
username = "{USERNAME}"
password = "not-the-password"
client_id = {CLIENT_ID}

[jobs]
orders_interval = 1
returns_interval = 1
outbox_interval = 0.5

[outbox]
lease_seconds = 5
backoff_base_seconds = 0.2
backoff_max_seconds = 2

[api]
rate_per_second = 200
timeout_seconds = 2

[health]
enabled = true
listen = "127.0.0.1:{port}"
""")
    config.chmod(0o600)
    return config


@pytest.mark.slow
def test_an_account_with_a_wrong_password_pauses_alone(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The good account's 200 orders are all confirmed; the refused one asks for a token at
    most 10 times a minute and shows as failing in status and /readyz."""
    sandbox.add_orders(200)
    port = free_port()
    config = two_accounts_config(tmp_path, database_url, server.base_url, port)
    with daemon(config, tmp_path) as running:
        started = time.monotonic()
        running.start()
        assert wait_until(lambda: confirmed_count(engine) == 200, timeout=60), running.output()
        time.sleep(max(0.0, OBSERVED_SECONDS - (time.monotonic() - started)))
        readyz = http_get(f"http://127.0.0.1:{port}/readyz")
        elapsed = time.monotonic() - started
        assert running.terminate()[0] == 0
    refused_tokens = [e for e in sandbox.ledger("get_token") if e.status == 401]
    assert 1 <= len(refused_tokens) <= 10 * elapsed / 60 + 1
    assert readyz[0] == 503
    assert "refused" in json.loads(readyz[1])["checks"]["account refused"]
    jobs = cli_json(capsys, config, "status")["jobs"]
    assert jobs["orders:refused"]["last_success"] is None
    assert "refused" in jobs["orders:refused"]["last_error_message"]
    assert jobs["orders:good"]["last_success"] is not None
