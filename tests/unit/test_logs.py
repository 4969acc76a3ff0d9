"""Logging: named events, JSON off a terminal, and no secret ever printed."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import structlog

from feedamp_sync.logs import SecretRegistry, configure_logging, register_secret


def capture(log_format: str = "json") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level="DEBUG", log_format=log_format, stream=stream)  # type: ignore[arg-type]
    return stream


def test_json_lines_carry_the_event_and_its_fields() -> None:
    """Each line is a JSON object with the event name, level and bound fields."""
    stream = capture()
    structlog.get_logger("t").info("orders_pulled", account="main", new=3)
    line = json.loads(stream.getvalue())
    assert (line["event"], line["level"], line["account"], line["new"]) == (
        "orders_pulled",
        "info",
        "main",
        3,
    )


def test_secret_keys_are_masked() -> None:
    """A field named like a secret is replaced whatever its value."""
    stream = capture()
    structlog.get_logger("t").info(
        "x", password="pw-1", token="tk-1", headers={"Authorization": "a"}
    )
    text = stream.getvalue()
    for secret in ("pw-1", "tk-1", '"a"'):
        assert secret not in text


def test_registered_secret_values_are_scrubbed_from_any_text() -> None:
    """A registered secret quoted inside a message is scrubbed."""
    register_secret("canary-secret-value")
    stream = capture()
    structlog.get_logger("t").error("failed", error="login canary-secret-value refused")
    assert "canary-secret-value" not in stream.getvalue()


def test_only_the_newest_issued_tokens_are_kept_for_scrubbing_and_passwords_always() -> None:
    """A token replaced long ago can no longer reach a log line; scrubbing it on every line
    for ever would only make logging slower as the daemon ages."""
    registry = SecretRegistry(tokens_kept=2)
    registry.add("the-password")
    for token in ("token-1", "token-2", "token-3"):
        registry.add_token("main", token)
    assert registry.scrub("the-password token-1 token-2 token-3") == (
        "[redacted] token-1 [redacted] [redacted]"
    )


def test_one_accounts_token_churn_never_evicts_another_accounts_token() -> None:
    registry = SecretRegistry(tokens_kept=2)
    registry.add_token("quiet", "quiet-token")
    for n in range(10):
        registry.add_token("churning", f"churned-{n}")
    assert registry.scrub("quiet-token") == "[redacted]"


def test_basic_credentials_are_scrubbed() -> None:
    """An Authorization header value quoted in text is scrubbed."""
    stream = capture()
    structlog.get_logger("t").info("x", detail="sent Basic dXNlcjpwYXNzd29yZA== to api")
    assert "dXNlcjpwYXNzd29yZA==" not in stream.getvalue()


def test_tracebacks_do_not_leak_secrets() -> None:
    """An exception message holding a secret is scrubbed from the rendered traceback."""
    register_secret("canary-in-traceback")
    for log_format in ("json", "console"):
        stream = capture(log_format)
        try:
            raise RuntimeError("password canary-in-traceback was wrong")
        except RuntimeError:
            structlog.get_logger("t").exception("boom")
        assert "canary-in-traceback" not in stream.getvalue()
        assert "RuntimeError" in stream.getvalue()


def test_datetimes_are_iso_8601_at_any_depth_in_json() -> None:
    """A time in a field, a dict or a list is ISO 8601 text, not Python's repr."""
    stream = capture()
    at = datetime(2026, 5, 1, 10, 0, 30, tzinfo=UTC)
    structlog.get_logger("t").info(
        "outbox_retry", next_attempt_at=at, window={"from": at.date(), "at": [at.time()]}
    )
    line = json.loads(stream.getvalue())
    assert (line["next_attempt_at"], line["window"]) == (
        "2026-05-01T10:00:30+00:00",
        {"from": "2026-05-01", "at": ["10:00:30"]},
    )


def test_datetimes_are_iso_8601_on_the_console() -> None:
    """The console shows the same text as JSON lines do."""
    stream = capture("console")
    at = datetime(2026, 5, 1, 10, 0, 30, tzinfo=UTC)
    structlog.get_logger("t").info("outbox_retry", next_attempt_at=at, nested=[{"at": at}])
    text = stream.getvalue()
    assert "next_attempt_at=2026-05-01T10:00:30+00:00" in text
    assert "'at': '2026-05-01T10:00:30+00:00'" in text
    assert "datetime.datetime(" not in text
