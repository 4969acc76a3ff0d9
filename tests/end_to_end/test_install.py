"""The README's "Running it", followed as written: copy the example config, give the account,
migrate, check and run, against the sandbox, as installed without any database extra."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import logged, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_URL = "http://127.0.0.1:8808"
"""Where the README's sandbox listens; the test's own sandbox takes a free port instead."""
WITHOUT_EXTRAS = f"""#!{sys.executable}
import sys

# Installed without [postgresql] or [mariadb]: neither driver can be imported.
sys.modules["psycopg"] = sys.modules["pymysql"] = None
from feedamp_sync.cli import entry_point

entry_point()
"""


def running_it() -> list[tuple[str, str]]:
    """The fenced blocks of the README's "Running it" section, as (language, text)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Running it\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^```(\w*)\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def block(language: str, containing: str) -> str:
    [text] = [text for lang, text in running_it() if lang == language and containing in text]
    return text


def with_account(example: str, account: str) -> str:
    """The example config with its ``[[accounts]]`` table replaced by ``account``."""
    start = example.index("[[accounts]]")
    end = example.index("\n[", start + 1)
    return example[:start] + account + example[end:]


def test_the_readme_steps_reach_a_daemon_confirming_the_sandboxs_orders(tmp_path: Path) -> None:
    """The configure block runs as given; the README's sandbox account replaces the example's;
    `db upgrade` and `check` exit 0 in that order, and `run` confirms every order, then stops
    with exit 0 on SIGTERM. The SQLite default needs neither driver."""
    (tmp_path / "config").symlink_to(ROOT / "config")
    configure = block("sh", "cp config/feedamp-sync.example.toml")
    subprocess.run(["bash", "-euc", configure], cwd=tmp_path, check=True, timeout=30)
    config = tmp_path / "feedamp-sync.toml"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "feedamp-sync").write_text(WITHOUT_EXTRAS)
    (bin_dir / "feedamp-sync").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("FEEDAMP_SYNC_CONFIG", None)
    commands = [shlex.split(line) for line in block("sh", " db upgrade").splitlines()]
    assert [command[-1] for command in commands] == ["upgrade", "check", "run"]
    account = block("toml", "[[accounts]]")
    assert SANDBOX_URL in account
    sandbox = Sandbox(username="demo", password="demo-password", client_id=1, seed=3)
    orders = sandbox.add_orders(25)
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        text = with_account(config.read_text(), account.replace(SANDBOX_URL, server.base_url))
        config.write_text(text)
        for command in commands[:2]:
            done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, timeout=60)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
            logged(done.stderr.decode(errors="replace"))
        with (tmp_path / "run.log").open("wb") as log:
            daemon = subprocess.Popen(commands[2], cwd=tmp_path, env=env, stdout=log, stderr=log)
            try:
                confirmed = wait_until(
                    lambda: len(sandbox.confirmed_orders()) == len(orders), timeout=60
                )
                daemon.send_signal(signal.SIGTERM)
                code = daemon.wait(timeout=30)
            finally:
                if daemon.poll() is None:
                    daemon.kill()
    output = (tmp_path / "run.log").read_text()
    logged(output)
    assert confirmed, output
    assert code == 0, output
    assert (tmp_path / "feedamp-sync.db").is_file()
