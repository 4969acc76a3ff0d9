"""What FeedampClient tells operators (logs, metrics), and the secrets it never tells anyone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from feedamp_sync.errors import ApiError
from feedamp_sync.logs import scrub
from tests.unit.feedamp.feedamp_fakes import (
    PASSWORD,
    FakeFeedamp,
    Handler,
    json_response,
    make_client,
    script,
    token_value,
)

ORDER = {"order": [{"id": "123"}]}


class RecordingObserver:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, *, account: str, endpoint: str, status: int | None, seconds: float) -> None:
        self.calls.append({"account": account, "endpoint": endpoint, "status": status})


def test_every_attempt_is_logged_as_api_request_at_debug() -> None:
    """Each HTTP attempt logs ``api_request`` with account, endpoint, method, status, timing."""
    client = make_client(FakeFeedamp(script(json_response(200, ORDER))))
    with capture_logs() as logs:
        client.get_order("123")
    requests = [entry for entry in logs if entry["event"] == "api_request"]
    assert [(r["endpoint"], r["method"], r["status"], r["attempt"]) for r in requests] == [
        ("get_token", "GET", 200, 1),
        ("get_order", "GET", 200, 1),
    ]
    assert all(r["log_level"] == "debug" and r["account"] == "main" for r in requests)
    assert all(isinstance(r["duration_ms"], float) for r in requests)


def test_a_failed_attempt_is_logged_with_its_error() -> None:
    """A transport failure logs ``api_request`` with no status and the error text."""
    client = make_client(FakeFeedamp(script(httpx.ConnectError("refused"))), get_attempts=1)
    with capture_logs() as logs, pytest.raises(ApiError):
        client.get_order("123")
    failed = [e for e in logs if e["event"] == "api_request" and e["endpoint"] == "get_order"]
    assert failed[0]["status"] is None
    assert "could not connect" in failed[0]["error"]


def test_the_observer_hears_every_attempt_including_failures() -> None:
    """The metrics observer gets one call per HTTP attempt, status None without a response."""
    observer = RecordingObserver()
    fake = FakeFeedamp(script(httpx.ConnectError("refused"), json_response(200, ORDER)))
    make_client(fake, observer=observer).get_order("123")
    assert observer.calls == [
        {"account": "main", "endpoint": "get_token", "status": 200},
        {"account": "main", "endpoint": "get_order", "status": None},
        {"account": "main", "endpoint": "get_order", "status": 200},
    ]


def test_an_error_body_echoing_secrets_is_redacted() -> None:
    """Should FeedAMP quote our password or token back, the error message hides both."""
    echo = f"token {token_value(1)} with password {PASSWORD} is invalid"
    client = make_client(FakeFeedamp(script(json_response(400, {"error": echo}))))
    with pytest.raises(ApiError) as caught:
        client.get_order("123")
    assert caught.value.message == "token [redacted] with password [redacted] is invalid"


def test_get_token_error_bodies_are_never_quoted() -> None:
    """A get_token failure reports its status, never its body."""
    fake = FakeFeedamp(
        script(), token_handler=script(httpx.Response(400, text="body-of-get-token"))
    )
    with pytest.raises(ApiError) as caught:
        make_client(fake).renew_token()
    assert str(caught.value) == "HTTP 400: Bad Request"


def test_issued_tokens_are_registered_for_log_scrubbing() -> None:
    """Every token fetched is known to the log redaction, so no log line can show it."""
    make_client(FakeFeedamp(script(json_response(200, ORDER)))).get_order("123")
    assert scrub(f"saw {token_value(1)}") == "saw [redacted]"


SCENARIOS: dict[str, tuple[Handler, Handler | None]] = {
    "401-twice": (script(json_response(401, {"error": "bad token"}), json_response(401, {})), None),
    "403": (script(json_response(403, {"error": "forbidden"})), None),
    "400-echo": (
        script(json_response(400, {"error": f"{token_value(1)} {PASSWORD}"})),
        None,
    ),
    "500s": (script(*[json_response(500, {"message": token_value(1)})] * 5), None),
    "dropped": (script(*[httpx.RemoteProtocolError("gone")] * 5), None),
    "bad-json": (script(httpx.Response(200, text=f"<p>{token_value(1)}</p>")), None),
    "get-token-401": (
        script(),
        script(json_response(401, {"error": f"wrong password {PASSWORD}"})),
    ),
    "get-token-garbage": (script(), script(httpx.Response(200, text=f"{PASSWORD} ???"))),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_password_or_token_in_any_error_or_log_line(name: str) -> None:
    """Whatever goes wrong, neither the password nor any token reaches an error or a log."""
    handler, token_handler = SCENARIOS[name]
    fake = FakeFeedamp(handler, token_handler=token_handler)
    client = make_client(fake)
    with capture_logs() as logs, pytest.raises(ApiError) as caught:
        client.get_order("1")
    texts = [str(caught.value), repr(caught.value), repr(logs)]
    texts += [str(arg) for arg in caught.value.args]
    secrets = [PASSWORD, token_value(1), token_value(2)]
    assert not [secret for secret in secrets for text in texts if secret in text]
    assert caught.value.__cause__ is None
