"""Transport-free request and response values, and the sandbox's error body.

The API logic works on these plain values instead of ``http.server`` objects, so it can be
reasoned about (and reused by the control endpoints) without sockets; ``server.py`` is the
only module that turns them into bytes on a connection.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


class Rejected(Exception):
    """The request is refused with ``status`` and a message for the error body."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request: header names are lower-case, ``query`` keeps first values."""

    method: str
    path: str
    raw_query: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Response:
    """What to send back; ``server.py`` adds Content-Length, Date and Connection."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"
    drip_seconds: float | None = None
    """Send the body one byte at a time, this long apart (the ``drip`` fault)."""


@dataclass(frozen=True)
class Verbatim:
    """JSON text to be written into an answer as it is, where a value is expected: a value
    Python's encoder cannot write, such as one nested thousands of levels deep (an order
    served malformed on purpose)."""

    text: str


def json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """Serialise ``payload`` compactly; UTF-8 JSON is the only content type the API uses.

    A lone surrogate (an order served malformed on purpose) is written as its JSON escape,
    ``\\ud800``, as a real server's encoder would: it is no UTF-8 character. A
    :class:`Verbatim` value is written as its text.
    """
    verbatim: dict[str, str] = {}

    def placeholder(value: Any) -> str:
        if not isinstance(value, Verbatim):
            raise TypeError(f"{type(value).__name__} is not JSON")
        mark = f"verbatim-{secrets.token_hex(8)}"
        verbatim[json.dumps(mark)] = value.text
        return mark

    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=placeholder)
    for mark, written in verbatim.items():
        text = text.replace(mark, written, 1)
    body = text.encode("utf-8", "backslashreplace")
    return Response(status=status, body=body, headers=headers)


def error_response(
    status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """An error as ``{"error": "<message>"}``.

    FeedAMP v1 documents no error body at all; this shape is the sandbox's own choice, so
    clients must not depend on it beyond "a JSON object with a message" (see docs/feedamp-api.md).
    """
    return json_response(status, {"error": message}, headers)


def parse_json_object(body: bytes) -> JSON:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    if not body.strip():
        raise Rejected(400, "request body is required")
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Rejected(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise Rejected(400, "request body must be a JSON object")
    return value
