"""Webhook sinks: their settings, the signature a receiver checks, and how a delivery ends."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from feedamp_sync.errors import ApiUnavailable, ConfigError
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.webhook import (
    BODY_KEPT_CHARS,
    WebhookChannel,
    body_of,
    deliver,
    signature,
)
from feedamp_sync.sandbox.receiver import verified
from feedamp_sync.settings import load_settings, webhook_secret_key

SECRET: Final = "whsec_" + base64.b64encode(b"k" * 32).decode()
ACCOUNT: Final = """
[[accounts]]
name = "main"
username = "seller@example.com"
password_file = "/dev/null"
client_id = 7
"""
EVENT: Final = {
    "id": 42,
    "type": "order.stored",
    "account": "main",
    "subject": "10042",
    "occurred_at": "2026-05-01T12:00:00+00:00",
    "data": {"v": 1, "feedamp_id": "10042", "mp_order_number": "Bestellung-ü"},
}
NOW: Final = 1_780_000_000


def sink_config(tmp_path: Path, sink: str) -> Path:
    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n")
    password = tmp_path / "password"
    password.write_text("pw")
    path = tmp_path / "feedamp-sync.toml"
    path.write_text(
        ACCOUNT.replace("/dev/null", str(password))
        + f'\n[[sinks]]\nname = "erp"\nsecret_file = "{secret}"\n'
        + sink
    )
    path.chmod(0o600)
    return path


def problem(tmp_path: Path, sink: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(sink_config(tmp_path, sink), {})
    return str(caught.value)


def test_a_sink_is_read_with_its_defaults(tmp_path: Path) -> None:
    """A sink needs a name, a URL and a secret; every type, 10 s and 5 requests/s by default."""
    [sink] = load_settings(sink_config(tmp_path, 'url = "https://erp.example/hooks"'), {}).sinks
    assert (sink.types, sink.timeout_seconds, sink.rate_per_second) == ((), 10, 5.0)
    assert sink.lane == "webhook:erp"
    assert sink.secret_key({}).get_secret_value() == SECRET


@pytest.mark.parametrize(
    "url", ["ftp://erp.example/hooks", "erp.example/hooks", "https:///hooks", "file:///etc"]
)
def test_a_sink_url_must_be_http_or_https(tmp_path: Path, url: str) -> None:
    """Only http(s) URLs with a host are accepted, and the key is named."""
    assert "sinks.0.url" in problem(tmp_path, f'url = "{url}"')


def test_an_unknown_event_type_is_refused_naming_the_catalogue(tmp_path: Path) -> None:
    """A misspelt type in a sink's filter is an error, not a filter that never matches."""
    message = problem(tmp_path, 'url = "https://e.example"\ntypes = ["order.shipped"]')
    assert "sinks.0.types" in message
    assert "order.stored" in message


def test_a_secret_not_in_standard_webhooks_form_is_refused_without_showing_it(
    tmp_path: Path,
) -> None:
    """The secret file must hold ``whsec_`` + base64; the error names the file, never the value."""
    config = sink_config(tmp_path, 'url = "https://e.example"')
    (tmp_path / "secret").write_text("hunter2-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {})
    assert "sinks.erp.secret_file" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_sink_without_a_secret_file_reads_its_systemd_credential(tmp_path: Path) -> None:
    """With no secret configured, ``$CREDENTIALS_DIRECTORY/webhook-<name>`` is the secret."""
    config = sink_config(tmp_path, 'url = "https://e.example"')
    config.write_text(config.read_text().replace(f'secret_file = "{tmp_path / "secret"}"\n', ""))
    (tmp_path / "webhook-erp").write_text(SECRET)
    [sink] = load_settings(config, {"CREDENTIALS_DIRECTORY": str(tmp_path)}).sinks
    assert sink.secret_key({"CREDENTIALS_DIRECTORY": str(tmp_path)}).get_secret_value() == SECRET


@pytest.mark.parametrize(
    "secret", ["whsec_", "whsec_!!!", "whsec_" + base64.b64encode(b"k").decode()]
)
def test_a_secret_too_short_or_not_base64_is_refused(secret: str) -> None:
    """The decoded secret must be 24 to 64 bytes of base64."""
    with pytest.raises(ValueError, match="must"):
        webhook_secret_key(secret)


def test_the_signature_verifies_with_the_standard_webhooks_package() -> None:
    """What we sign, the reference implementation accepts (it checks the timestamp against
    its own clock, hence now), and so does the sandbox's receiver."""
    body = body_of(EVENT)
    now = int(time.time())
    headers = {
        "webhook-id": "42",
        "webhook-timestamp": str(now),
        "webhook-signature": signature(webhook_secret_key(SECRET), "42", now, body),
    }
    assert Webhook(SECRET).verify(body, headers) == EVENT
    assert verified(webhook_secret_key(SECRET), headers, body, float(now))


def test_a_tampered_body_fails_verification() -> None:
    """One changed byte and the reference implementation refuses the delivery."""
    body = body_of(EVENT)
    now = int(time.time())
    headers = {
        "webhook-id": "42",
        "webhook-timestamp": str(now),
        "webhook-signature": signature(webhook_secret_key(SECRET), "42", now, body),
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"10042", b"10043"), headers)


