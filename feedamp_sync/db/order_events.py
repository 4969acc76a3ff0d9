"""Order events: each change of an order's ``state`` or ``marketplace_state``, from → to.

Written in the transaction that stores the new copy of the order (a poll, a refresh or an
operator's fetch), so the event and the change it records are committed together or not at
all. Read for ``orders show``'s timeline and ``orders list --changed-since``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from feedamp_sync.db import tables as t
from feedamp_sync.order_states import Change


def record_changes(
    conn: Connection,
    *,
    order_row_id: int,
    account: str,
    feedamp_id: str,
    found: Sequence[Change],
    at: datetime,
    source: str,
) -> None:
    if not found:
        return
    conn.execute(
        t.order_events.insert(),
        [
            {
                "order_id": order_row_id,
                "account": account,
                "feedamp_id": feedamp_id,
                "at": at,
                "field": change.field,
                "from_value": change.from_value,
                "to_value": change.to_value,
                "source": source,
            }
            for change in found
        ],
    )


def events_of(conn: Connection, order_row_id: int) -> list[dict[str, Any]]:
    """An order's events, oldest first."""
    rows = conn.execute(
        select(
            t.order_events.c.at,
            t.order_events.c.field,
            t.order_events.c.from_value,
            t.order_events.c.to_value,
            t.order_events.c.source,
        )
        .where(t.order_events.c.order_id == order_row_id)
        .order_by(t.order_events.c.id)
    )
    return [dict(row._mapping) for row in rows]
