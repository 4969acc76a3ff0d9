"""sd_notify datagrams reach a real unix socket, by path or in the abstract namespace."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedamp_sync.ops.sdnotify import notify


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        yield sock


def test_a_message_reaches_a_socket_path(receiver: socket.socket, tmp_path: Path) -> None:
    """NOTIFY_SOCKET as a file system path."""
    path = tmp_path / "notify"
    receiver.bind(str(path))
    assert notify("READY=1", {"NOTIFY_SOCKET": str(path)}) is True
    assert receiver.recv(4096) == b"READY=1"


def test_a_message_reaches_an_abstract_socket(receiver: socket.socket) -> None:
    """NOTIFY_SOCKET starting with @ names the abstract namespace."""
    name = f"feedamp-sync-test-{secrets.token_hex(6)}"
    receiver.bind(f"\0{name}")
    assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": f"@{name}"}) is True
    assert receiver.recv(4096) == b"WATCHDOG=1"


def test_a_vanished_socket_is_reported_not_raised(tmp_path: Path) -> None:
    """A send that fails returns False; the daemon goes on."""
    assert notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False
