"""Configuration: file plus environment, validated once, errors that name the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedamp_sync.errors import ConfigError
from feedamp_sync.settings import environment_problems, load_settings

ACCOUNT = """
[[accounts]]
name = "main"
base_url = "http://127.0.0.1:1"
username = "seller@example.com"
client_id = 7
"""


def write_config(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "feedamp-sync.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def problem(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return str(caught.value)


def test_no_config_at_all_names_the_missing_accounts() -> None:
    """Without file or environment the error says which keys are required."""
    assert "accounts: missing (required)" in problem(None)


def test_an_account_without_username_names_the_key(tmp_path: Path) -> None:
    """A missing key inside an account is named with its position."""
    path = write_config(
        tmp_path, ACCOUNT.replace('username = "seller@example.com"\n', "") + 'password = "pw"\n'
    )
    assert "accounts.0.username: missing (required)" in problem(path)


def test_a_bad_database_url_is_refused(tmp_path: Path) -> None:
    """The database URL must be one of the supported backends."""
    path = write_config(
        tmp_path, '[database]\nurl = "oracle://x"\n' + ACCOUNT + 'password = "pw"\n'
    )
    assert "database.url: " in problem(path)


def test_a_non_positive_interval_is_refused(tmp_path: Path) -> None:
    """Job intervals must be positive numbers of seconds."""
    path = write_config(tmp_path, "[jobs]\norders_interval = 0\n" + ACCOUNT + 'password = "p"\n')
    assert "jobs.orders_interval: Input should be greater than 0" in problem(path)


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    """A misspelt key is an error, not silently ignored."""
    path = write_config(tmp_path, "[jobs]\norder_interval = 5\n" + ACCOUNT + 'password = "p"\n')
    assert "jobs.order_interval: unknown key" in problem(path)


def test_invalid_toml_says_so(tmp_path: Path) -> None:
    """A file that is not TOML is reported with the parser's position."""
    assert "not valid TOML" in problem(write_config(tmp_path, "[jobs\n"))


def test_a_template_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    """cp_order_number_template may only use the documented fields."""
    path = write_config(
        tmp_path, '[confirm]\ncp_order_number_template = "X{nope}"\n' + ACCOUNT + 'password = "p"\n'
    )
    assert "confirm.cp_order_number_template: " in problem(path)


def test_world_readable_file_with_password_is_refused(tmp_path: Path) -> None:
    """A password in a file other users can read is refused with the fix."""
    path = write_config(tmp_path, ACCOUNT + 'password = "p"\n', mode=0o644)
    assert "readable by other users" in problem(path)


def test_password_file_is_read(tmp_path: Path) -> None:
    """password_file supplies the password, trimmed of its newline."""
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    path = write_config(tmp_path, ACCOUNT + f'password_file = "{secret}"\n', mode=0o644)
    settings = load_settings(path, {})
    assert settings.accounts[0].secret_password({}).get_secret_value() == "s3cret"


def test_missing_password_file_names_the_account(tmp_path: Path) -> None:
    """A password_file that does not exist is a configuration error."""
    path = write_config(tmp_path, ACCOUNT + f'password_file = "{tmp_path}/none"\n')
    assert "accounts.main.password_file: no such file" in problem(path)


