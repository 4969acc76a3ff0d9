"""Delivering events to a seller's webhook, signed as Standard Webhooks specifies.

A ``webhook`` message carries one event of the log (``db/events.public_event``) for one sink:
its ``account`` is the sink's lane (``webhook:<name>``, with a rate budget of its own, so a
sink that is down never holds a worker FeedAMP work could use) and its ``target_id`` the
sink's name, so a sink receives its events one at a time, in the log's order. The engine
retries a failure with the outbox's backoff and gives up after ``outbox.max_attempts``, as
for FeedAMP; the receiver de-duplicates by ``webhook-id`` (the event id), since a delivery
whose answer was lost is sent again.

The request: ``POST`` of the event as compact JSON, headers ``webhook-id`` (the event id),
``webhook-timestamp`` (when it is sent, Unix seconds: a receiver refuses old ones) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` with the
secret's decoded bytes). Any 2xx is delivered; anything else (a redirect too: none is
followed) is retried. The answer's body is kept, shortened, its text made storable (a NUL
from a proxy's binary answer escaped, :func:`~feedamp_sync.storable.storable_text`), and no
more of it is read: a sink answering without end costs no memory. The sink's
``timeout_seconds`` applies to each read, as for FeedAMP, and the whole delivery, its answer
included, ends within twice that or is retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final

import httpx
from pydantic import Field

from feedamp_sync.core.attempts import WEBHOOK_KIND
from feedamp_sync.core.facts import Target
from feedamp_sync.errors import ApiUnavailable
from feedamp_sync.feedamp.ratelimit import RateLimiter
from feedamp_sync.feedamp.transport import PastDeadline, answer_by
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import Shape
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.storable import storable_text

BODY_KEPT_CHARS: Final = 1_000
"""How much of a sink's answer is kept (on the message, or in the attempt's error)."""
BODY_READ_BYTES: Final = 4 * BODY_KEPT_CHARS + 1
"""How much of a sink's answer is read: enough for ``BODY_KEPT_CHARS`` characters of any
encoding, and one more byte to tell that there was more."""
USER_AGENT: Final = "feedamp-sync-webhooks"
DEADLINE_TIMEOUTS: Final = 2
"""A delivery's deadline, in multiples of the sink's ``timeout_seconds``: a connection and an
answer each taking nearly the timeout still fit."""


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for one request."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def body_of(event: Mapping[str, Any]) -> bytes:
    """The request body: the event as compact JSON (the bytes that are signed)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def shortened(text: str) -> str:
    """A sink's answer as it is kept: storable, and cut to :data:`BODY_KEPT_CHARS`."""
    text = storable_text(text)
    return text if len(text) <= BODY_KEPT_CHARS else text[:BODY_KEPT_CHARS] + "…"


class WebhookChannel:
    """One sink's HTTP edge: its URL, key, timeout and rate budget.

    ``budget`` is the sink's rate limiter, which the engine also reads to hand its messages
    to workers only when the budget admits one.
    """

    def __init__(
        self,
        name: str,
        url: str,
        key: bytes,
        *,
        timeout_seconds: float,
        rate_per_second: float,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.budget = RateLimiter(rate_per_second)
        self._url = url
        self._key = key
        self._clock = clock
        self._deadline_seconds = DEADLINE_TIMEOUTS * timeout_seconds
        self._http = httpx.Client(
            timeout=timeout_seconds,
            follow_redirects=False,
            transport=transport,
            headers={"user-agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    def post(self, msg_id: str, body: bytes) -> tuple[int, str]:
        """POST one signed body; returns the status code and the answer's text (shortened).
        ApiUnavailable when the sink cannot be reached or its answer is not in by the
        delivery's deadline."""
        self.budget.acquire()
        timestamp = math.floor(self._clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(self._key, msg_id, timestamp, body),
        }
        request = self._http.build_request("POST", self._url, content=body, headers=headers)
        try:
            answer, content = answer_by(
                self._http, request, self._deadline_seconds, max_bytes=BODY_READ_BYTES
            )
        except (httpx.TimeoutException, PastDeadline):
            raise ApiUnavailable(f"webhook sink {self.name} did not answer in time") from None
        except httpx.HTTPError as error:
            raise ApiUnavailable(
                f"webhook sink {self.name} cannot be reached: {type(error).__name__}"
            ) from None
        text = content.decode(answer.encoding or "utf-8", errors="replace")
        return answer.status_code, shortened(text)


class WebhookEvent(Shape):
    """An event as the fan-out wrote it (``db/events.public_event``): its ``id`` (a positive
    integer) and ``type`` are what delivery needs; it is sent exactly as stored."""

    id: Annotated[int, Field(gt=0)]
    type: str
    account: str
    subject: str
    occurred_at: str
    data: dict[str, Any]

    def normalised(self) -> dict[str, Any]:
        """Every field as given: the body's null values are part of the event."""
        return self.model_dump()


def deliver(channel: WebhookChannel, message: OutboxMessage) -> Delivered:
    event = message.payload
    status, text = channel.post(str(event["id"]), body_of(event))
    if not 200 <= status < 300:
        why = " (redirects are not followed)" if 300 <= status < 400 else ""
        raise ApiUnavailable(
            f"webhook sink {channel.name} answered{why}: {text}", status_code=status
        )
    return Delivered(
        request={"event_id": event["id"], "type": event.get("type")},
        response={"status_code": status, "body": text},
        status_code=status,
    )


WEBHOOK: Final = Kind(
    name=WEBHOOK_KIND,
    target=Target.SINK,
    check=WebhookEvent,
    deliver=deliver,
    records_events=False,
)
