"""``feedamp-sync`` as the process under test: its config, its start, its log events."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from bench.processes import BenchError, Child, start
from bench.sandbox_process import CLIENT_ID, PASSWORD, USERNAME

Sections = Mapping[str, Mapping[str, Any]]

LIFTED: Final = {"api": {"list_rate_per_second": 1e6, "rate_per_second": 1e6}}
"""Rate limits lifted (a limiter at 1e6/s never waits), everything else at its default."""


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def write_config(
    directory: Path,
    database_url: str,
    base_url: str,
    sections: Sections,
    *,
    name: str = "feedamp-sync",
) -> Path:
    """A config for one account on the sandbox; every key not in ``sections`` at its default."""
    lines = [
        "[database]",
        f"url = {_toml(database_url)}",
        "",
        "[[accounts]]",
        'name = "main"',
        f"base_url = {_toml(base_url)}",
        f"username = {_toml(USERNAME)}",
        f"password = {_toml(PASSWORD)}",
        f"client_id = {CLIENT_ID}",
        "",
    ]
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
        lines.append("")
    path = directory / f"{name}.toml"
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    return path


def write_accounts_config(
    directory: Path, database_url: str, accounts: Mapping[str, str], sections: Sections
) -> Path:
    """A config whose accounts (name → base URL; client ids 1, 2, ... in that order) are in
    ``accounts.toml`` beside it, its ``accounts_file``."""
    tables = [
        "\n".join(
            [
                "[[accounts]]",
                f"name = {_toml(name)}",
                f"base_url = {_toml(base_url)}",
                f"username = {_toml(USERNAME)}",
                f"password = {_toml(PASSWORD)}",
                f"client_id = {index + 1}",
            ]
        )
        for index, (name, base_url) in enumerate(accounts.items())
    ]
    listed = directory / "accounts.toml"
    listed.write_text("\n\n".join(tables) + "\n")
    listed.chmod(0o600)
    lines = ['accounts_file = "accounts.toml"', "", "[database]", f"url = {_toml(database_url)}"]
    for section, values in sections.items():
        lines += ["", f"[{section}]"]
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    path = directory / "feedamp-sync.toml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def start_daemon(
    config: Path,
    directory: Path,
    root: Path,
    *args: str,
    name: str,
    module: str = "feedamp_sync",
    env: dict[str, str] | None = None,
) -> Child:
    """``python -m feedamp_sync --config ... --log-format json ARGS``, logging to a file.

    ``module`` may name a wrapper that runs the same CLI (``bench.counted``).
    """
    return start(
        name,
        [sys.executable, "-m", module, "--config", str(config), "--log-format", "json", *args],
        output=log_path(directory, name),
        cwd=root,
        env=env,
    )


def log_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.log"


def events(log: Path, event: str | None = None) -> list[dict[str, Any]]:
    """The JSON log lines of a run (of one event name); other output is skipped."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event is None or record.get("event") == event:
            found.append(record)
    return found


def wait_for_event(log: Path, event: str, child: Child, timeout: float) -> dict[str, Any]:
    """The first ``event`` in the log, waiting up to ``timeout`` seconds for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = events(log, event)
        if found:
            return found[0]
        if child.exited():
            break
        time.sleep(0.05)
    raise BenchError(f"no {event!r} in {log} within {timeout:.0f} s:\n{tail(log)}")


def timestamp(record: Mapping[str, Any]) -> float:
    """The epoch seconds of a log record (its ISO 8601 UTC ``timestamp``)."""
    return datetime.fromisoformat(str(record["timestamp"])).timestamp()


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:]


def require_success(code: int, log: Path, what: str) -> None:
    if code != 0:
        raise BenchError(f"{what} exited {code}:\n{tail(log)}")
