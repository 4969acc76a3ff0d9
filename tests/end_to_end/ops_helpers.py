"""Helpers for the production-operations tests: free ports, local HTTP, notify sockets."""

from __future__ import annotations

import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    """(status, body) of a GET on this machine; (0, reason) when nothing answers."""
    try:
        with _DIRECT.open(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error)


def http_head(url: str, timeout: float = 5) -> tuple[int, str]:
    """(status, body) of a HEAD on this machine: the body should be empty."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        with _DIRECT.open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


@contextmanager
def notify_socket() -> Iterator[tuple[str, socket.socket]]:
    """An abstract-namespace datagram socket, as systemd's ``NOTIFY_SOCKET`` names it."""
    name = f"feedamp-sync-test-{secrets.token_hex(8)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(f"\0{name}")
        yield f"@{name}", sock


def receive(sock: socket.socket, seconds: float) -> list[str]:
    """Every datagram that arrives within ``seconds``."""
    messages: list[str] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return messages


def receive_until(sock: socket.socket, wanted: str, seconds: float) -> list[str]:
    """Datagrams up to and including ``wanted``, or all that came within ``seconds``."""
    messages: list[str] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            break
        if messages[-1] == wanted:
            break
    return messages
