"""The ledger: one entry per API request, with the effect it had, for tests to assert on.

Tests prove the daemon's guarantees ("each order confirmed once, with one number", "no second
refund after a timeout") by reading what the server actually did, not what the client believed.
An entry is written before the response's first byte (or before a dropped connection closes),
so once a client has seen the outcome, the entry is there to read.

Control requests (``/_sandbox/...``) are not API traffic and are not recorded.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from feedamp_sync.sandbox.wire import JSON


@dataclass(frozen=True)
class LedgerEntry:
    """One API request and its outcome.

    ``status`` is None when the connection was dropped without a response; ``fault`` names
    the injected fault (``drop``, ``error_5xx``, ``rate_limited``, ``slow``,
    ``apply_then_fail``, ``token_expiry``) or is None; ``effect`` describes the change made,
    e.g. ``{"kind": "confirm", "order_id": "12", "cp_order_number": "FA00000001"}``.
    """

    seq: int
    at: float
    method: str
    path: str
    query: str
    endpoint: str
    status: int | None
    fault: str | None
    naive_timestamp: bool
    effect: dict[str, Any] | None

    def to_json(self) -> JSON:
        return asdict(self)


class Ledger:
    """Thread-safe, append-only; sequence numbers follow arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._arrived = 0
        self._entries: list[LedgerEntry] = []

    def next_seq(self) -> int:
        """Reserve the sequence number of a request that has just arrived."""
        with self._lock:
            self._arrived += 1
            return next(self._seq)

    def in_progress(self) -> int:
        """Requests that have arrived and have no entry yet (a ``slow`` one while it waits)."""
        with self._lock:
            return self._arrived - len(self._entries)

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, endpoint: str | None = None) -> list[LedgerEntry]:
        """Finished requests in arrival order, optionally of one endpoint only."""
        with self._lock:
            chosen = [e for e in self._entries if endpoint is None or e.endpoint == endpoint]
        return sorted(chosen, key=lambda entry: entry.seq)

    def effects(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The effects (copies) in arrival order, optionally of one kind only."""
        return [
            copy.deepcopy(e.effect)
            for e in self.entries()
            if e.effect is not None and (kind is None or e.effect["kind"] == kind)
        ]

    def counts(self) -> JSON:
        """Requests by endpoint, by status and by fault, for the summary."""
        entries = self.entries()
        return {
            "requests": len(entries),
            "by_endpoint": dict(Counter(e.endpoint for e in entries)),
            "by_status": {
                str(status): n
                for status, n in Counter(
                    "dropped" if e.status is None else e.status for e in entries
                ).items()
            },
            "by_fault": dict(Counter(e.fault for e in entries if e.fault is not None)),
            "effects": dict(Counter(e.effect["kind"] for e in entries if e.effect is not None)),
        }
