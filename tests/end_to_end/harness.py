"""Running feedamp-sync against the sandbox: configs, the CLI in-process, daemons as processes."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from feedamp_sync.cli import main
from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import Sandbox, SandboxServer
from feedamp_sync.sandbox.generate import CANARY, CANARY_PHONES

USERNAME = "demo"
PASSWORD = "canary-Pa55word-e2e"
"""A canary: it must never appear in anything the program prints (checked on every run)."""
CLIENT_ID = 1

Sections = dict[str, dict[str, Any]]

FAST: Sections = {
    "jobs": {"orders_interval": 1, "outbox_interval": 0.5},
    "outbox": {"lease_seconds": 5, "backoff_base_seconds": 0.2, "backoff_max_seconds": 2},
    "api": {"rate_per_second": 1000, "timeout_seconds": 2, "connect_timeout_seconds": 2},
}
"""Short intervals and timeouts so a test converges in seconds; list rate stays at 2/s."""


DEBUG = ("--log-level", "DEBUG")
"""Every run logs at DEBUG, so the secret and customer data checks see the most the program
can log."""

PRINTED: list[str] = []
"""Everything the program printed during the current test; the sandbox fixture checks it
against the tokens it issued."""
CUSTOMER_CANARIES = tuple(text.casefold() for text in (CANARY, *CANARY_PHONES))
"""What every sandbox customer's name, address, email and phone number carries."""


def assert_no_secret(output: str) -> None:
    """Neither the password nor the Basic credential made from it was printed."""
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert PASSWORD not in output
    assert basic not in output


def assert_no_customer_data(log: str) -> None:
    """No sandbox customer's name, address, email or phone number was logged (checked on
    every run's log, not on what a command prints to show orders)."""
    leaked = [
        line[:400]
        for line in log.splitlines()
        if any(canary in line.casefold() for canary in CUSTOMER_CANARIES)
    ]
    assert leaked == [], "customer data logged:\n" + "\n".join(leaked[:5])


def logged(log: str) -> None:
    """Check a process's log (its stderr) for secrets and customer data, and keep it for the
    sandbox's check of the tokens it issued."""
    assert_no_secret(log)
    assert_no_customer_data(log)
    PRINTED.append(log)


def new_sandbox(seed: int = 11) -> Sandbox:
    return Sandbox(username=USERNAME, password=PASSWORD, client_id=CLIENT_ID, seed=seed)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def write_config(directory: Path, database_url: str, base_url: str, sections: Sections) -> Path:
    """A config file for one account on the sandbox; ``sections`` override defaults."""
    lines = ["[database]", f"url = {toml_value(database_url)}", ""]
    lines += [
        "[[accounts]]",
        'name = "main"',
        f"base_url = {toml_value(base_url)}",
        f'username = "{USERNAME}"',
        f'password = "{PASSWORD}"',
        f"client_id = {CLIENT_ID}",
        "",
    ]
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
        lines.append("")
    path = directory / "feedamp-sync.toml"
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    return path


def merged(*parts: Sections) -> Sections:
    result: Sections = {}
    for part in parts:
        for section, values in part.items():
            result[section] = {**result.get(section, {}), **values}
    return result


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(["--config", str(config), "--log-format", "json", *DEBUG, *args])
    out, err = capsys.readouterr()
    assert_no_secret(out)
    PRINTED.append(out)
    logged(err)
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Any:
    return cli_shown(capsys, config, *args, "--json")


