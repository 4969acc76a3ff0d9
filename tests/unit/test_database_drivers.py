"""The server databases' drivers are extras: a URL whose driver is missing names the extra."""

from __future__ import annotations

import sys

import pytest

from feedamp_sync.cli import main
from feedamp_sync.cli.common import EXIT_CONFIG
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "driver", "extra"),
    [
        ("postgresql://sync@127.0.0.1/feedamp", "psycopg", "postgresql"),
        ("postgresql+psycopg://sync@127.0.0.1/feedamp", "psycopg", "postgresql"),
        ("mysql+pymysql://sync@127.0.0.1/feedamp", "pymysql", "mariadb"),
        ("mariadb://sync@127.0.0.1/feedamp", "pymysql", "mariadb"),
    ],
)
def test_a_missing_driver_is_a_config_error_naming_the_extra(
    url: str, driver: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the driver installed, the engine is refused with the pip command that adds it."""
    monkeypatch.setitem(sys.modules, driver, None)  # what `import` finds when it is missing
    with pytest.raises(ConfigError) as refused:
        create_engine_for(url)
    message = str(refused.value)
    assert message.startswith("database.url: the ")
    assert f"driver {driver} is not installed" in message
    assert f"pip install 'feedamp-sync[{extra}]'" in message


def test_a_driver_this_release_does_not_ship_is_named_with_the_supported_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A URL naming another driver SQLAlchemy knows, not installed here, says what to use."""
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(ConfigError, match=r"driver 'psycopg2' cannot be loaded .*psycopg://"):
        create_engine_for("postgresql+psycopg2://sync@127.0.0.1/feedamp")


def test_sqlite_needs_no_driver_beyond_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """With neither server driver importable, a SQLite engine is made as always."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setitem(sys.modules, "pymysql", None)
    engine = create_engine_for("sqlite://")
    try:
        assert engine.dialect.name == "sqlite"
    finally:
        engine.dispose()


def test_a_command_on_a_url_without_its_driver_exits_78_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`db upgrade` on PostgreSQL without psycopg exits 78 with one line: install the extra."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delenv("FEEDAMP_SYNC_CONFIG", raising=False)
    monkeypatch.setenv("FEEDAMP_SYNC_DATABASE__URL", "postgresql://sync@127.0.0.1/feedamp")
    monkeypatch.setenv(
        "FEEDAMP_SYNC_ACCOUNTS",
        '[{"name": "main", "username": "seller", "client_id": 1, "password": "unused"}]',
    )
    assert main(["db", "upgrade"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "feedamp-sync: database.url: the postgresql driver psycopg is not installed; "
        "install feedamp-sync with it: pip install 'feedamp-sync[postgresql]'"
    ]
