"""The quarantine table: objects FeedAMP sent that could not be stored, and their fate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, func, select, update

from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage, raises_database_error
from feedamp_sync.db.transactions import in_transaction
from feedamp_sync.quarantine import Held
from feedamp_sync.storable import storable_text

CURSOR_MAX_CHARS: Final = 255


class QuarantineStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @database_error_on_outage()
    def settle(
        self,
        account: str,
        kind: str,
        held: Sequence[Held],
        *,
        stored_ids: Sequence[str],
        page_cursor: str | None,
        now: datetime,
    ) -> None:
        """Record a page's held objects (one entry each, however often seen) and resolve the
        open entries of the objects the same page stored."""

        def record(conn: Connection) -> None:
            if held:
                _hold(conn, account, kind, held, page_cursor, now)
            if stored_ids:
                _resolve(conn, account, kind, stored_ids, now)

        if held or stored_ids:
            in_transaction(self._engine, record)

    @raises_database_error
    def open_counts(self) -> dict[str, int]:
        """Unresolved entries by kind (``order``, ``return``), zero included."""
        q = t.quarantine.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(q.kind, func.count()).where(q.resolved_at.is_(None)).group_by(q.kind)
            ).all()
        return {"order": 0, "return": 0} | {row[0]: row[1] for row in rows}

    def entries(
        self, *, account: str | None = None, resolved: bool = False, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The most recently seen entries, open ones only unless ``resolved``; no raw text."""
        q = t.quarantine.c
        query = (
            select(*(c for c in t.quarantine.c if c.key != "raw"))
            .order_by(q.last_seen_at.desc(), q.id.desc())
            .limit(limit)
        )
        if account is not None:
            query = query.where(q.account == account)
        if not resolved:
            query = query.where(q.resolved_at.is_(None))
        with self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        """One entry with its raw text."""
        with self._engine.connect() as conn:
            row = conn.execute(select(t.quarantine).where(t.quarantine.c.id == entry_id)).first()
        return None if row is None else dict(row._mapping)


def _hold(
    conn: Connection,
    account: str,
    kind: str,
    held: Sequence[Held],
    page_cursor: str | None,
    now: datetime,
) -> None:
    q = t.quarantine.c
    by_fingerprint = {h.fingerprint: h for h in held}
    known = set(
        conn.scalars(
            select(q.fingerprint).where(
                q.account == account,
                q.kind == kind,
                q.fingerprint.in_(sorted(by_fingerprint)),
            )
        )
    )
    cursor = None if page_cursor is None else storable_text(page_cursor)[:CURSOR_MAX_CHARS]
    for fingerprint in sorted(known):
        conn.execute(
            update(t.quarantine)
            .where(q.account == account, q.kind == kind, q.fingerprint == fingerprint)
            .values(
                last_seen_at=now,
                times_seen=q.times_seen + 1,
                resolved_at=None,
                page_cursor=cursor,
                reason=by_fingerprint[fingerprint].reason,
            )
        )
    fresh = [h for f, h in by_fingerprint.items() if f not in known]
    if fresh:
        conn.execute(
            t.quarantine.insert(),
            [
                {
                    "account": account,
                    "kind": kind,
                    "feedamp_id": h.feedamp_id,
                    "fingerprint": h.fingerprint,
                    "reason": h.reason,
                    "raw": h.raw,
                    "page_cursor": cursor,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for h in fresh
            ],
        )


def _resolve(
    conn: Connection, account: str, kind: str, stored_ids: Sequence[str], now: datetime
) -> None:
    q = t.quarantine.c
    conn.execute(
        update(t.quarantine)
        .where(
            q.account == account,
            q.kind == kind,
            q.feedamp_id.in_(sorted(set(stored_ids))),
            q.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )
