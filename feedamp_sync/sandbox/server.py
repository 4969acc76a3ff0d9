"""The sandbox on a socket: a stdlib threading HTTP/1.1 server and its lifecycle.

A real HTTP server matters here: the daemon's HTTP client (pooling, keep-alive, timeouts,
connection errors) is part of what the tests prove, and ``drop`` must really close a socket
without a byte. Design points:

* HTTP/1.1 keep-alive with a Content-Length on every response, written in one ``send`` (head
  and body together, Nagle off) so a pooled connection has no delayed-ACK stalls;
* a thread per connection (daemon threads) and a deep accept backlog, enough for hundreds of
  requests per second over many concurrent keep-alive connections;
* every open connection is tracked, so :meth:`SandboxServer.close` can shut them all down and
  return within a second or two even with idle keep-alive connections and ``slow`` requests in
  progress (their wait is interrupted and they are dropped).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from feedamp_sync.sandbox import control, tenants
from feedamp_sync.sandbox.app import Sandbox
from feedamp_sync.sandbox.wire import Request, Response, error_response

MAX_BODY_BYTES: Final = 1 << 20
IDLE_TIMEOUT_SECONDS: Final = 120.0
_POLL_SECONDS: Final = 0.01
"""How often the accept loop checks for shutdown: it bounds how long close() waits."""
_DRAIN_SECONDS: Final = 1.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def __init__(
        self,
        address: tuple[str, int],
        sandbox: Sandbox,
        *,
        log_requests: bool,
        family: int,
        accounts: Mapping[str, Sandbox],
    ) -> None:
        self.address_family = family
        self.sandbox = sandbox
        self.accounts = accounts
        self.log_requests = log_requests
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._active = 0
        self._idle = threading.Condition()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup of the host (slow on some hosts)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def wait(self, seconds: float) -> bool:
        """Sleep for a ``slow`` fault; False as soon as the server starts stopping."""
        return not self.stopping.wait(seconds)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._idle:
            self._connections.add(request)
            self._active += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self._idle:
            if request in self._connections:
                self._connections.discard(request)
                self._active -= 1
                self._idle.notify_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors (a client gone, or our own shutdown) are normal; bugs are shown."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut down every open connection; handler threads see EOF and finish."""
        with self._idle:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def wait_idle(self, timeout: float) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "feedamp-sync-sandbox"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    do_PUT = do_GET
    do_POST = do_GET
    do_DELETE = do_GET
    do_PATCH = do_GET

    def _dispatch(self) -> None:
        if self.server.stopping.is_set():
            self._drop()
            return
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        routed = tenants.route(self.server.sandbox, self.server.accounts, url.path)
        if routed is None:
            self._write(error_response(404, "no such sandbox account"))
            return
        sandbox, path = routed
        request = Request(
            method=self.command,
            path=path,
            raw_query=url.query,
            query={k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response: Response | None
        try:
            if path.startswith(control.PREFIX):
                response = control.handle(sandbox, request)
            else:
                response = sandbox.serve(request, self.server.wait)
        except Exception:  # a sandbox bug must answer, not hang the client's connection
            traceback.print_exc()
            response = error_response(500, "sandbox internal error")
        if response is None:
            self._drop()
        else:
            self._write(response)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering a body the sandbox cannot read."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._write(error_response(501, "chunked request bodies are not supported"))
            return None
        length_header = self.headers.get("Content-Length", "0")
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._write(error_response(413 if length > 0 else 400, "bad Content-Length"))
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _write(self, response: Response) -> None:
        """Status line, headers and body in one write; always with Content-Length."""
        if self.server.stopping.is_set():
            self.close_connection = True
        head = [
            f"{self.protocol_version} {response.status} {HTTPStatus(response.status).phrase}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        if self.close_connection:
            head.append("Connection: close")
        head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if response.drip_seconds is None:
            self.wfile.write(head_bytes + response.body)
        else:
            self._drip(head_bytes, response.body, response.drip_seconds)
        self.log_request(response.status)

    def _drip(self, head: bytes, body: bytes, seconds: float) -> None:
        """The headers at once, then one byte of the body at a time; stops with the server."""
        self.close_connection = True
        self.wfile.write(head)
        for index in range(len(body)):
            self.wfile.flush()
            if not self.server.wait(seconds):
                return
            self.wfile.write(body[index : index + 1])

    def _drop(self) -> None:
        """Close the connection without writing anything, and write nothing afterwards."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        self.log_message('"%s" dropped', self.requestline)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)


class SandboxServer:
    """Serves a :class:`Sandbox` over HTTP on ``host:port`` (port 0 picks a free port), and
    each of ``accounts`` at :meth:`account_url` (see :mod:`~feedamp_sync.sandbox.tenants`).

    The socket is bound on construction, so :attr:`base_url` is known at once; requests are
    served from :meth:`start` (or entering the ``with`` block) until :meth:`close`.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = False,
        accounts: Mapping[str, Sandbox] | None = None,
    ) -> None:
        self.sandbox = sandbox
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = _Server(
            (host, port),
            sandbox,
            log_requests=log_requests,
            family=family,
            accounts=dict(accounts or {}),
        )
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def accounts(self) -> Mapping[str, Sandbox]:
        return self._server.accounts

    def account_url(self, name: str) -> str:
        """The base URL of one of ``accounts``."""
        return f"{self.base_url}{tenants.PREFIX}{name}"

    def start(self) -> SandboxServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": _POLL_SECONDS},
                name=f"sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop promptly: interrupt slow requests, close every connection, free the port."""
        if self._closed:
            return
        self._closed = True
        self._server.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._server.wait_idle(_DRAIN_SECONDS)
        if self._thread is not None:
            self._thread.join(_DRAIN_SECONDS)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
