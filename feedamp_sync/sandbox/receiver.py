"""A tiny webhook receiver: it checks each delivery's Standard Webhooks signature and keeps
what it received, for the demo and the tests.

It is the seller's side, written from the specification alone (standard library HMAC), not
from the daemon's signing code, so the two check each other. ``POST`` any path: a delivery
whose signature and timestamp hold is recorded and answered 204 (or ``accept_with`` and its
``answer_body``; or ``fail_with`` while a test plays an outage: recorded as refused, nothing
kept); a bad signature is answered 401.
``GET /received`` lists what was accepted, oldest first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

TOLERANCE_SECONDS: Final = 300
"""How far a delivery's timestamp may be from the receiver's clock (the specification's)."""


def key_of(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def verified(key: bytes, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    """Whether the delivery's signature is ours and its timestamp is recent."""
    msg_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    offered = headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


@dataclass(frozen=True)
class Delivery:
    """One accepted delivery: the headers that matter and the event as sent."""

    msg_id: str
    timestamp: int
    signature: str
    body: bytes

    @property
    def event(self) -> Any:
        return json.loads(self.body)


@dataclass
class Inbox:
    """What the receiver accepted and refused; ``fail_with`` plays an outage."""

    key: bytes
    clock: Callable[[], float] = time.time
    fail_with: int | None = None
    accept_with: int = 204
    answer_body: bytes = b""
    """What an accepted delivery is answered with (a body only with a status other than 204)."""
    accepted: list[Delivery] = field(default_factory=list)
    refused: int = 0
    forged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, headers: Mapping[str, str], body: bytes) -> int:
        """The status to answer a delivery with, recording it."""
        with self.lock:
            if not verified(self.key, headers, body, self.clock()):
                self.forged += 1
                return 401
            if self.fail_with is not None:
                self.refused += 1
                return self.fail_with
            self.accepted.append(
                Delivery(
                    headers["webhook-id"],
                    int(headers["webhook-timestamp"]),
                    headers["webhook-signature"],
                    body,
                )
            )
            return self.accept_with

    def events(self) -> list[Any]:
        with self.lock:
            return [delivery.event for delivery in self.accepted]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        inbox = self.server.inbox
        status = inbox.take(headers, body)
        with_body = status == inbox.accept_with and status != 204  # a 204 has no body
        self._answer(status, inbox.answer_body if with_body else b"")

    def do_GET(self) -> None:
        if self.path != "/received":
            self._answer(404, b"")
            return
        self._answer(200, json.dumps(self.server.inbox.events()).encode())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests and the demo read the inbox instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], inbox: Inbox) -> None:
        super().__init__(address, _Handler)
        self.inbox = inbox


class WebhookReceiver:
    """The receiver on ``host:port`` (0: a free port), served on a thread; a context manager."""

    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.inbox = Inbox(key_of(secret))
        self._server = _Server((host, port), self.inbox)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()
