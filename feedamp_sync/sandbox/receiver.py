"""A tiny webhook receiver: it checks each delivery's Standard Webhooks signature and keeps
what it received, for the demo and the tests.

It is the seller's side, written from the specification alone (standard library HMAC), not
from the daemon's signing code, so the two check each other. ``POST`` any path: a delivery
whose signature and timestamp hold is recorded and answered 204 (or ``accept_with`` and its
``answer_body``; or ``fail_with`` while a test plays an outage: recorded as refused, nothing
kept); a bad signature is answered 401.
``GET /received`` lists what was accepted, oldest first.

A test can also make the receiver a sink that answers badly: ``answer_bytes`` answers an
accepted delivery (with ``accept_with`` other than 204) with a body that long instead of
``answer_body``, ``drip_seconds`` sends that body one byte at a time; ``answered_bytes`` counts
what the daemon's connections took of those bodies.
"""

from __future__ import annotations

import base64
import contextlib
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
_CHUNK_BYTES: Final = 64 * 1024


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
    answer_bytes: int = 0
    drip_seconds: float | None = None
    answered_bytes: int = 0
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

    def answered(self, size: int) -> None:
        with self.lock:
            self.answered_bytes += size


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        inbox = self.server.inbox
        status = inbox.take(headers, body)
        if status != inbox.accept_with or status == 204:  # a 204 has no body
            self._answer(status, b"")
        elif inbox.answer_bytes:
            self._answer_at_length(status, inbox.answer_bytes, inbox.drip_seconds)
        else:
            self._answer(status, inbox.answer_body)

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

    def _answer_at_length(self, status: int, size: int, drip_seconds: float | None) -> None:
        """A body of ``size`` bytes, in chunks or dripped, until it is all sent, the daemon
        stops reading it, or the receiver closes."""
        self.close_connection = True
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(size))
        self.end_headers()
        step = 1 if drip_seconds is not None else _CHUNK_BYTES
        with contextlib.suppress(OSError):  # the daemon closed the connection
            for start in range(0, size, step):
                if drip_seconds is not None and self.server.closing.wait(drip_seconds):
                    return
                piece = min(step, size - start)
                self.wfile.write(b"x" * piece)
                self.server.inbox.answered(piece)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests and the demo read the inbox instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], inbox: Inbox) -> None:
        super().__init__(address, _Handler)
        self.inbox = inbox
        self.closing = threading.Event()


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
        self._server.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()
