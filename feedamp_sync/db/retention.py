"""The SQL of retention: prune what ``feedamp_sync.retention`` declares, in small batches.

A pass walks a table by primary key in windows of ``batch_size`` rows, from the start to the
first row inserted at or after the cut-off (or the newest row, which is never pruned: an
emptied table could start its ids again on a database that forgets its counter, and
generated refund numbers carry the message id). Each window is one short transaction: its
rows are read by id alone, the ones that may go are decided in Python (a history with its
rows and, for an order's fulfillments, the order's ``final_at``), locked by id with
their age checked again (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MariaDB: a row a
worker holds is left for the next pass, and two pruners never wait for each other), and
deleted, the rows that depend on them first. The pass then rests between batches: as long
as the batch took where writers lock rows (the daemon's writes find the rows they need free
at least half the time), twice as long on SQLite, whose one writer the batch holds whole
(two thirds of it left to the daemon).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Engine, Table, and_, delete, func, or_, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage
from feedamp_sync.db.transactions import in_transaction
from feedamp_sync.retention import Aged, History, Prunable, Pruned

REST_FACTOR: Final = 1.0
"""How long a pass rests between batches, as a multiple of the batch's own time."""
SQLITE_REST_FACTOR: Final = 2.0
"""SQLite's rest: a batch there holds the database's only write lock, not a few rows."""


class RetentionStore:
    def __init__(self, engine: Engine, rules: Sequence[Prunable]) -> None:
        self._engine = engine
        self._rules = rules

    @database_error_on_outage()
    def prune(
        self,
        cutoff: datetime,
        *,
        batch_size: int,
        stop: threading.Event,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Pruned:
        """Remove every row past ``cutoff``, batch by batch, until none is left or ``stop``
        is set (checked between batches)."""
        pruned = Pruned(cutoff)
        rest = SQLITE_REST_FACTOR if self._engine.dialect.name == "sqlite" else REST_FACTOR
        for rule in self._rules:
            table = t.metadata.tables[rule.table]
            for name in (rule.table, *(d.table for d in rule.dependents)):
                pruned.count(name, 0)
            ceiling = self._ceiling(rule, table, cutoff)
            after: int | None = 0 if ceiling is not None else None
            while after is not None and ceiling is not None:
                if stop.is_set():
                    pruned.complete = False
                    return pruned
                began = monotonic()
                batch = partial(
                    _batch,
                    rule=rule,
                    table=table,
                    cutoff=cutoff,
                    after=after,
                    ceiling=ceiling,
                    limit=batch_size,
                )
                after, deleted = in_transaction(self._engine, batch)
                if after is None:
                    break
                took = monotonic() - began
                pruned.batch_took(took)
                for name, count in deleted.items():
                    pruned.count(name, count)
                stop.wait(took * rest)
        return pruned

    def _ceiling(self, rule: Prunable, table: Table, cutoff: datetime) -> int | None:
        """The first id a pass leaves alone: the newest row, or the first row inserted at or
        after the cut-off if that comes sooner (no row dated before the cut-off follows it,
        as every dating column is at or after the row's insertion; one inserted with an
        earlier time by hand is only kept longer)."""
        with self._engine.connect() as conn:
            newest: int | None = conn.scalar(select(func.max(table.c.id)))
            recent: int | None = conn.scalar(
                select(func.min(table.c.id)).where(table.c[rule.inserted] >= cutoff)
            )
        return newest if recent is None or newest is None else min(newest, recent)

    @database_error_on_outage()
    def oldest_kept(self) -> dict[str, dict[str, datetime | None]]:
        """Per table and prunable status, the date of its oldest row: the next to go."""
        oldest: dict[str, dict[str, datetime | None]] = {}
        with self._engine.connect() as conn:
            for rule in self._rules:
                table = t.metadata.tables[rule.table]
                oldest[rule.table] = {
                    aged.label: conn.scalar(
                        select(func.min(table.c[aged.column])).where(*_in_status(table, aged))
                    )
                    for aged in rule.aged
                }
        return oldest


@database_error_on_outage()
def table_sizes(engine: Engine) -> dict[str, int]:
    """The number of rows in each of the daemon's tables."""
    with engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table)) or 0
            for table in sorted(t.metadata.tables.values(), key=lambda table: table.name)
        }


