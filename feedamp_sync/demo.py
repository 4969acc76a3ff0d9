"""``make demo``: the sandbox API and the daemon on SQLite, side by side, for a minute.

It shows the whole spine without credentials: orders appear in the local fake FeedAMP,
the daemon stores them and confirms each once, then ``status`` and ``orders list`` show
the result. Everything stays on 127.0.0.1 and in ./demo.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from feedamp_sync.cli import main as cli_main
from feedamp_sync.sandbox import Sandbox, SandboxServer

DEMO_PASSWORD = "demo-password"
QUIET_SECONDS = 8.0
"""No new orders in the last seconds, so the summary shows every order confirmed."""


def write_config(workdir: Path, base_url: str) -> Path:
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
    args.workdir.mkdir(exist_ok=True)
    for stale in args.workdir.glob("feedamp-sync.db*"):
        stale.unlink()

    sandbox = Sandbox(username="demo", password=DEMO_PASSWORD, client_id=1, seed=1)
    sandbox.add_orders(args.orders)
    sandbox.add_returns(args.returns)
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        config = write_config(args.workdir, server.base_url)
        print(
            f"\n== sandbox FeedAMP API at {server.base_url} with {args.orders} new orders "
            f"and {args.returns} returns"
        )
        print(f"== config {config}; migrating the SQLite database\n", flush=True)
        if cli_main(["--config", str(config), "db", "upgrade"]) != 0:
            return 1
        print(
            f"\n== running the daemon for {args.seconds:.0f} s (more orders arrive meanwhile)\n",
            flush=True,
        )
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedamp_sync",
                "--config",
                str(config),
                "--log-format",
                "console",
                "run",
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline and daemon.poll() is None:
                time.sleep(min(7.0, max(0.0, deadline - time.monotonic())))
                if deadline - time.monotonic() > QUIET_SECONDS:
                    sandbox.add_orders(3)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=30)
        print(
            f"\n== daemon stopped (exit {code}); confirmations received by the sandbox: "
            f"{len(sandbox.effects('confirm'))}\n",
            flush=True,
        )
        cli_main(["--config", str(config), "status"])
        print()
        cli_main(["--config", str(config), "orders", "list", "--limit", "10"])
        print()
        cli_main(["--config", str(config), "returns", "list", "--limit", "5"])
    return code


if __name__ == "__main__":
    sys.exit(main())
