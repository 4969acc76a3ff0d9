"""``make demo``: the sandbox API and the daemon on SQLite, side by side, for half a minute.

It shows the whole spine without credentials: orders appear in the local fake FeedAMP,
the daemon stores them and confirms each once, and its events reach a webhook receiver that
checks every signature; then ``status``, ``orders list``, ``returns list`` and
``events list`` show the result. The demo's own lines are log events in the console format
the daemon and ``db upgrade`` use here, so its output reads as one log. Everything stays on
127.0.0.1 and in ./demo.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import structlog

from feedamp_sync.cli import main as cli_main
from feedamp_sync.logs import configure_logging
from feedamp_sync.sandbox import Sandbox, SandboxServer, WebhookReceiver

log = structlog.get_logger(__name__)

DEMO_PASSWORD = "demo-password"
LOG_FORMAT = ("--log-format", "console")
FIRST_POLL = (
    "the open ones only: a first poll skips closed returns, history that needs nothing from "
    "the seller; later polls take every return FeedAMP refreshes, closed ones included"
)
NEW_ORDERS_EVERY_SECONDS = 7.0
QUIET_SECONDS = 8.0
"""No new orders in the last seconds, so the summary shows every order confirmed."""


def write_config(workdir: Path, base_url: str, sink_url: str, sink_secret: str) -> Path:
    config = workdir / "feedamp-sync.toml"
    config.write_text(
        f"""[database]
url = "sqlite:///{workdir.resolve()}/feedamp-sync.db"

[[accounts]]
name = "demo"
base_url = "{base_url}"
username = "demo"
password = "{DEMO_PASSWORD}"
client_id = 1

[jobs]
orders_interval = 5
outbox_interval = 1

[api]
rate_per_second = 20

[[sinks]]
name = "demo-erp"
url = "{sink_url}"
secret = "{sink_secret}"
types = ["order.stored", "order.confirmed", "return.stored"]
rate_per_second = 50
"""
    )
    config.chmod(0o600)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the daemon runs")
    parser.add_argument("--orders", type=int, default=40, help="orders waiting at the start")
    parser.add_argument("--returns", type=int, default=8, help="returns waiting at the start")
    parser.add_argument("--workdir", type=Path, default=Path("demo"))
    args = parser.parse_args(argv)
    configure_logging(log_format="console")
    args.workdir.mkdir(exist_ok=True)
    for stale in args.workdir.glob("feedamp-sync.db*"):
        stale.unlink()

    sandbox = Sandbox(username="demo", password=DEMO_PASSWORD, client_id=1, seed=1)
    sandbox.add_orders(args.orders)
    sandbox.add_returns(args.returns)
    open_returns = sandbox.summary()["returns"]["open"]
    sink_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    with (
        SandboxServer(sandbox, host="127.0.0.1", port=0) as server,
        WebhookReceiver(sink_secret) as receiver,
    ):
        config = write_config(args.workdir, server.base_url, receiver.url, sink_secret)
        log.info(
            "demo_sandbox_serving",
            base_url=server.base_url,
            new_orders=args.orders,
            returns=args.returns,
            open_returns=open_returns,
        )
        log.info("demo_migrating", config=str(config))
        if cli_main(["--config", str(config), *LOG_FORMAT, "db", "upgrade"]) != 0:
            return 1
        log.info(
            "demo_daemon_starting",
            seconds=args.seconds,
            new_orders_every_seconds=NEW_ORDERS_EVERY_SECONDS,
        )
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedamp_sync",
                "--config",
                str(config),
                *LOG_FORMAT,
                "run",
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline and daemon.poll() is None:
                time.sleep(min(NEW_ORDERS_EVERY_SECONDS, max(0.0, deadline - time.monotonic())))
                if deadline - time.monotonic() > QUIET_SECONDS:
                    sandbox.add_orders(3)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=30)
        log.info(
            "demo_daemon_stopped",
            exit_code=code,
            confirmations_received=len(sandbox.effects("confirm")),
        )
        log.info("demo_returns", generated=args.returns, open=open_returns, stored=FIRST_POLL)
        log.info(
            "demo_webhooks_received",
            url=receiver.url,
            verified=dict(Counter(event["type"] for event in receiver.inbox.events())),
            bad_signatures=receiver.inbox.forged,
        )
        commands = (
            ["status"],
            ["orders", "list", "--limit", "10"],
            ["returns", "list"],
            ["events", "list", "--type", "order.confirmed", "--limit", "5"],
        )
        for command in commands:
            print(flush=True)
            cli_main(["--config", str(config), *command])
    return code


if __name__ == "__main__":
    sys.exit(main())
