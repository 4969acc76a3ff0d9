"""The ``sandbox`` command: loopback only by default, serves until SIGTERM, exits 0."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import signal
import subprocess
import sys
import time

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


def test_a_malformed_webhook_secret_is_a_usage_error() -> None:
    result = CliRunner().invoke(sandbox, ["--webhook-secret", "not-a-secret"])
    assert result.exit_code == 2
    assert "--webhook-secret" in result.output
    assert "whsec_" in result.output


def test_the_webhook_receiver_takes_signed_deliveries_and_counts_them_at_the_stop() -> None:
    """With --webhook-secret the command also serves a receiver, prints its URL, refuses a
    delivery signed with another key, and sums up what it took when stopped."""
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    command = [sys.executable, "-c", LAUNCH, "--port", "0", "--webhook-secret", secret]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            process.stdout.readline()
            match = re.search(r"webhook receiver url=(\S+)", process.stdout.readline())
            assert match
            body = json.dumps({"type": "order.stored", "id": 1}).encode()
            with httpx.Client(timeout=TIMEOUT) as client:
                good = client.post(match[1], content=body, headers=signed(b"k" * 32, body))
                bad = client.post(match[1], content=body, headers=signed(b"x" * 32, body))
            process.send_signal(signal.SIGTERM)
            summary = process.stdout.read()
            exit_code = process.wait(timeout=TIMEOUT)
        finally:
            process.kill()
    assert (exit_code, good.status_code, bad.status_code) == (0, 204, 401)
    assert "webhooks received: order.stored=1; bad signatures: 1" in summary


def signed(key: bytes, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers for ``body`` under ``key``."""
    stamp = str(int(time.time()))
    digest = hmac.new(key, b"msg_1." + stamp.encode() + b"." + body, hashlib.sha256).digest()
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
