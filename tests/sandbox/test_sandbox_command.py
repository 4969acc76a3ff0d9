"""The ``sandbox`` command: loopback only by default, serves until SIGTERM, exits 0."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx
from click.testing import CliRunner

from feedamp_sync.sandbox.command import sandbox

from .conftest import TIMEOUT, TLS

LAUNCH = "from feedamp_sync.sandbox.command import sandbox; sandbox()"


def test_non_loopback_host_is_refused_without_allow_remote() -> None:
    """--host 0.0.0.0 is a usage error (exit 2) unless --allow-remote is given."""
    result = CliRunner().invoke(sandbox, ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_command_serves_until_sigterm_then_exits_zero() -> None:
    """The command prints its base URL and credentials, serves orders, and exits 0 on SIGTERM."""
    command = [sys.executable, "-c", LAUNCH, "--port", "0", "--orders", "3", "--seed", "1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"base_url=(\S+) username=(\S+) password=(\S+) client_id=(\d+)", line)
            assert match, line
            base_url, username, password, client_id = match.groups()
            with httpx.Client(base_url=base_url, timeout=TIMEOUT, verify=TLS) as client:
                token = client.get("/api/v1/get_token", auth=(username, password)).json()["token"]
                headers = {"token": token, "client": client_id}
                orders = client.get("/api/v1/orders/new", headers=headers).json()["orders"]
            process.send_signal(signal.SIGTERM)
            exit_code = process.wait(timeout=TIMEOUT)
        finally:
            process.kill()
    assert (exit_code, len(orders)) == (0, 3)
