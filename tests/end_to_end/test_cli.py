"""The command line's promises: exit codes, messages that name the problem, no secrets."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy import Engine

from feedamp_sync.app import build_app
from feedamp_sync.db.identity import database_identity_of
from feedamp_sync.settings import load_settings
from tests.end_to_end.harness import FAST, PASSWORD, cli, logged, merged, write_config

UNREACHABLE = "http://127.0.0.1:9"


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "feedamp_sync", "--log-format", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    logged(result.stderr)
    return result


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "accounts: missing (required)"),
        ('[database]\nurl = "nosuchdb://x"\n', "database.url"),
        ("[jobs]\noutbox_interval = -5\n", "jobs.outbox_interval"),
        ('[[accounts]]\nname = "a"\nusername = "u"\npassword = "p"\n', "accounts.0.client_id"),
    ],
    ids=["missing-keys", "bad-url", "bad-interval", "missing-client-id"],
)
def test_invalid_config_exits_78_naming_the_key(text: str, named: str, tmp_path: Path) -> None:
    """Every command refuses an invalid config with exit 78 and the key in the message."""
    config = tmp_path / "bad.toml"
    config.write_text(text)
    config.chmod(0o600)
    result = run_process("--config", str(config), "run", "--once", env={"FEEDAMP_SYNC_CONFIG": ""})
    assert result.returncode == 78
    assert named in result.stderr


def test_no_config_at_all_exits_78(tmp_path: Path) -> None:
    """Started with neither file nor environment, the daemon names what is missing."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDAMP_SYNC")}
    result = subprocess.run(
        [sys.executable, "-m", "feedamp_sync", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert (result.returncode, "accounts: missing (required)" in result.stderr) == (78, True)


def test_an_unknown_command_is_a_usage_error() -> None:
    """A typo in the command line exits 2."""
    assert run_process("frobnicate").returncode == 2


def test_run_refuses_an_unmigrated_database(
    database_url: str,
    unmigrated_engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run` on a database that is not at head exits 78 and says how to fix it."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 78
    assert "feedamp-sync db upgrade" in err


DATABASE_COMMANDS: Final = {
    "status": ("status",),
    "run": ("run",),
    "run --once": ("run", "--once"),
    "db upgrade": ("db", "upgrade"),
    "orders list": ("orders", "list"),
    "orders show": ("orders", "show", "1"),
    "returns list": ("returns", "list"),
    "returns show": ("returns", "show", "1"),
    "outbox list": ("outbox", "list"),
    "outbox show": ("outbox", "show", "1"),
    "outbox retry": ("outbox", "retry", "1", "--reason", "FeedAMP is back"),
    "outbox cancel": ("outbox", "cancel", "1", "--reason", "sent by hand"),
    "quarantine list": ("quarantine", "list"),
    "quarantine show": ("quarantine", "show", "1"),
    "enqueue": ("enqueue", "fulfillment", "1", "-"),
}
"""Every command that works on the database, with arguments it accepts."""


def test_a_database_that_does_not_answer_exits_1_with_the_same_line_from_every_command(
    unreachable_database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server on a closed port or a SQLite file in a missing directory: each command prints
    the same line (the driver's reason, or the system's with the file), without a traceback,
    and exits 1."""
    config = write_config(tmp_path, unreachable_database_url, UNREACHABLE, FAST)
    printed = {}
    for name, command in DATABASE_COMMANDS.items():
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"{}")))  # for enqueue
        code, out, err = cli(capsys, config, *command)
        assert (code, out, err.count("\n")) == (1, "", 1), (name, err)
        printed[name] = err
    [line] = set(printed.values())
    assert line.startswith("feedamp-sync: (")


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("FEEDAMP_SYNC_ACCOUNTS", "[{", "FEEDAMP_SYNC_ACCOUNTS: not valid JSON"),
        ("FEEDAMP_SYNC_JOBS", "nope", "FEEDAMP_SYNC_JOBS: not valid JSON"),
        ("FEEDAMP_SYNC_DATABSE__URL", "sqlite:///x.db", "did you mean FEEDAMP_SYNC_DATABASE__URL?"),
    ],
    ids=["accounts", "section", "misspelt"],
)
def test_a_bad_environment_variable_exits_78_naming_it_from_every_command(
    variable: str,
    value: str,
    named: str,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command, check included, refuses the environment with its variable named."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    monkeypatch.setenv(variable, value)
    for name, command in {**DATABASE_COMMANDS, "check": ("check",)}.items():
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"{}")))  # for enqueue
        code, out, err = cli(capsys, config, *command)
        assert code == 78, (name, out, err)
        assert named in out + err, name


def test_db_upgrade_is_idempotent_from_the_command_line(
    database_url: str,
    unmigrated_engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Running `db upgrade` twice succeeds twice; the second has nothing to do."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    first = cli(capsys, config, "db", "upgrade")
    second = cli(capsys, config, "db", "upgrade")
    assert (first[0], second[0]) == (0, 0)
    assert '"db_upgraded"' in first[2]
    assert '"db_already_current"' in second[2]


# The race itself is proven on every backend by tests/integration/test_migrations.py
# (five processes released together into migrate.upgrade, which this command wraps).
@pytest.mark.slow
@pytest.mark.backends("sqlite")
def test_five_concurrent_db_upgrade_commands_all_succeed(
    database_url: str, unmigrated_engine: Engine, tmp_path: Path
) -> None:
    """Five `feedamp-sync db upgrade` processes started together all exit 0; one migrates."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedamp_sync",
                "--config",
                str(config),
                "--log-format",
                "json",
                "db",
                "upgrade",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(5)
    ]
    outputs = [process.communicate(timeout=90) for process in processes]
    assert [process.returncode for process in processes] == [0] * 5, outputs
    events = [json.loads(line)["event"] for _, err in outputs for line in err.splitlines()]
    assert (events.count("db_upgraded"), events.count("db_already_current")) == (1, 4)


def another_name(database: Path, how: str) -> Path:
    """The database file as a second daemon names it: the same path, or a hard or symbolic
    link in another directory."""
    if how == "same path":
        return database
    alias = database.parent / "elsewhere" / "alias.db"
    alias.parent.mkdir()
    if how == "hard link":
        os.link(database, alias)
    else:
        alias.symlink_to(database)
    return alias


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("how", ["same path", "hard link", "symlink"])
def test_a_second_daemon_on_one_sqlite_file_refuses_to_start(
    database_url: str,
    engine: Engine,
    how: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """While one daemon holds a SQLite file, another on any name of it exits 78 saying why."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    second = tmp_path / "second"
    second.mkdir()
    alias = another_name(Path(str(engine.url.database)), how)
    second_config = write_config(second, f"sqlite:///{alias}", UNREACHABLE, FAST)
    with build_app(load_settings(config)):
        code, _, err = cli(capsys, second_config, "run", "--once")
    assert code == 78
    assert f"another feedamp-sync daemon is already using {alias}" in err


def test_orders_show_of_an_unknown_order_fails(
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`orders show` of an id that is not stored exits 1 with a message."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    code, _, err = cli(capsys, config, "orders", "show", "404")
    assert (code, "no stored order" in err) == (1, True)


@pytest.mark.backends("sqlite")
def test_status_json_is_one_document_ending_in_a_newline(
    database_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON ends its line, as a shell prompt after it or a pipe to a reader expects."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    code, out, _ = cli(capsys, config, "status", "--json")
    assert (code, out.endswith("}\n"), out.count("\n}")) == (0, True, 1)
    assert {"orders", "outbox", "jobs"} <= set(json.loads(out))


def test_status_shows_the_database_identity_generated_numbers_carry(
    database_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status` names the identity `db upgrade` stored, in its text and its JSON, so an
    operator can tell which database issued a refund number."""
    identity = database_identity_of(engine)
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    code, out, _ = cli(capsys, config, "status", "--json")
    assert (code, json.loads(out)["database"]["identity"]) == (0, identity)
    code, out, _ = cli(capsys, config, "status")
    assert (code, identity in out) == (0, True)


def test_a_failing_job_makes_run_once_exit_1_without_leaking_the_password(
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unreachable API fails the pass (exit 1); the error output holds no password."""
    config = write_config(
        tmp_path,
        database_url,
        UNREACHABLE,
        merged(FAST, {"api": {"get_attempts": 1, "timeout_seconds": 0.5}}),
    )
    code, out, err = cli(capsys, config, "run", "--once")
    assert code == 1
    assert '"job_failed"' in err
    assert PASSWORD not in out + err
