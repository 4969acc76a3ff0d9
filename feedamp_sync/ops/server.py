"""The health and metrics listener: a stdlib threading HTTP server on its own thread.

Off unless ``health.enabled``. Each path maps to a function returning (status, content
type, body); a function that raises answers 500 and is logged, so a bug in one check never
takes the listener down. HEAD answers as GET does, without the body (probes and load
balancers that only look at the status use it). Every connection has a socket timeout, so a
client that stops reading cannot hold a thread for ever.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

import structlog

from feedamp_sync.errors import ConfigError

log = structlog.get_logger(__name__)

Reply = tuple[int, str, bytes]
Route = Callable[[], Reply]

SOCKET_TIMEOUT_SECONDS: Final = 10.0
_POLL_SECONDS: Final = 0.1


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], routes: Mapping[str, Route]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.routes = routes
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup of the host (slow on some hosts)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = SOCKET_TIMEOUT_SECONDS
    server_version = "feedamp-sync"

    def do_GET(self) -> None:
        self._reply(self._answer(), with_body=True)

    def do_HEAD(self) -> None:
        self._reply(self._answer(), with_body=False)

    def _answer(self) -> Reply:
        route = self.server.routes.get(urlsplit(self.path).path)
        if route is None:
            return 404, "text/plain; charset=utf-8", b"not found\n"
        try:
            return route()
        except Exception:  # one failing check answers 500; the listener lives on
            log.exception("health_route_failed", path=self.path)
            return 500, "text/plain; charset=utf-8", b"internal error\n"

    def _reply(self, reply: Reply, *, with_body: bool) -> None:
        status, content_type, body = reply
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a scrape every few seconds is not worth a log line."""


class HealthServer:
    """Serves ``routes`` on ``address`` from :meth:`start` until :meth:`close`.

    The socket is bound on construction: a port in use is a ConfigError naming
    ``health.listen`` (exit 78) before the daemon has started anything.
    """

    def __init__(self, address: tuple[str, int], routes: Mapping[str, Route]) -> None:
        try:
            self._server = _Server(address, routes)
        except OSError as exc:
            raise ConfigError(
                f"health.listen: cannot listen on {address[0]}:{address[1]}: {exc.strerror or exc}"
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="health-listener",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health_listening", address=self._server.server_address[0], port=self.port)
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(SOCKET_TIMEOUT_SECONDS)
        self._server.server_close()

    def __enter__(self) -> HealthServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
