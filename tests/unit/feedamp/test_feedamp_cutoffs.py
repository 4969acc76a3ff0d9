"""An answer's cutoff is stopped before its connection goes back to the pool."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx

from feedamp_sync.feedamp import transport


class RecordingStream(httpx.SyncByteStream):
    """A body whose close records whether its cutoff was still watched then."""

    def __init__(self, cutoff: transport._Cutoff) -> None:
        self.cutoff = cutoff
        self.watched_at_close: bool | None = None

    def __iter__(self) -> Iterator[bytes]:
        yield b"done"

    def close(self) -> None:
        self.watched_at_close = self.cutoff in transport._CUTOFFS._watched


def test_a_read_answer_stops_its_cutoff_before_its_connection_is_handed_back() -> None:
    """httpx hands the connection back when the stream closes after its last chunk; a cutoff
    still watched then could shut a connection another request has taken from the pool."""
    left, right = socket.socketpair()
    try:
        cutoff = transport._CUTOFFS.watch(time.monotonic() + 60, left)
        body = RecordingStream(cutoff)
        response = httpx.Response(200, stream=transport._ReleasedFirst(body, cutoff))

        assert response.read() == b"done"

        assert body.watched_at_close is False
        assert not cutoff.fired
    finally:
        left.close()
        right.close()
