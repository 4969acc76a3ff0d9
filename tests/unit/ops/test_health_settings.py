"""The [health] section: off by default, a validated host:port."""

from __future__ import annotations

import pytest

from feedamp_sync.errors import ConfigError
from feedamp_sync.settings import listen_address, load_settings

ACCOUNTS = '[{"name": "main", "username": "u", "password": "p", "client_id": 1}]'


def test_the_listener_is_off_by_default_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens unless configured; the default address is local."""
    monkeypatch.setenv("FEEDAMP_SYNC_ACCOUNTS", ACCOUNTS)
    health = load_settings(None, {}).health
    assert (health.enabled, health.address) == (False, ("127.0.0.1", 9464))


def test_a_bad_listen_address_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port out of range is refused with health.listen in the message."""
    monkeypatch.setenv("FEEDAMP_SYNC_ACCOUNTS", ACCOUNTS)
    monkeypatch.setenv("FEEDAMP_SYNC_HEALTH__LISTEN", "127.0.0.1:99999")
    with pytest.raises(ConfigError, match=r"health\.listen: .*must be host:port"):
        load_settings(None, {})


def test_an_ipv6_listen_address_is_unbracketed() -> None:
    """[::1]:9464 binds ::1."""
    assert listen_address("[::1]:9464") == ("::1", 9464)


def test_a_listen_address_without_port_is_refused() -> None:
    """The port is required."""
    with pytest.raises(ValueError, match="host:port"):
        listen_address("127.0.0.1")