def _batch(
    conn: Connection,
    rule: Prunable,
    table: Table,
    cutoff: datetime,
    after: int,
    ceiling: int,
    limit: int,
) -> tuple[int | None, dict[str, int]]:
    """Delete the prunable rows among the next ``limit`` rows by id: the last id looked at
    (None when none is left below ``ceiling``), and the rows deleted per table.

    The window is read by primary key alone, so every backend walks the table's index in
    order whatever its plan for the statuses would be; the rows that may go are then locked
    by id, skipping those another transaction holds, with their age checked again.
    """
    columns = {"id", *(a.column for a in rule.aged)} | ({"status"} if rule.has_status else set())
    if rule.history is not None:
        columns |= {rule.history.column, *rule.history.subject}
    window = conn.execute(
        select(*(table.c[c] for c in sorted(columns)))
        .where(table.c.id > after, table.c.id < ceiling)
        .order_by(table.c.id)
        .limit(limit)
    ).all()
    if not window:
        return None, {}
    rows = [dict(row._mapping) for row in window]
    candidates = [row for row in rows if rule.may_go(row, cutoff)]
    kept = _kept_for_history(conn, rule, table, candidates, cutoff)
    ids = sorted(row["id"] for row in candidates if row["id"] not in kept)
    deleted: dict[str, int] = {}
    if ids:
        aged = or_(*(and_(*_in_status(table, a), table.c[a.column] < cutoff) for a in rule.aged))
        locked = conn.scalars(
            select(table.c.id)
            .where(table.c.id.in_(ids), aged)
            .order_by(table.c.id)
            .with_for_update(skip_locked=True)
        ).all()
        if locked:
            for dependent in rule.dependents:
                rows_of = t.metadata.tables[dependent.table]
                result = conn.execute(
                    delete(rows_of).where(rows_of.c[dependent.column].in_(locked))
                )
                deleted[dependent.table] = result.rowcount
            result = conn.execute(delete(table).where(table.c.id.in_(locked)))
            deleted[rule.table] = result.rowcount
    last: int = rows[-1]["id"]
    return last, deleted


def _in_status(table: Table, aged: Aged) -> list[ColumnElement[bool]]:
    """The condition that a row is in ``aged.status`` (none for a table without statuses)."""
    return [] if aged.status is None else [table.c.status == aged.status]


def _kept_for_history(
    conn: Connection,
    rule: Prunable,
    table: Table,
    candidates: Sequence[dict[str, Any]],
    cutoff: datetime,
) -> set[int]:
    """The candidates that are the history of a subject not yet past the cut-off as a whole."""
    history = rule.history
    if history is None:
        return set()
    subjects: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row in candidates:
        if row[history.column] in history.values:
            subjects[tuple(row[c] for c in history.subject)].append(row["id"])
    if not subjects:
        return set()
    *grouping, last = history.subject
    by_group: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
    for key in subjects:
        by_group[key[:-1]].add(key[-1])
    dating = sorted({a.column for a in rule.aged})
    history_rows: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for group, values in by_group.items():
        found = conn.execute(
            select(
                *(table.c[c] for c in history.subject),
                table.c.status,
                *(table.c[c] for c in dating),
            )
            .where(*(table.c[c] == v for c, v in zip(grouping, group, strict=True)))
            .where(table.c[last].in_(sorted(values)))
        )
        for found_row in found:
            mapping = dict(found_row._mapping)
            history_rows[tuple(mapping[c] for c in history.subject)].append(mapping)
    settled_at = _settled_at(conn, history, by_group)
    return {
        row_id
        for key, ids in subjects.items()
        if not rule.history_may_go(history_rows[key], cutoff, settled_at.get(key))
        for row_id in ids
    }


def _settled_at(
    conn: Connection, history: History, by_group: Mapping[tuple[Any, ...], set[Any]]
) -> dict[tuple[Any, ...], datetime | None]:
    """When each subject was settled (an order's ``final_at``), by subject; a subject not
    stored is absent. Read by the order table's unique key and without a lock: the poller and
    the refresh job write those rows, and retention never waits for them."""
    settled = history.settled
    if settled is None:
        return {}
    table = t.metadata.tables[settled.table]
    column_of = dict(settled.keys)
    *grouping, last = history.subject
    found: dict[tuple[Any, ...], datetime | None] = {}
    for group, values in by_group.items():
        matched = [
            table.c[column_of[name]] == value
            for name, value in zip(grouping, group, strict=True)
            if name in column_of
        ]
        rows = conn.execute(
            select(table.c[column_of[last]], table.c[settled.column])
            .where(*matched)
            .where(table.c[column_of[last]].in_(sorted(values)))
        )
        for value, at in rows:
            found[(*group, value)] = at
    return found
