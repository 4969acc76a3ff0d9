"""The outbox backlog as metrics see it, in queries cheap enough to run at every scrape.

Only the unfinished statuses are counted (``pending``, ``in_flight``, ``dead``): they are
few and the ``status`` index finds them, while ``sent`` rows only ever grow; the daemon
counts what it sends as it sends it (``feedamp_sync_outbox_results_total``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Engine, func, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import raises_database_error

UNFINISHED: Final = ("pending", "in_flight", "dead")


@dataclass(frozen=True)
class Backlog:
    counts: dict[tuple[str, str], int]
    """Messages per (kind, status), unfinished statuses only; every known kind is present
    (with 0), so an alert on a kind never sees its series vanish."""
    oldest_pending_at: datetime | None
    """``created_at`` of the oldest pending message, None when nothing is pending."""


class BacklogStore:
    """``kinds`` are every kind the daemon knows, counted even when none is waiting."""

    def __init__(self, engine: Engine, kinds: Sequence[str]) -> None:
        self._engine = engine
        self._kinds = tuple(kinds)

    @raises_database_error
    def backlog(self) -> Backlog:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t.outbox.c.kind, t.outbox.c.status, func.count())
                .where(t.outbox.c.status.in_(UNFINISHED))
                .group_by(t.outbox.c.kind, t.outbox.c.status)
            ).all()
            oldest = conn.scalar(
                select(func.min(t.outbox.c.created_at)).where(t.outbox.c.status == "pending")
            )
        counts = {(kind, status): 0 for kind in self._kinds for status in UNFINISHED}
        counts.update({(row[0], row[1]): row[2] for row in rows})
        return Backlog(counts, oldest)
