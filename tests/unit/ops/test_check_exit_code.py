"""``check``'s exit code: the first failed check decides."""

from __future__ import annotations

from feedamp_sync.cli.check import exit_code
from feedamp_sync.errors import ApiAuthError, ConfigError, DatabaseNotMigrated
from feedamp_sync.ops.preflight import Result, Unreachable


def test_all_passing_checks_exit_0() -> None:
    """Config, database and accounts fine."""
    assert exit_code([Result("config", "valid"), Result("account main", "ok")]) == 0


def test_a_config_error_exits_78() -> None:
    """Nothing else could be checked."""
    assert exit_code([Result("config", "bad", ConfigError("x"))]) == 78


def test_refused_credentials_exit_77() -> None:
    """FeedAMP refused the account."""
    assert (
        exit_code([Result("config", "ok"), Result("account main", "no", ApiAuthError("x"))]) == 77
    )


def test_an_unreachable_service_exits_1() -> None:
    """The database or FeedAMP did not answer."""
    assert exit_code([Result("database", "down", Unreachable("x"))]) == 1


def test_the_first_failure_wins() -> None:
    """An unmigrated database is reported before a refused account."""
    results = [
        Result("database", "old", DatabaseNotMigrated("x")),
        Result("account main", "no", ApiAuthError("x")),
    ]
    assert exit_code(results) == 78
