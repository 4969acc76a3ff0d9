"""The HTTP seam: the only code that speaks httpx, and the one place its exceptions become ours.

Every request carries Basic auth, ``Accept: application/json`` and our ``User-Agent``; every
request but ``get_token`` also carries the ``token`` and ``client`` headers, as every curl sample
in FeedAMP's docs does. The token travels inside a :class:`Token` up to the moment the headers
are built, so no frame that could appear in a traceback holds it as a plain string.

An answer is read against a deadline (:func:`answer_by`, for webhook sinks too): httpx's
timeouts apply to each read, so a server sending a byte now and then would otherwise hold a
call, and the worker thread making it, for as long as it likes.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
from pydantic import SecretStr

from feedamp_sync.errors import ApiUnavailable
from feedamp_sync.feedamp.auth import Token

_DETAIL_MAX_CHARS: Final = 200
CUTOFF_THREAD: Final = "call-cutoffs"
"""The thread that shuts the connections of answers still arriving at their deadline."""


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


class PastDeadline(Exception):
    """An answer was still arriving when its call's deadline passed."""


class _Cutoff:
    """One answer's connection, to be shut down if the answer is still arriving at
    ``deadline`` (``time.monotonic()``)."""

    def __init__(self, deadline: float, sock: socket.socket) -> None:
        self.deadline = deadline
        self.fired = False
        self._sock = sock

    def fire(self) -> None:
        """Shut the connection down both ways: a read waiting on it returns at once, as if
        the server had closed it. Called with the cutoffs' lock held, as ``release`` is, so a
        connection handed back to the pool is never shut."""
        self.fired = True
        # The plain socket's shutdown: an SSLSocket's own drops its TLS state under the
        # reading thread's feet. An OSError: the connection was closed meanwhile.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


class _Cutoffs:
    """The answers being read, and one thread (started on first use, then kept for the
    process) that shuts each one's connection at its deadline.

    Only answers in flight are held, a handful at a time, so the next deadline is found by
    looking at each.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._watched: set[_Cutoff] = set()
        self._thread: threading.Thread | None = None
        self._wakes_at: float | None = None

    def watch(self, deadline: float, sock: socket.socket) -> _Cutoff:
        cutoff = _Cutoff(deadline, sock)
        with self._changed:
            self._watched.add(cutoff)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=CUTOFF_THREAD, daemon=True)
                self._thread.start()
            elif self._wakes_at is None or deadline < self._wakes_at:
                self._changed.notify()
        return cutoff

    def release(self, cutoff: _Cutoff) -> None:
        with self._changed:
            self._watched.discard(cutoff)

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for cutoff in [c for c in self._watched if c.deadline <= now]:
                    self._watched.discard(cutoff)
                    cutoff.fire()
                self._wakes_at = min((c.deadline for c in self._watched), default=None)
                self._changed.wait(None if self._wakes_at is None else self._wakes_at - now)


_CUTOFFS: Final = _Cutoffs()


def answer_by(
    client: httpx.Client,
    request: httpx.Request,
    seconds: float,
    *,
    max_bytes: int | None = None,
) -> tuple[httpx.Response, bytes]:
    """Send ``request``; its answer, and the answer's body (its first ``max_bytes`` bytes when
    given, the rest left unread), all within ``seconds``.

    Once the headers are in, the connection is shut down at the deadline if the body is still
    arriving then, which ends the read waiting on it; the deadline is also checked after each
    chunk, for a transport without a socket (a test's). Before the headers, each read waits
    at most the request's own read timeout, which the caller cuts to the time left. Raises
    :class:`PastDeadline` when the deadline passed during the answer, and httpx's
    ``RequestError`` for any other transport failure.
    """
    deadline = time.monotonic() + seconds
    response = client.send(request, stream=True)
    cutoff: _Cutoff | None = None
    try:
        cutoff = _watched(response, deadline)
        if cutoff is not None:
            response.stream = _ReleasedFirst(response.stream, cutoff)
        if time.monotonic() >= deadline:  # the headers themselves came too late
            raise PastDeadline
        return response, _body_by(response, deadline, max_bytes)
    except httpx.RequestError:
        if cutoff is not None and cutoff.fired:
            raise PastDeadline from None
        raise
    finally:
        if cutoff is not None:
            _CUTOFFS.release(cutoff)
        response.close()


class _ReleasedFirst(httpx.SyncByteStream):
    """An answer's body that stops its cutoff's watch before handing the connection back.

    httpx closes the stream, and so returns the connection to the pool, as soon as the last
    chunk is read: were the watch stopped only afterwards, a deadline falling in between
    would shut a connection another request may already be using.
    """

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, cutoff: _Cutoff):
        assert isinstance(stream, httpx.SyncByteStream)
        self._stream = stream
        self._cutoff = cutoff

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        _CUTOFFS.release(self._cutoff)
        self._stream.close()


def _watched(response: httpx.Response, deadline: float) -> _Cutoff | None:
    """The answer's connection, watched until ``deadline``; None when the transport has no
    socket to show (a test's ``MockTransport``)."""
    stream = response.extensions.get("network_stream")
    sock = None if stream is None else stream.get_extra_info("socket")
    return _CUTOFFS.watch(deadline, sock) if isinstance(sock, socket.socket) else None


def _body_by(response: httpx.Response, deadline: float, max_bytes: int | None) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise PastDeadline
        if max_bytes is not None and size >= max_bytes:
            return b"".join(chunks)[:max_bytes]
    return b"".join(chunks)


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
    ) -> None:
        self._client_id = str(client_id)
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
        """Send one request, with every timeout cut to the time left before the call's deadline
        and the answer read by then (:func:`answer_by`).

        Raises :class:`RequestNotSent` when no connection was made and :class:`ApiUnavailable`
        for any other transport failure, the deadline included; returns every HTTP status,
        errors included.
        """
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
            response, content = answer_by(self._client, request, seconds_left)
        except PastDeadline:
            raise ApiUnavailable(
                f"{endpoint}: FeedAMP's answer was still arriving at the call's deadline"
            ) from None
        except httpx.RequestError as exc:
            raise _unavailable(endpoint, exc) from None
        return RawResponse(
            status=response.status_code,
            reason=response.reason_phrase,
            content=content,
            retry_after=response.headers.get("Retry-After"),
            date=response.headers.get("Date"),
        )


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
