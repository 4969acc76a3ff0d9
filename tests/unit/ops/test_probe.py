"""The healthcheck's address and the failed checks it prints."""

from __future__ import annotations

import json

from feedamp_sync.ops.probe import _failed, probe_url


def test_a_wildcard_ipv4_listener_is_probed_on_loopback() -> None:
    """0.0.0.0 is where the daemon listens, 127.0.0.1 where a local probe reaches it."""
    assert probe_url(("0.0.0.0", 9464)) == "http://127.0.0.1:9464/readyz"


def test_a_wildcard_ipv6_listener_is_probed_on_loopback() -> None:
    """:: maps to ::1, bracketed in the URL."""
    assert probe_url(("::", 9464)) == "http://[::1]:9464/readyz"


def test_a_named_host_is_probed_as_is() -> None:
    """A specific address is used unchanged."""
    assert probe_url(("127.0.0.2", 80)) == "http://127.0.0.2:80/readyz"


def test_the_failed_checks_are_summarised() -> None:
    """The probe prints what /readyz says is wrong."""
    body = json.dumps({"ok": False, "failed": {"job outbox": "has not succeeded yet"}})
    assert _failed(body.encode()) == "job outbox: has not succeeded yet"


def test_a_foreign_body_is_shown_as_text() -> None:
    """Something else on the port is shown, not parsed."""
    assert _failed(b"<html>nginx</html>") == "<html>nginx</html>"
