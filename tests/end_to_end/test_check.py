"""`feedamp-sync check`: one line per check and the exit code of the first failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import SandboxServer
from tests.end_to_end.harness import CLIENT_ID, FAST, PASSWORD, cli, merged, write_config

pytestmark = pytest.mark.timeout(120)

UNREACHABLE = "http://127.0.0.1:9"


def config_with(tmp_path: Path, database_url: str, base_url: str, **replace: str) -> Path:
    """A config on the sandbox, with lines of the account swapped out."""
    path = write_config(tmp_path, database_url, base_url, FAST)
    text = path.read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    return path


def test_a_good_config_passes_every_check(
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Config, database (migrated) and account all ok: exit 0, one line each."""
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    code, out, _ = cli(capsys, config, "check")
    lines = out.splitlines()
    assert code == 0, out
    assert [line.split(" ", 1)[0] for line in lines] == ["ok", "ok", "ok"]
    assert lines[0].startswith("ok   config: valid")
    assert lines[1].startswith("ok   database ")
    assert "schema at revision" in lines[1]
    assert f"client id {CLIENT_ID} ok" in lines[2]


def test_a_refund_template_without_a_nonce_is_warned_about_and_passes(
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A WARN line after the config's says what the template costs; the exit stays 0."""
    path = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(FAST, {"outbox": {"cp_refund_number_template": "RF{database}-{id}"}}),
    )
    code, out, _ = cli(capsys, path, "check")
    lines = out.splitlines()
    assert code == 0, out
    assert [line.split(" ", 1)[0] for line in lines] == ["ok", "WARN", "ok", "ok"]
    assert lines[1].startswith(
        'WARN refund numbers: outbox.cp_refund_number_template "RF{database}-{id}" has no {nonce}'
    )


def test_an_unmigrated_database_exits_78(
    server: SandboxServer,
    database_url: str,
    unmigrated_engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The database line says it is not migrated and how to fix it."""
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    code, out, _ = cli(capsys, config, "check")
    assert code == 78
    assert "FAIL database" in out
    assert "run 'feedamp-sync db upgrade'" in out


def test_a_sqlite_file_not_created_yet_exits_78_and_is_not_created(
    server: SandboxServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """check before db upgrade, with a URL relative to the working directory: the database
    line says how to create the file, and no file appears."""
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, "sqlite:///feedamp-sync.db", server.base_url, FAST)
    code, out, _ = cli(capsys, config, "check")
    assert code == 78
    assert (
        "FAIL database sqlite:///feedamp-sync.db: not created yet: run 'feedamp-sync db upgrade'"
        in out
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["feedamp-sync.toml"]


def test_an_unreachable_database_exits_1_on_its_one_line(
    server: SandboxServer,
    unreachable_database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The database line gives the driver's reason; the account is still checked after it."""
    config = write_config(tmp_path, unreachable_database_url, server.base_url, FAST)
    code, out, _ = cli(capsys, config, "check")
    lines = out.splitlines()
    assert code == 1
    assert [line.split(" ", 1)[0] for line in lines] == ["ok", "FAIL", "ok"]
    assert lines[1].startswith("FAIL database ")
    assert ": unreachable: (" in lines[1]


@pytest.mark.backends("sqlite")
def test_a_wrong_password_exits_77_naming_the_account_and_the_password(
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """FeedAMP refuses the token: the account line blames the username or password."""
    config = config_with(
        tmp_path, database_url, server.base_url, **{f'"{PASSWORD}"': '"not-the-password"'}
    )
    code, out, _ = cli(capsys, config, "check")
    assert code == 77
    assert "FAIL account main: FeedAMP refused the username or password of demo" in out


@pytest.mark.backends("sqlite")
def test_a_wrong_client_id_exits_77_naming_the_account_and_the_client_id(
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The token works, the client id does not: the account line names the client id."""
    config = config_with(
        tmp_path, database_url, server.base_url, **{f"client_id = {CLIENT_ID}": "client_id = 2"}
    )
    code, out, _ = cli(capsys, config, "check")
    assert code == 77
    assert "FAIL account main: FeedAMP refused client id 2 (HTTP 403)" in out


@pytest.mark.backends("sqlite")
def test_an_unreachable_feedamp_exits_1(
    database_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listens at base_url: the account line says FeedAMP did not answer."""
    config = write_config(tmp_path, database_url, UNREACHABLE, FAST)
    code, out, _ = cli(capsys, config, "check")
    assert code == 1
    assert f"FAIL account main: FeedAMP at {UNREACHABLE} did not answer usefully" in out


def test_an_unreadable_config_exits_78(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config path that cannot be read is the only line, and exit 78."""
    code, out, _ = cli(capsys, tmp_path / "missing.toml", "check")
    assert code == 78
    assert out.startswith("FAIL config: config file ")
    assert "cannot read" in out


def test_an_invalid_config_exits_78_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad value is reported with its key, and nothing else is tried."""
    path = tmp_path / "bad.toml"
    path.write_text("[jobs]\norders_interval = -1\n")
    code, out, _ = cli(capsys, path, "check")
    assert code == 78
    assert "jobs.orders_interval" in out
    assert "database" not in out