def cli_shown(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Any:
    """The JSON a command prints without being asked (``orders fetch``, ``quarantine show``)."""
    code, out, err = cli(capsys, config, *args)
    assert code == 0, err
    return json.loads(out)


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class Daemon:
    """``feedamp-sync run`` in a real process, its output kept in files for inspection."""

    config: Path
    logs: Path
    process: subprocess.Popen[bytes] | None = None
    outputs: list[Path] = field(default_factory=list)

    def start(self, *extra: str) -> None:
        assert self.process is None or self.process.poll() is not None
        output = self.logs / f"daemon-{len(self.outputs)}.log"
        self.outputs.append(output)
        with output.open("wb") as sink:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "feedamp_sync",
                    "--config",
                    str(self.config),
                    "--log-format",
                    "json",
                    *DEBUG,
                    *extra,
                    "run",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> tuple[int, float]:
        """SIGTERM; returns the exit code and the seconds it took to exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started

    def output(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.outputs)

    def latest_output(self) -> str:
        """The output of the current (or last) process only."""
        return self.outputs[-1].read_text(errors="replace") if self.outputs else ""

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def daemon(config: Path, logs: Path) -> Iterator[Daemon]:
    running = Daemon(config, logs)
    try:
        yield running
    finally:
        running.stop_quietly()
    logged(running.output())


def stored_numbers(engine: Engine, account: str = "main") -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.feedamp_id, t.orders.c.cp_order_number).where(
                t.orders.c.account == account
            )
        )
        return {row.feedamp_id: row.cp_order_number for row in rows}


def confirmed_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count(t.orders.c.confirmed_at))) or 0)


def outbox_statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status))
        return {row[0]: row[1] for row in rows}


def confirms_per_order(sandbox: Sandbox) -> dict[str, list[str]]:
    """Every cp_order_number the sandbox accepted, per order (one each, when all is well)."""
    applied: dict[str, list[str]] = {}
    for effect in sandbox.effects("confirm"):
        applied.setdefault(effect["order_id"], []).append(effect["cp_order_number"])
    return applied


def assert_confirmed_exactly_once(sandbox: Sandbox, engine: Engine, orders: int) -> None:
    """Every order stored once, confirmed once in FeedAMP, with the number stored locally."""
    numbers = stored_numbers(engine)
    applied = confirms_per_order(sandbox)
    assert len(numbers) == orders
    assert len(set(numbers.values())) == orders
    assert {order: len(accepted) for order, accepted in applied.items() if len(accepted) != 1} == {}
    assert {order: accepted[0] for order, accepted in applied.items()} == numbers
    assert confirmed_count(engine) == orders


def write_accounts_config(
    directory: Path, database_url: str, server: SandboxServer, names: list[str], sections: Sections
) -> Path:
    """A config whose accounts, one per sandbox account of ``server`` named in ``names``,
    are in ``accounts.toml`` beside it (the ``accounts_file``, given relative)."""
    tables = [
        "\n".join(
            [
                "[[accounts]]",
                f"name = {toml_value(name)}",
                f"base_url = {toml_value(server.account_url(name))}",
                f'username = "{USERNAME}"',
                f'password = "{PASSWORD}"',
                f"client_id = {server.accounts[name].client_id}",
            ]
        )
        for name in names
    ]
    accounts = directory / "accounts.toml"
    accounts.write_text("\n\n".join(tables) + "\n")
    accounts.chmod(0o600)
    lines = [
        'accounts_file = "accounts.toml"',
        "",
        "[database]",
        f"url = {toml_value(database_url)}",
    ]
    for section, values in sections.items():
        lines += ["", f"[{section}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    path = directory / "feedamp-sync.toml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def accounts_confirmed_exactly_once(
    accounts: Mapping[str, Sandbox], engine: Engine, orders_each: int
) -> dict[str, str]:
    """What is wrong per account (none when all is well): each of its orders stored once,
    confirmed once in FeedAMP, with the number stored for that account."""
    wrong: dict[str, str] = {}
    for name, account in accounts.items():
        numbers = stored_numbers(engine, name)
        applied = confirms_per_order(account)
        if len(numbers) != orders_each:
            wrong[name] = f"{len(numbers)} orders stored"
        elif any(len(accepted) != 1 for accepted in applied.values()):
            wrong[name] = f"confirms {applied}"
        elif {order: accepted[0] for order, accepted in applied.items()} != numbers:
            wrong[name] = f"FeedAMP holds {applied}, the database {numbers}"
    return wrong