def test_systemd_credential_is_used_when_no_password_is_configured(tmp_path: Path) -> None:
    """$CREDENTIALS_DIRECTORY/password is the account's password by default."""
    (tmp_path / "password").write_text("from-systemd")
    path = write_config(tmp_path, ACCOUNT)
    settings = load_settings(path, {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    password = settings.accounts[0].secret_password({"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert password.get_secret_value() == "from-systemd"


def test_no_password_source_at_all_is_refused(tmp_path: Path) -> None:
    """An account with no password, file or credential cannot start."""
    assert "accounts.main: no password" in problem(write_config(tmp_path, ACCOUNT))


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FEEDAMP_SYNC_JOBS__ORDERS_INTERVAL wins over the file's value."""
    path = write_config(tmp_path, "[jobs]\norders_interval = 60\n" + ACCOUNT + 'password = "p"\n')
    monkeypatch.setenv("FEEDAMP_SYNC_JOBS__ORDERS_INTERVAL", "15")
    assert load_settings(path).jobs.orders_interval == 15


def test_accounts_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A container needs no file: accounts are a JSON list in FEEDAMP_SYNC_ACCOUNTS."""
    monkeypatch.setenv(
        "FEEDAMP_SYNC_ACCOUNTS",
        '[{"name": "c", "username": "u", "password": "p", "client_id": 3}]',
    )
    monkeypatch.setenv("FEEDAMP_SYNC_DATABASE__URL", "postgresql+psycopg://db/feedamp")
    settings = load_settings(None)
    assert (settings.accounts[0].client_id, settings.database.url) == (
        3,
        "postgresql+psycopg://db/feedamp",
    )


def test_the_password_is_not_shown_in_the_settings_repr(tmp_path: Path) -> None:
    """Printing the settings never shows the password."""
    path = write_config(tmp_path, ACCOUNT + 'password = "hunter2-canary"\n')
    assert "hunter2-canary" not in repr(load_settings(path, {}))


@pytest.mark.parametrize(
    ("variable", "value"),
    [("FEEDAMP_SYNC_ACCOUNTS", "[{"), ("FEEDAMP_SYNC_JOBS", "nope")],
    ids=["accounts", "section"],
)
def test_a_section_that_is_not_json_is_refused_naming_the_variable(
    variable: str, value: str
) -> None:
    """A section or the account list set whole must be JSON; the error names the variable."""
    assert f"{variable}: not valid JSON (" in problem(None, {variable: value})


def test_a_misspelt_variable_is_refused_with_the_closest_key() -> None:
    """A variable that sets no key would otherwise be ignored, and the default used."""
    assert (
        "FEEDAMP_SYNC_DATABSE__URL: sets no configuration key; "
        "did you mean FEEDAMP_SYNC_DATABASE__URL?"
    ) in problem(None, {"FEEDAMP_SYNC_DATABSE__URL": "sqlite:///x.db"})


def test_a_variable_near_no_key_is_told_how_keys_are_named() -> None:
    """Without a close key the hint gives the form of the names."""
    assert "e.g. FEEDAMP_SYNC_DATABASE__URL" in problem(None, {"FEEDAMP_SYNC_VERBOSE": "1"})


def test_the_config_path_and_other_variables_are_no_settings() -> None:
    """FEEDAMP_SYNC_CONFIG names the file; variables without the prefix are not ours."""
    assert environment_problems({"FEEDAMP_SYNC_CONFIG": "/etc/x.toml", "HOME": "/root"}) == []


def test_every_key_and_section_is_a_variable_in_any_case() -> None:
    """Keys, whole sections as JSON and the account list; matched without regard to case,
    as pydantic-settings matches them."""
    environ = {
        "FEEDAMP_SYNC_DATABASE__URL": "sqlite:///x.db",
        "feedamp_sync_jobs__orders_interval": "15",
        "FEEDAMP_SYNC_HEALTH": '{"enabled": true}',
        "FEEDAMP_SYNC_ACCOUNTS": "[]",
    }
    assert environment_problems(environ) == []


def test_retention_keeps_thirty_days_in_batches_of_five_hundred_by_default(
    tmp_path: Path,
) -> None:
    """Without a [retention] section the daemon prunes hourly, keeping 30 days."""
    retention = load_settings(write_config(tmp_path, ACCOUNT + 'password = "p"\n')).retention
    assert (retention.enabled, retention.keep_days, retention.batch_size) == (True, 30, 500)
    assert retention.interval_seconds == 3600


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("keep_days = 0", "retention.keep_days: Input should be greater than or equal to 1"),
        ("keep_days = -5", "retention.keep_days: Input should be greater than or equal to 1"),
        ("keep_days = 1.5", "retention.keep_days: Input should be a valid integer"),
        ("batch_size = 0", "retention.batch_size: Input should be greater than or equal to 1"),
        ("batch_size = 100000", "retention.batch_size: Input should be less than or equal to"),
        ("interval_seconds = 0", "retention.interval_seconds: Input should be greater than 0"),
        ("keep = 30", "retention.keep: unknown key"),
    ],
)
def test_a_bad_retention_value_is_refused_naming_the_key(
    tmp_path: Path, line: str, message: str
) -> None:
    """Retention must keep at least a day, in batches of 1 to 10,000 rows; `enabled = false`
    is how pruning is left to `db prune`."""
    path = write_config(tmp_path, f"[retention]\n{line}\n" + ACCOUNT + 'password = "p"\n')
    assert message in problem(path)


def test_refresh_keys_default_to_the_documented_budget(tmp_path: Path) -> None:
    """Without a [refresh] section, open orders are re-read hourly for 60 days at 1 GET/s."""
    refresh = load_settings(write_config(tmp_path, ACCOUNT + 'password = "p"\n'), {}).refresh
    assert (refresh.enabled, refresh.every_seconds, refresh.max_age_days) == (True, 3600, 60)
    assert refresh.rate_per_second == 1.0


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("every_seconds", "0", "refresh.every_seconds: Input should be greater than 0"),
        ("max_age_days", "-1", "refresh.max_age_days: Input should be greater than 0"),
        ("rate_per_second", "0", "refresh.rate_per_second: Input should be greater than 0"),
        ("enabled", '"sometimes"', "refresh.enabled: Input should be a valid boolean"),
        ("every_second", "60", "refresh.every_second: unknown key"),
    ],
)
def test_a_bad_refresh_key_is_named(tmp_path: Path, key: str, value: str, expected: str) -> None:
    """Each [refresh] key is validated, and the error names it."""
    path = write_config(tmp_path, f"[refresh]\n{key} = {value}\n" + ACCOUNT + 'password = "p"\n')
    assert expected in problem(path)


def test_poll_concurrency_must_be_a_small_positive_number(tmp_path: Path) -> None:
    """jobs.poll_concurrency bounds the polling threads: 1 to 64."""
    path = write_config(tmp_path, "[jobs]\npoll_concurrency = 0\n" + ACCOUNT + 'password = "p"\n')
    assert "jobs.poll_concurrency: Input should be greater than or equal to 1" in problem(path)
