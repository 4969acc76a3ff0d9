"""The HTTP seam: the only code that speaks httpx, and the one place its exceptions become ours.

Every request carries Basic auth, ``Accept: application/json`` and our ``User-Agent``; every
request but ``get_token`` also carries the ``token`` and ``client`` headers, as every curl sample
in FeedAMP's docs does. The token travels inside a :class:`Token` up to the moment the headers
are built, so no frame that could appear in a traceback holds it as a plain string.
"""

from __future__ import annotations

import importlib.metadata
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
from pydantic import SecretStr

from feedamp_sync.errors import ApiUnavailable
from feedamp_sync.feedamp.auth import Token

_DETAIL_MAX_CHARS: Final = 200


def _version() -> str:
    try:
        return importlib.metadata.version("feedamp-sync")
    except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


USER_AGENT: Final = f"feedamp-sync/{_version()}"


def tls_context() -> ssl.SSLContext:
    """The TLS settings every account's client may share (httpx's defaults: the system's or
    ``SSL_CERT_FILE``'s authorities, else certifi's).

    Left to itself, each ``httpx.Client`` builds its own context and loads the whole CA
    bundle into it: about 0.8 MiB and 25 ms per account, 160 MiB and 5 s for 200 accounts.
    A context is safe to share between clients and threads.
    """
    return httpx.create_ssl_context()


class RequestNotSent(ApiUnavailable):
    """No connection could be made, so FeedAMP never saw the request: sending it again is safe."""


@dataclass(frozen=True)
class RawResponse:
    """What the client needs from an HTTP response, free of httpx types."""

    status: int
    reason: str
    content: bytes
    retry_after: str | None
    date: str | None


class HttpTransport:
    """One account's connection pool; thread-safe, as httpx's client is."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: SecretStr,
        client_id: int,
        timeout_seconds: float,
        connect_timeout_seconds: float,
        transport: httpx.BaseTransport | None = None,
        tls: ssl.SSLContext | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = str(client_id)
        self._monotonic = monotonic
        self._timeout_seconds = timeout_seconds
        self._connect_timeout_seconds = connect_timeout_seconds
        self._client = httpx.Client(
            base_url=base_url,
            auth=httpx.BasicAuth(username, password.get_secret_value()),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
            follow_redirects=False,
            transport=transport,
            verify=True if tls is None else tls,
        )

    def close(self) -> None:
        self._client.close()

    def send(
        self,
        *,
        endpoint: str,
        method: str,
        path: str,
        token: Token | None,
        params: Mapping[str, str] | None,
        body: Any,
        seconds_left: float,
    ) -> RawResponse:
        """Send one request, with every timeout cut to the time left before the call's deadline.

        The body is read in chunks against the deadline too: httpx's read timeout applies to
        each read, so a server trickling one byte a second would otherwise hold the call for
        as long as it likes. Raises :class:`RequestNotSent` when no connection was made and
        :class:`ApiUnavailable` for any other transport failure, the deadline included;
        returns every HTTP status, errors included.
        """
        deadline = self._monotonic() + seconds_left
        request = self._client.build_request(
            method,
            path,
            params=params,
            json=body,
            headers=None if token is None else {"token": token.value, "client": self._client_id},
            timeout=httpx.Timeout(
                min(self._timeout_seconds, seconds_left),
                connect=min(self._connect_timeout_seconds, seconds_left),
            ),
        )
        try:
            response = self._client.send(request, stream=True)
            try:
                content = self._body_by(response, deadline, endpoint)
            finally:
                response.close()
        except httpx.RequestError as exc:
            raise _unavailable(endpoint, exc) from None
        return RawResponse(
            status=response.status_code,
            reason=response.reason_phrase,
            content=content,
            retry_after=response.headers.get("Retry-After"),
            date=response.headers.get("Date"),
        )

    def _body_by(self, response: httpx.Response, deadline: float, endpoint: str) -> bytes:
        """The whole body, or ApiUnavailable once the deadline passes while it arrives."""
        chunks: list[bytes] = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if self._monotonic() > deadline:
                raise ApiUnavailable(
                    f"{endpoint}: FeedAMP's answer was still arriving at the call's deadline"
                )
        return b"".join(chunks)


def _unavailable(endpoint: str, exc: httpx.RequestError) -> ApiUnavailable:
    """Every httpx failure, classified by whether FeedAMP may have seen the request.

    The httpx exception is not chained: its request holds the token header, and the text kept
    here (class name and socket-level reason) is all an operator needs.
    """
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    detail = detail[:_DETAIL_MAX_CHARS]
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return RequestNotSent(f"{endpoint}: could not connect to FeedAMP ({detail})")
    if isinstance(exc, httpx.TimeoutException):
        return ApiUnavailable(f"{endpoint}: FeedAMP did not answer in time ({detail})")
    return ApiUnavailable(f"{endpoint}: the connection to FeedAMP failed ({detail})")
