"""Orders and their lines: the order poller's writes and the CLI's reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, bindparam, func, or_, select, update

from feedamp_sync.core.attempts import CONFIRM_KIND
from feedamp_sync.core.events import Event, order_changed, order_stored
from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage, raises_database_error
from feedamp_sync.db.events import write_events
from feedamp_sync.db.isolation import save_isolated
from feedamp_sync.db.order_events import record_changes
from feedamp_sync.db.transactions import in_transaction
from feedamp_sync.model import OrderLineRecord, OrderRecord
from feedamp_sync.order_states import (
    CANCELLED_SPELLINGS,
    Change,
    changes,
    is_final,
)
from feedamp_sync.policy import UNCONFIRMED_ORDER_STATES, disambiguated

NumberFor = Callable[[int, OrderRecord], str]
"""Renders the ``cp_order_number`` of a new order from its local row id and its record."""


@dataclass(frozen=True)
class PageSaved:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    confirms_enqueued: int = 0
    refused: tuple[tuple[OrderRecord, str], ...] = ()
    """Orders the database refused (see ``db/isolation``), with its reason: not stored."""

    @classmethod
    def of(cls, parts: list[PageSaved], refused: list[tuple[OrderRecord, str]]) -> PageSaved:
        return cls(
            sum(p.new for p in parts),
            sum(p.changed for p in parts),
            sum(p.unchanged for p in parts),
            sum(p.confirms_enqueued for p in parts),
            tuple(refused),
        )


def confirm_key(account: str, feedamp_id: str) -> str:
    """The outbox ``unique_key`` that allows one confirm message per order."""
    return f"{CONFIRM_KIND}:{account}:{feedamp_id}"


class OrderStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @database_error_on_outage()
    def save_page(
        self,
        account: str,
        records: Sequence[OrderRecord],
        *,
        now: datetime,
        number_for: NumberFor,
        confirm: bool,
    ) -> PageSaved:
        """Store one page of new orders in one transaction.

        A new order gets its ``cp_order_number``, its confirm message and its
        ``order.stored`` event in the same transaction that stores it (a changed one its
        ``order.changed``), so a crash leaves either all or none. Should the
        database refuse the page for one order's data, the others are stored one by one and
        that order comes back in ``refused``.
        """
        save = partial(self._save_all, account, now=now, number_for=number_for, confirm=confirm)
        return PageSaved.of(*save_isolated(save, records))

    def _save_all(
        self,
        account: str,
        records: Sequence[OrderRecord],
        *,
        now: datetime,
        number_for: NumberFor,
        confirm: bool,
    ) -> PageSaved:
        by_id = {r.feedamp_id: r for r in records}  # a page repeating an order counts once

        def save(conn: Connection) -> PageSaved:
            existing = self._existing(conn, account, list(by_id))
            fresh = [r for fid, r in by_id.items() if fid not in existing]
            seen = [r for fid, r in by_id.items() if fid in existing]
            events: list[Event] = []
            new_ids, numbers = self._insert_new(conn, account, fresh, now, number_for)
            events += [
                _stored_event(account, r, numbers[new_ids[r.feedamp_id].id], now) for r in fresh
            ]
            changed = self._refresh_seen(conn, account, existing, seen, now, events)
            enqueued = 0
            if confirm:
                enqueued = self._enqueue_confirms(conn, account, {**existing, **new_ids})
            write_events(conn, events)
            return PageSaved(len(fresh), changed, len(seen) - changed, enqueued)

        return in_transaction(self._engine, save)

    @staticmethod
    def _existing(conn: Connection, account: str, feedamp_ids: list[str]) -> dict[str, Any]:
        if not feedamp_ids:
            return {}
        rows = conn.execute(
            select(
                t.orders.c.feedamp_id,
                t.orders.c.id,
                t.orders.c.data,
                t.orders.c.state,
                t.orders.c.marketplace_state,
            ).where(t.orders.c.account == account, t.orders.c.feedamp_id.in_(feedamp_ids))
        )
        return {row.feedamp_id: row for row in rows}

    def _insert_new(
        self,
        conn: Connection,
        account: str,
        fresh: list[OrderRecord],
        now: datetime,
        number_for: NumberFor,
    ) -> tuple[dict[str, Any], dict[int, str]]:
        """Insert new orders with their numbers and lines: their rows by FeedAMP id, and
        the number each row was given."""
        if not fresh:
            return {}, {}
        conn.execute(
            t.orders.insert(),
            [
                {
                    **_order_columns(r),
                    "account": account,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "updated_at": now,
                    "refreshed_at": now,
                    "final_at": now if is_final(r.state, r.marketplace_state) else None,
                }
                for r in fresh
            ],
        )
        # Only the new rows' ids: reading their ``data`` back would decode every order again.
        inserted = {
            row.feedamp_id: row
            for row in conn.execute(
                select(t.orders.c.feedamp_id, t.orders.c.id).where(
                    t.orders.c.account == account,
                    t.orders.c.feedamp_id.in_([r.feedamp_id for r in fresh]),
                )
            )
        }
        numbers = {
            inserted[r.feedamp_id].id: number_for(inserted[r.feedamp_id].id, r) for r in fresh
        }
        taken = set(
            conn.scalars(
                select(t.orders.c.cp_order_number).where(
                    t.orders.c.cp_order_number.in_(list(numbers.values()))
                )
            )
        )
        assigned: dict[int, str] = {}
        for row_id, number in numbers.items():
            if number in taken:
                number = disambiguated(number, row_id)
            assigned[row_id] = number
            taken.add(number)
        conn.execute(
            update(t.orders)
            .where(t.orders.c.id == bindparam("row_id"))
            .values(cp_order_number=bindparam("number")),
            [{"row_id": row_id, "number": number} for row_id, number in assigned.items()],
        )
        _insert_lines(conn, [(inserted[r.feedamp_id].id, r.lines) for r in fresh])
        return inserted, assigned

    @staticmethod
    def _refresh_seen(
        conn: Connection,
        account: str,
        existing: dict[str, Any],
        seen: list[OrderRecord],
        now: datetime,
        events: list[Event],
    ) -> int:
        if not seen:
            return 0
        seen = sorted(seen, key=lambda r: existing[r.feedamp_id].id)  # one lock order everywhere
        conn.execute(
            update(t.orders)
            .where(t.orders.c.id == bindparam("row_id"))
            .values(last_seen_at=now, refreshed_at=now),
            [{"row_id": existing[r.feedamp_id].id} for r in seen],
        )
        changed = [r for r in seen if existing[r.feedamp_id].data != r.data]
        for record in changed:
            _store_copy(conn, account, existing[record.feedamp_id], record, now, "poll", events)
        return len(changed)

    @staticmethod
    def _enqueue_confirms(conn: Connection, account: str, rows: dict[str, Any]) -> int:
        """Give every unconfirmed order of the page a confirm message, unless it has one."""
        if not rows:
            return 0
        candidates = conn.execute(
            select(t.orders.c.feedamp_id, t.orders.c.cp_order_number).where(
                t.orders.c.id.in_([row.id for row in rows.values()]),
                t.orders.c.confirmed_at.is_(None),
            )
        ).all()
        keys = {confirm_key(account, c.feedamp_id): c for c in candidates}
        if not keys:
            return 0
        present = set(
            conn.scalars(select(t.outbox.c.unique_key).where(t.outbox.c.unique_key.in_(keys)))
        )
        missing = [(key, c) for key, c in keys.items() if key not in present]
        if missing:
            conn.execute(
                t.outbox.insert(),
                [
                    {
                        "account": account,
                        "kind": CONFIRM_KIND,
                        "target_id": c.feedamp_id,
                        "payload": {"cp_order_number": c.cp_order_number},
                        "unique_key": key,
                    }
                    for key, c in missing
                ],
            )
        return len(missing)

    @database_error_on_outage()
    def due_for_refresh(
        self, account: str, *, read_before: datetime, purchased_after: datetime, limit: int
    ) -> list[str]:
        """The FeedAMP ids of the account's open orders whose copy was read before
        ``read_before``, purchased (else first stored) after ``purchased_after``: oldest
        copy first, at most ``limit``."""
        age = func.coalesce(t.orders.c.purchase_date, t.orders.c.first_seen_at)
        query = (
            select(t.orders.c.feedamp_id)
            .where(
                t.orders.c.account == account,
                t.orders.c.final_at.is_(None),
                t.orders.c.refreshed_at < read_before,
                age > purchased_after,
            )
            .order_by(t.orders.c.refreshed_at, t.orders.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return list(conn.scalars(query))

    @database_error_on_outage()
    def save_read(
        self,
        account: str,
        record: OrderRecord,
        *,
        now: datetime,
        source: str,
        number_for: NumberFor,
        confirm: bool,
    ) -> OrderRead:
        """Store one order just read from FeedAMP (a refresh, or an operator's fetch), with
        an event per changed state, in one transaction; ``refused`` if the database refuses
        its data (see ``db/isolation``).

        An order never stored before is stored as the poller stores one. It is confirmed
        (number and confirm message) only while FeedAMP still reports it unconfirmed; one
        confirmed elsewhere keeps FeedAMP's ``cp_order_number`` and is marked confirmed now.
        """

        def save(records: Sequence[OrderRecord]) -> OrderRead:
            return in_transaction(
                self._engine,
                lambda conn: self._save_read(
                    conn, account, records[0], now, source, number_for, confirm
                ),
            )

        saved, refused = save_isolated(save, [record])
        return saved[0] if saved else OrderRead(refused=refused[0][1])

    def _save_read(
        self,
        conn: Connection,
        account: str,
        record: OrderRecord,
        now: datetime,
        source: str,
        number_for: NumberFor,
        confirm: bool,
    ) -> OrderRead:
        existing = self._existing(conn, account, [record.feedamp_id])
        row = existing.get(record.feedamp_id)
        events: list[Event] = []
        if row is None:
            unconfirmed = (record.state or "").upper() in UNCONFIRMED_ORDER_STATES
            inserted, numbers = self._insert_new(conn, account, [record], now, number_for)
            row_id = inserted[record.feedamp_id].id
            number: str | None = numbers[row_id]
            if not unconfirmed:
                number = _adopt_confirmation(conn, row_id, record, now)
            events.append(_stored_event(account, record, number, now, confirmed=not unconfirmed))
            enqueued = confirm and unconfirmed and self._enqueue_confirms(conn, account, inserted)
            write_events(conn, events)
            return OrderRead(new=True, confirm_enqueued=bool(enqueued))
        conn.execute(update(t.orders).where(t.orders.c.id == row.id).values(refreshed_at=now))
        if row.data == record.data:
            return OrderRead()
        found = _store_copy(conn, account, row, record, now, source, events)
        write_events(conn, events)
        return OrderRead(changed=True, changes=tuple(found))

    @database_error_on_outage()
    def mark_read(self, account: str, feedamp_id: str, now: datetime) -> None:
        """Note that the order was asked for now although its answer could not be stored
        (FeedAMP does not know it, or sent it malformed): it goes to the back of the queue."""
        with self._engine.begin() as conn:
            conn.execute(
                update(t.orders)
                .where(t.orders.c.account == account, t.orders.c.feedamp_id == feedamp_id)
                .values(refreshed_at=now)
            )

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            total, confirmed = conn.execute(
                select(func.count(), func.count(t.orders.c.confirmed_at))
            ).one()
        return {
            "total": total,
            "confirmed": confirmed,
            "unconfirmed": total - confirmed,
            "cancelled_after_confirm": sum(self.cancelled_after_confirm().values()),
        }

    @raises_database_error
    def cancelled_after_confirm(self) -> dict[str, int]:
        """Per account, the confirmed orders FeedAMP or the marketplace now reports cancelled."""
        cancelled = or_(
            func.upper(t.orders.c.state).in_(CANCELLED_SPELLINGS),
            func.upper(t.orders.c.marketplace_state).in_(CANCELLED_SPELLINGS),
        )
        query = (
            select(t.orders.c.account, func.count())
            .where(t.orders.c.confirmed_at.is_not(None), cancelled)
            .group_by(t.orders.c.account)
        )
        with self._engine.connect() as conn:
            return {row[0]: row[1] for row in conn.execute(query)}

    def recent(
        self,
        *,
        account: str | None = None,
        confirmed: bool | None = None,
        state: str | None = None,
        changed_since: datetime | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """The newest stored orders; ``changed_since``: only those with a state change
        recorded at or after that time."""
        query = select(*_SUMMARY_COLUMNS).order_by(t.orders.c.id.desc()).limit(limit)
        filters: list[ColumnElement[bool]] = []
        if account is not None:
            filters.append(t.orders.c.account == account)
        if confirmed is not None:
            column = t.orders.c.confirmed_at
            filters.append(column.is_not(None) if confirmed else column.is_(None))
        if state is not None:
            filters.append(func.upper(t.orders.c.state) == state.upper())
        if changed_since is not None:
            changed = select(t.order_events.c.order_id).where(t.order_events.c.at >= changed_since)
            if account is not None:
                changed = changed.where(t.order_events.c.account == account)
            filters.append(t.orders.c.id.in_(changed))
        with self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query.where(*filters))]

    def get(self, feedamp_id: str, *, account: str | None = None) -> dict[str, Any] | None:
        """One stored order with its lines and the full object as received."""
        query = select(
            *_SUMMARY_COLUMNS,
            t.orders.c.first_seen_at,
            t.orders.c.last_seen_at,
            t.orders.c.updated_at,
            t.orders.c.final_at,
            t.orders.c.data,
        ).where(t.orders.c.feedamp_id == feedamp_id)
        if account is not None:
            query = query.where(t.orders.c.account == account)
        with self._engine.connect() as conn:
            row = conn.execute(query.order_by(t.orders.c.id).limit(1)).first()
            if row is None:
                return None
            order = dict(row._mapping)
            lines = conn.execute(
                select(t.order_lines)
                .where(t.order_lines.c.order_id == row.id)
                .order_by(t.order_lines.c.id)
            )
            order["lines"] = [
                {k: v for k, v in line._mapping.items() if k not in ("id", "order_id")}
                for line in lines
            ]
        return order


@dataclass(frozen=True)
class OrderRead:
    """What storing one order read from FeedAMP did."""

    new: bool = False
    changed: bool = False
    changes: tuple[Change, ...] = ()
    confirm_enqueued: bool = False
    refused: str | None = None
    """The database's reason when it refused the order's data (nothing stored)."""


def _store_copy(
    conn: Connection,
    account: str,
    row: Any,
    record: OrderRecord,
    now: datetime,
    source: str,
    events: list[Event],
) -> list[Change]:
    """Replace a stored order's copy (columns, lines, JSON) with ``record``, recording each
    change of its states (an order event each, and one ``order.changed`` added to
    ``events``); returns those changes."""
    final = is_final(record.state, record.marketplace_state)
    conn.execute(
        update(t.orders)
        .where(t.orders.c.id == row.id)
        .values(
            **_order_columns(record),
            updated_at=now,
            final_at=func.coalesce(t.orders.c.final_at, now) if final else None,
        )
    )
    _replace_lines(conn, row.id, record.lines)
    stored = {"state": row.state, "marketplace_state": row.marketplace_state}
    found = changes(stored, {"state": record.state, "marketplace_state": record.marketplace_state})
    record_changes(
        conn,
        order_row_id=row.id,
        account=account,
        feedamp_id=record.feedamp_id,
        found=found,
        at=now,
        source=source,
    )
    if found:
        events.append(
            order_changed(
                account,
                record.feedamp_id,
                state=record.state,
                marketplace_state=record.marketplace_state,
                changes=found,
                source=source,
                at=now,
            )
        )
    return found


def _stored_event(
    account: str, record: OrderRecord, number: str | None, now: datetime, *, confirmed: bool = False
) -> Event:
    return order_stored(
        account,
        record.feedamp_id,
        mp_order_number=record.mp_order_number,
        marketplace=record.marketplace,
        state=record.state,
        marketplace_state=record.marketplace_state,
        cp_order_number=number,
        confirmed=confirmed,
        at=now,
    )


def _adopt_confirmation(
    conn: Connection, row_id: int, record: OrderRecord, now: datetime
) -> str | None:
    """An order first read already confirmed (by an earlier integration) is marked confirmed
    and carries FeedAMP's number instead of one we never sent (none when FeedAMP shows none,
    or another stored order holds it already); returns the number it now carries."""
    info = record.data.get("order_info")
    held = info.get("cp_order_number") if isinstance(info, dict) else None
    number = str(held)[:128] if isinstance(held, str | int) and not isinstance(held, bool) else ""
    taken = bool(number) and bool(
        conn.scalar(
            select(func.count()).where(
                t.orders.c.cp_order_number == number, t.orders.c.id != row_id
            )
        )
    )
    kept = number if number and not taken else None
    conn.execute(
        update(t.orders)
        .where(t.orders.c.id == row_id)
        .values(confirmed_at=now, cp_order_number=kept)
    )
    return kept


_SUMMARY_COLUMNS = (
    t.orders.c.id,
    t.orders.c.account,
    t.orders.c.feedamp_id,
    t.orders.c.mp_order_number,
    t.orders.c.marketplace,
    t.orders.c.state,
    t.orders.c.marketplace_state,
    t.orders.c.purchase_date,
    t.orders.c.cp_order_number,
    t.orders.c.confirmed_at,
    t.orders.c.refreshed_at,
)


def _order_columns(record: OrderRecord) -> dict[str, Any]:
    return {
        "feedamp_id": record.feedamp_id,
        "mp_order_number": record.mp_order_number,
        "marketplace": record.marketplace,
        "state": record.state,
        "marketplace_state": record.marketplace_state,
        "purchase_date": record.purchase_date,
        "data": record.data,
    }


def _line_columns(order_row_id: int, line: OrderLineRecord) -> dict[str, Any]:
    return {
        "order_id": order_row_id,
        "mp_line_number": line.mp_line_number,
        "sku": line.sku,
        "product_name": line.product_name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "sales_tax": line.sales_tax,
        "shipping_price": line.shipping_price,
        "shipping_tax": line.shipping_tax,
        "data": line.data,
    }


def _insert_lines(conn: Connection, orders: list[tuple[int, list[OrderLineRecord]]]) -> None:
    rows = [_line_columns(row_id, line) for row_id, lines in orders for line in lines]
    if rows:
        conn.execute(t.order_lines.insert(), rows)


def _replace_lines(conn: Connection, order_row_id: int, lines: list[OrderLineRecord]) -> None:
    """Update lines in place by ``mp_line_number`` (their row ids stay stable), add new ones."""
    known = set(
        conn.scalars(
            select(t.order_lines.c.mp_line_number).where(t.order_lines.c.order_id == order_row_id)
        )
    )
    for line in lines:
        columns = _line_columns(order_row_id, line)
        if line.mp_line_number in known:
            conn.execute(
                update(t.order_lines)
                .where(
                    t.order_lines.c.order_id == order_row_id,
                    t.order_lines.c.mp_line_number == line.mp_line_number,
                )
                .values(**columns)
            )
        else:
            conn.execute(t.order_lines.insert().values(**columns))
