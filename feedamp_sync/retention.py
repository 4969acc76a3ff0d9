"""Retention: which finished rows are removed, and when (pure decisions).

Each table retention prunes is one :class:`Prunable` in :func:`prunable`: the statuses whose
rows may go and the time column that dates each, the rows of other tables that go with them,
and, for rows that later rows build on, the subject whose rows go only together. Nothing else
is ever pruned: an outbox message ``pending``, ``in_flight`` or ``dead`` has no dating column,
so it is kept whatever its age, and orders and returns (the seller's data) have no entry.

A ``cancelled`` message is dated by ``next_attempt_at``, the time it was last due: the table
has no column for the moment of the cancel, so ``outbox cancel`` sets ``next_attempt_at`` to
that moment (a cancelled message is never due again).

A fulfillment builds on the earlier fulfillments of its order: the quantity check at enqueue
counts them, and when GET order shows no fulfillment data they are the set PUT, which FeedAMP
takes as the order's whole set, so a shipment missing from it is erased. An order's
fulfillment messages therefore go only together, once none of them is unfinished or younger
than the cut-off, and only once the order itself is settled: final (``final_at``, set when
the daemon first reads it fulfilled, cancelled or complete) since before the cut-off. An
order that is open, or not stored, keeps its whole history whatever its age, since a later
shipment may still be sent for it.

The event log has no status: every event goes once ``occurred_at`` is before the cut-off (a
consumer that has not read it by then, ``keep_days`` later, has lost it; the README says so).

A quarantine entry goes once it was resolved before the cut-off; an open one (no
``resolved_at``) is kept however old, as a ``dead`` message is.

The SQL that applies these declarations is ``db/retention.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

OUTBOX: Final = "feedamp_outbox"
OUTBOX_ATTEMPTS: Final = "feedamp_outbox_attempts"
EVENTS: Final = "feedamp_events"
QUARANTINE: Final = "feedamp_quarantine"
ORDERS: Final = "feedamp_orders"
EVERY_ROW: Final = "all"
"""How ``status`` names the rows of a table without statuses, all dated by one column."""


@dataclass(frozen=True)
class Aged:
    """The rows in ``status`` (every row when None: a table without statuses) go once
    ``column`` (a UTC time) is before the cut-off."""

    status: str | None
    column: str

    @property
    def label(self) -> str:
        """The rows' name in ``status``: their status, or ``all``."""
        return EVERY_ROW if self.status is None else self.status


@dataclass(frozen=True)
class Dependent:
    """Rows of ``table`` whose ``column`` names a pruned row's id: they go with it."""

    table: str
    column: str


@dataclass(frozen=True)
class Settled:
    """A subject is settled once its row in ``table`` has ``column`` (a UTC time, NULL while
    the subject is open) set. The row is found by ``keys``: pairs of a subject column and the
    ``table`` column that holds the same value, the subject's last column among them."""

    table: str
    column: str
    keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class History:
    """Rows whose ``column`` is one of ``values`` are a subject's history (the rows sharing
    the ``subject`` columns): they go together or not at all, and, with ``settled``, only
    once the subject was settled before the cut-off."""

    column: str
    values: frozenset[str]
    subject: tuple[str, ...]
    settled: Settled | None = None


@dataclass(frozen=True)
class Prunable:
    """One table retention prunes: rows found by ``aged``, by primary key ``id``."""

    table: str
    aged: tuple[Aged, ...]
    inserted: str
    """The column set when a row is inserted; every dating column is at or after it."""
    dependents: tuple[Dependent, ...] = ()
    history: History | None = None

    @property
    def has_status(self) -> bool:
        """Whether the table's rows are pruned by their ``status`` column."""
        return any(a.status is not None for a in self.aged)

    def dated_by(self, status: str | None) -> str | None:
        """The column that dates a row in ``status``; None for a status never pruned."""
        return next((a.column for a in self.aged if a.status == status), None)

    def may_go(self, row: Mapping[str, Any], cutoff: datetime) -> bool:
        """Whether one row (its ``status``, if the table has one, and dating columns) is past
        the cut-off."""
        column = self.dated_by(row["status"] if self.has_status else None)
        if column is None:
            return False
        dated: datetime | None = row[column]
        return dated is not None and dated < cutoff

    def history_may_go(
        self,
        rows: Iterable[Mapping[str, Any]],
        cutoff: datetime,
        settled_at: datetime | None = None,
    ) -> bool:
        """Whether a subject's history may go: every one of its rows is past the cut-off and,
        for a history that waits for its subject, the subject settled (``settled_at``, None
        while it is open or not found) before the cut-off too."""
        waits = self.history is not None and self.history.settled is not None
        if waits and (settled_at is None or settled_at >= cutoff):
            return False
        return all(self.may_go(row, cutoff) for row in rows)


def prunable(history_kinds: Collection[str]) -> tuple[Prunable, ...]:
    """Every table retention prunes. ``history_kinds``: the outbox kinds whose messages later
    messages of the same target build on (``Kind.builds_on_earlier``), all about orders (a
    fulfillment's target is the order's FeedAMP id)."""
    return (
        Prunable(
            OUTBOX,
            aged=(Aged("sent", "sent_at"), Aged("cancelled", "next_attempt_at")),
            inserted="created_at",
            dependents=(Dependent(OUTBOX_ATTEMPTS, "message_id"),),
            history=History(
                "kind",
                frozenset(history_kinds),
                ("account", "kind", "target_id"),
                settled=Settled(
                    ORDERS, "final_at", (("account", "account"), ("target_id", "feedamp_id"))
                ),
            ),
        ),
        Prunable(EVENTS, aged=(Aged(None, "occurred_at"),), inserted="occurred_at"),
        Prunable(QUARANTINE, aged=(Aged(None, "resolved_at"),), inserted="first_seen_at"),
    )


def cutoff(now: datetime, keep_days: int) -> datetime:
    """Rows dated before this are past retention."""
    return now - timedelta(days=keep_days)


@dataclass
class Pruned:
    """What one pass removed, per table, and how its batches went."""

    cutoff: datetime
    deleted: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    longest_batch_seconds: float = 0.0
    """The longest batch transaction: the longest the pass held any row lock."""
    complete: bool = True
    """False when a stop ended the pass between batches."""

    def count(self, table: str, deleted: int) -> None:
        self.deleted[table] = self.deleted.get(table, 0) + deleted

    def batch_took(self, seconds: float) -> None:
        self.batches += 1
        self.longest_batch_seconds = max(self.longest_batch_seconds, seconds)

    def fields(self) -> dict[str, Any]:
        """The pass as log fields and JSON (times as ISO 8601 text)."""
        return {
            "cutoff": self.cutoff.isoformat(),
            "deleted": dict(self.deleted),
            "batches": self.batches,
            "longest_batch_seconds": round(self.longest_batch_seconds, 3),
            "complete": self.complete,
        }
