"""Returns and their lines: the returns poller's writes and the CLI's reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Final

from sqlalchemy import Connection, Engine, bindparam, case, func, select, update

from feedamp_sync.core.events import Event, return_changed, return_stored
from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage
from feedamp_sync.db.events import write_events
from feedamp_sync.db.isolation import save_isolated
from feedamp_sync.db.transactions import in_transaction
from feedamp_sync.model import ReturnLineRecord, ReturnRecord

CLOSED_RETURN_STATES: Final = ("Merchant Refunded", "Merchant Rejected", "Customer Cancelled")


@dataclass(frozen=True)
class ReturnsSaved:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    state_changes: int = 0
    """Returns already stored whose state differs from the stored one."""
    refused: tuple[tuple[ReturnRecord, str], ...] = ()
    """Returns the database refused (see ``db/isolation``), with its reason: not stored."""

    @classmethod
    def of(cls, parts: list[ReturnsSaved], refused: list[tuple[ReturnRecord, str]]) -> ReturnsSaved:
        return cls(
            sum(p.new for p in parts),
            sum(p.changed for p in parts),
            sum(p.unchanged for p in parts),
            sum(p.state_changes for p in parts),
            tuple(refused),
        )


class ReturnStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @database_error_on_outage()
    def save_page(
        self, account: str, records: Sequence[ReturnRecord], *, now: datetime
    ) -> ReturnsSaved:
        """Upsert one page of returns with their lines in one transaction (run again if the
        database aborts it as a deadlock victim).

        ``state_changed_at`` is set when a return is first stored and whenever its state
        differs from the stored one; ``updated_at`` whenever the object differs at all;
        ``last_seen_at`` on every sight. A new return's ``return.stored`` event and a changed
        state's ``return.changed`` are written in the same transaction. Should the database
        refuse the page for one return's
        data, the others are stored one by one and that return comes back in ``refused``.
        """
        return ReturnsSaved.of(*save_isolated(partial(self._save_all, account, now=now), records))

    def _save_all(
        self, account: str, records: Sequence[ReturnRecord], *, now: datetime
    ) -> ReturnsSaved:
        by_id = {r.feedamp_id: r for r in records}  # a page repeating a return counts once

        def save(conn: Connection) -> ReturnsSaved:
            existing = _existing(conn, account, list(by_id))
            fresh = [r for fid, r in by_id.items() if fid not in existing]
            seen = [r for fid, r in by_id.items() if fid in existing]
            events = _insert_new(conn, account, fresh, now)
            changed, state_changes = _refresh_seen(conn, account, existing, seen, now, events)
            write_events(conn, events)
            return ReturnsSaved(len(fresh), changed, len(seen) - changed, state_changes)

        return in_transaction(self._engine, save)

    def counts(self) -> dict[str, int]:
        closed = case((t.returns.c.state.in_(CLOSED_RETURN_STATES), 1), else_=0)
        with self._engine.connect() as conn:
            total, closed_count = conn.execute(
                select(func.count(), func.coalesce(func.sum(closed), 0))
            ).one()
        return {"total": int(total), "open": int(total) - int(closed_count)}

    def recent(
        self,
        *,
        account: str | None = None,
        state: str | None = None,
        open_only: bool = False,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """The most recently stored returns (newest first), optionally filtered."""
        query = select(*_SUMMARY_COLUMNS).order_by(t.returns.c.id.desc()).limit(limit)
        if account is not None:
            query = query.where(t.returns.c.account == account)
        if state is not None:
            query = query.where(t.returns.c.state == state)
        if open_only:
            # A return whose state is unknown (NULL) is not known to be closed.
            query = query.where(
                t.returns.c.state.is_(None) | t.returns.c.state.not_in(CLOSED_RETURN_STATES)
            )
        with self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def get(self, feedamp_id: str, account: str | None = None) -> dict[str, Any] | None:
        """One stored return with its lines and the full object as received."""
        query = select(
            *_SUMMARY_COLUMNS,
            t.returns.c.first_seen_at,
            t.returns.c.last_seen_at,
            t.returns.c.updated_at,
            t.returns.c.data,
        ).where(t.returns.c.feedamp_id == feedamp_id)
        if account is not None:
            query = query.where(t.returns.c.account == account)
        with self._engine.connect() as conn:
            row = conn.execute(query.order_by(t.returns.c.id).limit(1)).first()
            if row is None:
                return None
            lines = conn.execute(
                select(t.return_lines)
                .where(t.return_lines.c.return_id == row.id)
                .order_by(t.return_lines.c.id)
            )
            return {
                **row._mapping,
                "lines": [
                    {k: v for k, v in line._mapping.items() if k not in ("id", "return_id")}
                    for line in lines
                ],
            }


_SUMMARY_COLUMNS: Final = (
    t.returns.c.id,
    t.returns.c.account,
    t.returns.c.feedamp_id,
    t.returns.c.order_feedamp_id,
    t.returns.c.mp_return_number,
    t.returns.c.mp_order_number,
    t.returns.c.merchant_return_number,
    t.returns.c.state,
    t.returns.c.request_date,
    t.returns.c.respond_by_date,
    t.returns.c.state_changed_at,
)


def _existing(conn: Connection, account: str, feedamp_ids: list[str]) -> dict[str, Any]:
    if not feedamp_ids:
        return {}
    rows = conn.execute(
        select(t.returns.c.feedamp_id, t.returns.c.id, t.returns.c.state, t.returns.c.data).where(
            t.returns.c.account == account, t.returns.c.feedamp_id.in_(feedamp_ids)
        )
    )
    return {row.feedamp_id: row for row in rows}


def _insert_new(
    conn: Connection, account: str, fresh: list[ReturnRecord], now: datetime
) -> list[Event]:
    """Insert new returns with their lines; returns their ``return.stored`` events."""
    if not fresh:
        return []
    conn.execute(
        t.returns.insert(),
        [
            {
                **_return_columns(r),
                "account": account,
                "state_changed_at": now,
                "first_seen_at": now,
                "last_seen_at": now,
                "updated_at": now,
            }
            for r in fresh
        ],
    )
    inserted = _existing(conn, account, [r.feedamp_id for r in fresh])
    rows = [_line_columns(inserted[r.feedamp_id].id, line) for r in fresh for line in r.lines]
    if rows:
        conn.execute(t.return_lines.insert(), rows)
    return [
        return_stored(
            account,
            r.feedamp_id,
            order_feedamp_id=r.order_feedamp_id,
            mp_return_number=r.mp_return_number,
            mp_order_number=r.mp_order_number,
            state=r.state,
            at=now,
        )
        for r in fresh
    ]


def _refresh_seen(
    conn: Connection,
    account: str,
    existing: dict[str, Any],
    seen: list[ReturnRecord],
    now: datetime,
    events: list[Event],
) -> tuple[int, int]:
    """Touch every seen return; rewrite those that changed, adding a ``return.changed`` to
    ``events`` for each whose state changed. Returns (changed, state changes)."""
    if not seen:
        return 0, 0
    seen = sorted(seen, key=lambda r: existing[r.feedamp_id].id)  # one lock order everywhere
    conn.execute(
        update(t.returns).where(t.returns.c.id == bindparam("row_id")).values(last_seen_at=now),
        [{"row_id": existing[r.feedamp_id].id} for r in seen],
    )
    changed = [r for r in seen if existing[r.feedamp_id].data != r.data]
    state_changes = 0
    for record in changed:
        stored = existing[record.feedamp_id]
        values = {**_return_columns(record), "updated_at": now}
        if stored.state != record.state:
            values["state_changed_at"] = now
            state_changes += 1
            events.append(
                return_changed(
                    account,
                    record.feedamp_id,
                    order_feedamp_id=record.order_feedamp_id,
                    mp_return_number=record.mp_return_number,
                    state_from=stored.state,
                    state_to=record.state,
                    at=now,
                )
            )
        conn.execute(update(t.returns).where(t.returns.c.id == stored.id).values(**values))
        _upsert_lines(conn, stored.id, record.lines)
    return len(changed), state_changes


def _return_columns(record: ReturnRecord) -> dict[str, Any]:
    return {
        "feedamp_id": record.feedamp_id,
        "order_feedamp_id": record.order_feedamp_id,
        "mp_return_number": record.mp_return_number,
        "mp_order_number": record.mp_order_number,
        "merchant_return_number": record.merchant_return_number,
        "state": record.state,
        "request_date": record.request_date,
        "respond_by_date": record.respond_by_date,
        "data": record.data,
    }


def _line_columns(return_row_id: int, line: ReturnLineRecord) -> dict[str, Any]:
    return {
        "return_id": return_row_id,
        "mp_return_line_number": line.mp_return_line_number,
        "feedamp_return_line_id": line.feedamp_return_line_id,
        "mp_order_line_number": line.mp_order_line_number,
        "sku": line.sku,
        "product_name": line.product_name,
        "quantity": line.quantity,
        "reason": line.reason,
        "data": line.data,
    }


def _upsert_lines(conn: Connection, return_row_id: int, lines: list[ReturnLineRecord]) -> None:
    """Update lines in place by ``mp_return_line_number`` (row ids stay stable), add new ones.

    A line FeedAMP no longer lists is kept: outbox messages may name it, and the return's
    JSON shows what FeedAMP sends now.
    """
    known = set(
        conn.scalars(
            select(t.return_lines.c.mp_return_line_number).where(
                t.return_lines.c.return_id == return_row_id
            )
        )
    )
    for line in lines:
        columns = _line_columns(return_row_id, line)
        if line.mp_return_line_number in known:
            conn.execute(
                update(t.return_lines)
                .where(
                    t.return_lines.c.return_id == return_row_id,
                    t.return_lines.c.mp_return_line_number == line.mp_return_line_number,
                )
                .values(**columns)
            )
        else:
            conn.execute(t.return_lines.insert().values(**columns))