def message(payload: object = EVENT) -> OutboxMessage:
    return OutboxMessage(1, "webhook:erp", "webhook", "erp", payload, 1)


def channel(handler: httpx.MockTransport) -> WebhookChannel:
    return WebhookChannel(
        "erp",
        "https://erp.example/hooks",
        webhook_secret_key(SECRET),
        timeout_seconds=5,
        rate_per_second=1000,
        transport=handler,
        clock=lambda: float(NOW),
    )


def test_a_delivery_posts_the_signed_event_and_keeps_the_answer() -> None:
    """A 2xx is delivered; the request carries the three headers; the answer is kept."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    delivered = deliver(channel(httpx.MockTransport(answer)), message())
    [request] = seen
    assert request.method == "POST"
    assert json.loads(request.content) == EVENT
    assert (request.headers["webhook-id"], request.headers["webhook-timestamp"]) == (
        "42",
        str(NOW),
    )
    assert request.headers["webhook-signature"] == signature(
        webhook_secret_key(SECRET), "42", NOW, request.content
    )
    assert delivered.response == {"status_code": 200, "body": "ok"}


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_an_error_answer_is_retried_with_its_body_shortened(status: int) -> None:
    """Any 4xx or 5xx is worth another attempt; the error keeps the start of the answer."""
    transport = httpx.MockTransport(lambda _: httpx.Response(status, text="x" * 5000))
    with pytest.raises(ApiUnavailable) as failed:
        deliver(channel(transport), message())
    assert failed.value.status_code == status
    assert len(str(failed.value)) < BODY_KEPT_CHARS + 100


def test_a_redirect_is_not_followed() -> None:
    """A 3xx is an error (the secret's signature is never sent elsewhere), retried later."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "https://elsewhere.example/"})

    with pytest.raises(ApiUnavailable, match="redirects are not followed"):
        deliver(channel(httpx.MockTransport(answer)), message())
    assert seen == ["https://erp.example/hooks"]


def test_a_sink_that_cannot_be_reached_is_retried() -> None:
    """A refused connection or a timeout is ApiUnavailable, named by the sink."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ApiUnavailable, match="webhook sink erp cannot be reached"):
        deliver(channel(httpx.MockTransport(refuse)), message())


class LongBody(httpx.SyncByteStream):
    """An answer's body of ``size`` bytes, counting how much of it was read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b"x" * 65536
        while self.read < self.size:
            self.read += len(chunk)
            yield chunk


def test_a_long_answer_is_read_no_further_than_the_part_kept() -> None:
    """A sink answering 64 MiB: the delivery keeps the answer's start, having read one chunk."""
    body = LongBody(64 * 1024 * 1024)
    transport = httpx.MockTransport(lambda _: httpx.Response(200, stream=body))
    delivered = deliver(channel(transport), message())
    assert delivered.response == {"status_code": 200, "body": "x" * BODY_KEPT_CHARS + "…"}
    assert body.read == 65536
