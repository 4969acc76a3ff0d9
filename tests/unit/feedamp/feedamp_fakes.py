"""Test doubles for the FeedAMP client: a fake clock and a scripted FeedAMP behind MockTransport."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any, Final

import httpx
from pydantic import SecretStr

from feedamp_sync.clients import client_config
from feedamp_sync.feedamp import FeedampClient, RequestObserver
from feedamp_sync.settings import AccountSettings, ApiSettings, RefreshSettings

PASSWORD: Final = "pw-Sup3r-s3cret"
USERNAME: Final = "seller@example.com"
CLIENT_ID: Final = 1234
BASE_URL: Final = "https://feedamp.test"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """A monotonic clock that only moves when someone sleeps (or a test advances it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._lock = threading.Lock()
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def token_value(n: int) -> str:
    return f"tok-{n}-53bf15c-b7769e17d"


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class FakeFeedamp:
    """A FeedAMP that issues ``token_value(1)``, ``token_value(2)``, ... on ``get_token`` and
    answers every other request with ``handler``; it records every request it saw."""

    def __init__(self, handler: Handler, *, token_handler: Handler | None = None) -> None:
        self._lock = threading.Lock()
        self._handler = handler
        self._token_handler = token_handler
        self.requests: list[httpx.Request] = []
        self.tokens_issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        if request.url.path == "/api/v1/get_token":
            if self._token_handler is not None:
                return self._token_handler(request)
            with self._lock:
                self.tokens_issued += 1
                issued = self.tokens_issued
            return json_response(200, {"token": token_value(issued)})
        return self._handler(request)

    @property
    def api_requests(self) -> list[httpx.Request]:
        """Requests other than get_token."""
        return [r for r in self.requests if r.url.path != "/api/v1/get_token"]


def script(*responses: httpx.Response | Exception) -> Handler:
    """A handler answering with these responses in order (an exception is raised instead)."""
    queue = list(responses)
    lock = threading.Lock()

    def handle(request: httpx.Request) -> httpx.Response:
        with lock:
            item = queue.pop(0)
        if isinstance(item, httpx.RequestError):
            item.request = request
        if isinstance(item, Exception):
            raise item
        return item

    return handle


def basic_auth_header() -> str:
    return "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def make_client(
    handler: Handler | FakeFeedamp,
    clock: FakeClock | None = None,
    *,
    observer: RequestObserver | None = None,
    rng: Callable[[], float] = lambda: 0.5,
    account: dict[str, Any] | None = None,
    refresh: dict[str, Any] | None = None,
    **api: Any,
) -> FeedampClient:
    """A client on a fake clock talking to ``handler`` (wrapped in FakeFeedamp if it is not)."""
    fake = handler if isinstance(handler, FakeFeedamp) else FakeFeedamp(handler)
    clock = clock or FakeClock()
    settings = AccountSettings(
        name="main", base_url=BASE_URL, username=USERNAME, client_id=CLIENT_ID, **(account or {})
    )
    return FeedampClient(
        client_config(settings, ApiSettings(**api), RefreshSettings(**(refresh or {}))),
        SecretStr(PASSWORD),
        transport=httpx.MockTransport(fake),
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        observer=observer,
        rng=rng,
    )
