"""Seller actions for the push scenarios, inserted the way a seller's ERP does: plain SQL.

Only the four documented columns are written, so each row is checked, numbered and planned
when the daemon claims it (``outbox/prepare.py``), exactly as a row from another system.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import func, literal, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import create_engine_for

Action = tuple[str, dict[str, Any]]
"""(FeedAMP order id, fulfill body)."""


def shipment(order_id: str, mp_line_number: str) -> dict[str, Any]:
    """One unit of one line shipped: the smallest valid fulfillment."""
    return {
        "order_lines": [
            {
                "mp_line_number": mp_line_number,
                "fulfillments": [
                    {
                        "quantity_shipped": 1,
                        "shipped_date": "2026-05-01T14:30:00+00:00",
                        "carrier": "UPS",
                        "tracking_number": f"1ZBENCH{order_id}",
                    }
                ],
            }
        ]
    }


class Database:
    """The benchmark's own connection to the daemon's database (one, outside the daemon)."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine_for(url, pool_size=1)

    def shipments(self, count: int) -> list[Action]:
        """A shipment of the first line of each of the first ``count`` stored orders."""
        first_line = (
            select(t.order_lines.c.order_id, func.min(t.order_lines.c.id).label("line_id"))
            .group_by(t.order_lines.c.order_id)
            .subquery()
        )
        query = (
            select(t.orders.c.feedamp_id, t.order_lines.c.mp_line_number)
            .join(first_line, first_line.c.order_id == t.orders.c.id)
            .join(t.order_lines, t.order_lines.c.id == first_line.c.line_id)
            .order_by(t.orders.c.id)
            .limit(count)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(row.feedamp_id, shipment(row.feedamp_id, row.mp_line_number)) for row in rows]

    def insert(self, actions: Sequence[Action]) -> datetime:
        """Insert every action in one transaction; returns when it committed (UTC)."""
        with self._engine.begin() as conn:
            conn.execute(
                t.outbox.insert(),
                [
                    {"account": "main", "kind": "fulfillment", "target_id": order, "payload": body}
                    for order, body in actions
                ],
            )
        return datetime.now(UTC)

    def old_sent(self, count: int, sent_at: datetime, *, chunk: int = 10_000) -> None:
        """``count`` confirms sent at ``sent_at``, each with its one attempt (the request as
        sent), as retention finds them after months of running: bulk inserts, in chunks."""
        box = t.outbox.c
        for start in range(0, count, chunk):
            rows = [
                {
                    "account": "main",
                    "kind": "confirm",
                    "target_id": f"old-{n}",
                    "payload": {"cp_order_number": f"FA{n:09d}"},
                    "status": "sent",
                    "attempts": 1,
                    "created_at": sent_at,
                    "next_attempt_at": sent_at,
                    "sent_at": sent_at,
                    "unique_key": f"confirm:main:old-{n}",
                    "response": {"order": {"id": f"old-{n}", "cp_order_number": f"FA{n:09d}"}},
                }
                for n in range(start, min(count, start + chunk))
            ]
            with self._engine.begin() as conn:
                conn.execute(t.outbox.insert(), rows)
        columns = ["message_id", "attempt", "finished_at", "outcome", "status_code", "request"]
        attempts = select(
            box.id, literal(1), box.sent_at, literal("sent"), literal(200), box.payload
        ).where(box.target_id.like("old-%"))
        with self._engine.begin() as conn:
            conn.execute(t.outbox_attempts.insert().from_select(columns, attempts))

    def sent_at(self, target_id: str) -> datetime | None:
        """When the fulfillment of an order was sent; None while it is not."""
        with self._engine.connect() as conn:
            sent: datetime | None = conn.scalar(
                select(t.outbox.c.sent_at).where(
                    t.outbox.c.kind == "fulfillment",
                    t.outbox.c.target_id == target_id,
                    t.outbox.c.status == "sent",
                )
            )
        return sent

    def statuses(self, kind: str) -> dict[str, int]:
        """Outbox messages of one kind, by status."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t.outbox.c.status, func.count())
                .where(t.outbox.c.kind == kind)
                .group_by(t.outbox.c.status)
            ).all()
        return {str(row[0]): int(row[1]) for row in rows}

    def stored(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(t.orders)) or 0)

    def confirmed(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.scalar(select(func.count(t.orders.c.confirmed_at))) or 0)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
