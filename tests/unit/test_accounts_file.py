"""``accounts_file``: accounts in a TOML file of their own, checked as inline ones are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedamp_sync.errors import ConfigError
from feedamp_sync.settings import environment_problems, load_settings


def account(name: str, client_id: int = 7, **extra: str) -> str:
    lines = [
        "[[accounts]]",
        f'name = "{name}"',
        'username = "seller@example.com"',
        'password = "pw"',
        f"client_id = {client_id}",
        *(f'{key} = "{value}"' for key, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def problem(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return str(caught.value)


def test_accounts_come_from_the_file_after_the_inline_ones(tmp_path: Path) -> None:
    """Inline and file accounts may both be given; the file's come after, in its order."""
    write(tmp_path / "accounts.toml", account("b", 2) + account("c", 3))
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n' + account("a"))
    names = [a.name for a in load_settings(config, {}).accounts]
    assert names == ["a", "b", "c"]


def test_the_file_alone_may_hold_every_account(tmp_path: Path) -> None:
    """A config without [[accounts]] is valid when its accounts file has some."""
    write(tmp_path / "accounts.toml", account("only"))
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    assert [a.name for a in load_settings(config, {}).accounts] == ["only"]


def test_a_relative_path_is_taken_from_the_config_files_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wherever the daemon is started, ``accounts.toml`` is the one beside the config."""
    write(tmp_path / "etc" / "accounts.toml", account("beside"))
    config = write(tmp_path / "etc" / "sync.toml", 'accounts_file = "accounts.toml"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(config, {})
    assert settings.accounts_file == tmp_path / "etc" / "accounts.toml"


def test_the_environment_names_the_file_relative_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FEEDAMP_SYNC_ACCOUNTS_FILE is a plain path (not JSON), resolved like the file's key."""
    write(tmp_path / "etc" / "more.toml", account("from-env"))
    config = write(tmp_path / "etc" / "sync.toml", account("inline"))
    monkeypatch.setenv("FEEDAMP_SYNC_ACCOUNTS_FILE", "more.toml")
    assert environment_problems({"FEEDAMP_SYNC_ACCOUNTS_FILE": "more.toml"}) == []
    names = [a.name for a in load_settings(config).accounts]
    assert names == ["inline", "from-env"]


def test_a_bad_value_names_the_file_the_table_and_the_key(tmp_path: Path) -> None:
    """The error reads ``accounts_file PATH: accounts[1].client_id: ...`` with the name."""
    path = write(tmp_path / "accounts.toml", account("ok") + account("shop-2", client_id=0))
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    assert (
        f"accounts_file {path}: accounts[1].client_id (account 'shop-2'): "
        "Input should be greater than 0"
    ) in problem(config)


def test_every_bad_table_is_reported_at_once(tmp_path: Path) -> None:
    """A missing key and an unknown one, in two tables, are both named."""
    text = account("a").replace('username = "seller@example.com"\n', "") + account(
        "b", colour="red"
    )
    write(tmp_path / "accounts.toml", text)
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    found = problem(config)
    assert "accounts[0].username (account 'a'): missing (required)" in found
    assert "accounts[1].colour (account 'b'): unknown key" in found


def test_a_name_in_both_places_is_refused(tmp_path: Path) -> None:
    """Names stay unique across the config and the file: each row carries its account."""
    write(tmp_path / "accounts.toml", account("other") + account("main"))
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n' + account("main"))
    assert "accounts[1].name: 'main' is already an inline account" in problem(config)


def test_a_name_repeated_in_the_file_is_refused(tmp_path: Path) -> None:
    """The second table of a name is named, with the table it repeats."""
    write(tmp_path / "accounts.toml", account("x") + account("y") + account("x"))
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    assert "accounts[2].name: 'x' is already accounts[0] of this file" in problem(config)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    """The resolved path and the system's reason."""
    config = write(tmp_path / "sync.toml", 'accounts_file = "nowhere.toml"\n')
    assert (
        f"accounts_file {tmp_path / 'nowhere.toml'}: cannot read: No such file or directory"
        in problem(config)
    )


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    """The TOML parser's reason, with the file."""
    write(tmp_path / "accounts.toml", "[[accounts]\n")
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    assert f"accounts_file {tmp_path / 'accounts.toml'}: not valid TOML" in problem(config)


def test_other_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    """The file holds accounts only: a [jobs] section there would be silently ignored."""
    write(tmp_path / "accounts.toml", "[jobs]\norders_interval = 5\n" + account("a"))
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    assert "unknown key(s) ['jobs']; the file holds [[accounts]] tables only" in problem(config)


def test_no_account_anywhere_is_refused(tmp_path: Path) -> None:
    """An empty accounts file and no inline account leave the daemon nothing to do."""
    write(tmp_path / "accounts.toml", "")
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    assert "no [[accounts]] table, and no account in the configuration" in problem(config)


def test_a_readable_file_with_a_password_is_refused(tmp_path: Path) -> None:
    """The same rule as the config file: a password in it needs chmod o-r."""
    path = write(tmp_path / "accounts.toml", account("a"))
    os.chmod(path, 0o644)
    config = write(tmp_path / "sync.toml", 'accounts_file = "accounts.toml"\n')
    assert (
        f"accounts_file {path}: holds a password or secret and is readable by other users"
        in problem(config)
    )
