"""The outbox queue: claims with leases, fenced results, and the operator's view.

Claims take the *head* message of each target (an order or a return) only, so messages for
one target go out one at a time in the order they were enqueued, while different targets
proceed in parallel. A claim increments ``attempts``; together with ``lease_owner`` that
number is the fencing token: a worker may record the result of its attempt only while the
row is still ``in_flight`` with its owner and its attempt number, so a worker whose lease
expired and was taken over can no longer change the row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

import structlog
from sqlalchemy import (
    Connection,
    Engine,
    String,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement

from feedamp_sync.core.attempts import (
    AttemptResult,
    OrderConfirmed,
    Outcome,
    earlier_outcome_unknown,
)
from feedamp_sync.core.events import Event, message_finished, order_confirmed
from feedamp_sync.core.fairness import Lane, LaneKey, allot
from feedamp_sync.core.operator import TARGET_STATUS, Action, MessageFacts, note_with, refusal
from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import database_error_on_outage, describe
from feedamp_sync.db.events import write_events
from feedamp_sync.db.isolation import refuses_the_data
from feedamp_sync.db.targets import by_account
from feedamp_sync.db.transactions import in_transaction
from feedamp_sync.db.types import decoded, json_as_text
from feedamp_sync.model import OutboxMessage, Undecodable
from feedamp_sync.storable import storable_json, storable_text, text_problem

log = structlog.get_logger(__name__)

BLOCKING_STATUSES: Final = ("pending", "in_flight", "dead")
SCAN_SLICE_MAX: Final = 1_000
"""The most due messages read at a time while looking for the heads of their targets."""
LANE_GROUP_MAX: Final = 100
"""The most accounts whose lanes one scan reads (a bound on the statement's size)."""
REFUSALS: Final[tuple[type[Exception], ...]] = (SQLAlchemyError, ValueError, OverflowError)
"""What recording a result may raise: the database's errors, and the driver's or SQLAlchemy's
own on a value they cannot convert; :func:`~feedamp_sync.db.isolation.refuses_the_data` tells
a refusal of the data."""
STATE_MAX_CHARS: Final = 64
"""The length of an order's ``state`` column."""
IDENTIFIER_MAX_CHARS: Final = {"account": 64, "kind": 32, "target_id": 64}
"""The lengths of a message's identifying columns."""


class OutboxStore:
    """The queue in ``feedamp_sync_outbox``.

    ``return_kinds`` are the kinds whose ``target_id`` is a return: a return and an order
    may share an id, and each has a queue of its own. ``quiet_kinds`` are those whose results
    are no events (a webhook delivery: its own event would be delivered again, for ever).
    """

    def __init__(
        self, engine: Engine, return_kinds: Collection[str], quiet_kinds: Collection[str] = ()
    ) -> None:
        self._engine = engine
        self._return_kinds = tuple(return_kinds)
        self._quiet_kinds = frozenset(quiet_kinds)

    @database_error_on_outage()
    def release_expired(self, now: datetime) -> int:
        """Return messages whose lease ran out (their worker died or hung) to the queue."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(t.outbox)
                .where(t.outbox.c.status == "in_flight", t.outbox.c.lease_expires_at <= now)
                .values(
                    status="pending", lease_owner=None, lease_expires_at=None, next_attempt_at=now
                )
            )
        return result.rowcount

    @database_error_on_outage()
    def claim(
        self,
        owner: str,
        now: datetime,
        *,
        limit: int,
        lease_seconds: float,
        room: Callable[[str], int] | None = None,
        turn_order: Sequence[str] = (),
    ) -> list[OutboxMessage]:
        """Claim up to ``limit`` due head-of-target messages for ``owner``, dealt fairly.

        Each lane (an account's messages of one kind) gets its turn, as
        :func:`~feedamp_sync.core.fairness.allot` deals them: ``room(account)`` caps what one
        account takes (unlimited when None), ``turn_order`` ranks the kinds of an account.
        """
        box = t.outbox
        due = and_(box.c.status == "pending", box.c.next_attempt_at <= now)
        with self._engine.begin() as conn:
            lanes, unreadable = _due_lanes(conn, now)
            allotted = allot(
                lanes, limit=limit, room=room or (lambda _: limit), turn_order=turn_order
            )
            candidates = _lane_heads(conn, now, lanes, allotted, self._return_kinds)
            candidates += unreadable[: max(0, limit - len(candidates))]
            if not candidates:
                return []
            rows = conn.execute(
                select(
                    box.c.id,
                    box.c.account,
                    box.c.kind,
                    box.c.target_id,
                    json_as_text(box.c.payload),
                    box.c.attempts,
                    box.c.attempts_budget_start,
                    box.c.own_number,
                )
                .where(box.c.id.in_(candidates), due)
                .order_by(box.c.id)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            conn.execute(
                update(t.outbox)
                .where(box.c.id.in_([row.id for row in rows]))
                .values(
                    status="in_flight",
                    attempts=box.c.attempts + 1,
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                )
            )
            recorded = _recorded_outcomes(conn, [row.id for row in rows if row.attempts])
        return [_claimed(row, recorded.get(row.id, {})) for row in rows]

    @database_error_on_outage()
    def extend_leases(
        self, owner: str, messages: Sequence[OutboxMessage], until: datetime
    ) -> list[OutboxMessage]:
        """Keep the leases of messages still being worked on from running out; returns those
        still held (a claim another instance took over after it expired is not renewed)."""
        if not messages:
            return []
        with self._engine.begin() as conn:
            mine = _still_mine(conn, owner, messages)
            if mine:
                conn.execute(
                    _EXTEND, [{**_fence(owner, message), "b_until": until} for message in mine]
                )
        return mine

    @database_error_on_outage()
    def release(
        self, owner: str, messages: Sequence[OutboxMessage], now: datetime, *, started: bool
    ) -> int:
        """Give unfinished claims back at shutdown.

        A claim whose delivery ``started`` (still sending when the stop's wait ran out) keeps
        its counted attempt, with no record of it: the next claim takes its outcome as
        unknown and reconciles it. One never started gives its attempt back, as a deferred
        one does, so nothing later mistakes it for a request that may have reached FeedAMP
        (a refund's duplicate refusal taken for our own success, say).
        """
        if not messages:
            return 0
        with self._engine.begin() as conn:
            mine = _still_mine(conn, owner, messages)
            if mine:
                conn.execute(
                    _RELEASE if started else _GIVE_BACK,
                    [{**_fence(owner, message), "b_now": now} for message in mine],
                )
        return len(mine)

    @database_error_on_outage()
    def finish(self, owner: str, results: Sequence[AttemptResult]) -> list[AttemptResult]:
        """Record results in one transaction; returns those the fence refused (lease lost).

        What FeedAMP or a sink answered, and every text quoting it, is made storable first
        (:func:`recordable`). Should the database refuse the batch all the same for its data
        (a seller's own rule on the table, a limit nobody foresaw), the results are recorded
        one at a time, and one still refused is recorded without the answer (:func:`bare`):
        its message ends as decided, so an action FeedAMP took is never sent again, and the
        others' results are kept. A lock waited for in vain, a deadlock or an outage is no
        refusal: the flush fails as any write does, and the claims' leases run out.
        """
        if not results:
            return []
        ordered = sorted(map(recordable, results), key=lambda result: result.message.id)
        try:
            return self._record(owner, ordered)
        except REFUSALS as refused:
            if not refuses_the_data(refused):
                raise
            if len(ordered) == 1:
                return self._record_bare(owner, ordered[0], refused)
        lost: list[AttemptResult] = []
        for result in ordered:
            try:
                lost += self._record(owner, [result])
            except REFUSALS as refused:
                if not refuses_the_data(refused):
                    raise
                lost += self._record_bare(owner, result, refused)
        return lost

    def _record_bare(
        self, owner: str, result: AttemptResult, refused: Exception
    ) -> list[AttemptResult]:
        why = storable_text(f"the database refused this attempt's record: {describe(refused)}")
        log.warning(
            "outbox_result_refused",
            message_id=result.message.id,
            kind=result.message.kind,
            account=result.message.account,
            outcome=result.outcome,
            reason=why,
        )
        try:
            return self._record(owner, [bare(result, why)])
        except REFUSALS as refused_again:
            if not refuses_the_data(refused_again):
                raise
            # Not even the outcome can be written: the claim's lease runs out and its next
            # claim takes this attempt's outcome as unknown, as after a crash; the others go on.
            log.error(
                "outbox_result_unrecordable",
                message_id=result.message.id,
                kind=result.message.kind,
                account=result.message.account,
                outcome=result.outcome,
                reason=storable_text(describe(refused_again)),
            )
            return [result]

    def _record(self, owner: str, ordered: Sequence[AttemptResult]) -> list[AttemptResult]:
        """Record ``ordered`` (sorted by message id) in one transaction.

        The claims still held are read and locked first (in id order, as everywhere else, so
        two writers cannot deadlock); then one batched statement per outcome records them,
        and last their events (``message.sent``, ``message.dead``, ``order.confirmed``).
        """

        def record(conn: Connection) -> list[AttemptResult]:
            held = {m.id for m in _still_mine(conn, owner, [r.message for r in ordered])}
            mine = [r for r in ordered if r.message.id in held]
            for outcome, statement in _RECORD.items():
                rows = [_result_row(owner, r) for r in mine if r.outcome == outcome]
                if rows:
                    conn.execute(statement, rows)
            sent = [r for r in mine if r.outcome == "sent"]
            confirmed = [_confirmed_row(r.confirmed, r.now) for r in sent if r.confirmed]
            if confirmed:
                conn.execute(_CONFIRMED, confirmed)
            attempts = [_attempt_row(r) for r in mine if r.outcome != "deferred"]
            if attempts:
                conn.execute(t.outbox_attempts.insert(), attempts)
            write_events(
                conn,
                [e for r in mine if r.message.kind not in self._quiet_kinds for e in _events(r)],
            )
            return [r for r in ordered if r.message.id not in held]

        return in_transaction(self._engine, record)

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status)
            ).all()
        counts = dict.fromkeys(t.OUTBOX_STATUSES, 0)
        counts.update({row[0]: row[1] for row in rows})
        return counts

    def messages(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        account: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """The most recent messages (newest first), optionally of one status, kind, account."""
        query = select(*_LIST_COLUMNS).order_by(t.outbox.c.id.desc()).limit(limit)
        for column, value in (("status", status), ("kind", kind), ("account", account)):
            if value is not None:
                query = query.where(t.outbox.c[column] == value)
        with self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def message(self, message_id: int) -> dict[str, Any] | None:
        """One message, every column, with ``attempt_history``: each finished attempt.

        A payload that cannot be decoded comes back as :class:`~feedamp_sync.model.Undecodable`.
        """
        columns = [json_as_text(c) if c is t.outbox.c.payload else c for c in t.outbox.c]
        with self._engine.connect() as conn:
            row = conn.execute(select(*columns).where(t.outbox.c.id == message_id)).first()
            if row is None:
                return None
            attempts = conn.execute(
                select(t.outbox_attempts)
                .where(t.outbox_attempts.c.message_id == message_id)
                .order_by(t.outbox_attempts.c.attempt, t.outbox_attempts.c.id)
            )
            history = [
                {k: v for k, v in a._mapping.items() if k not in ("id", "message_id")}
                for a in attempts
            ]
        return {**row._mapping, "payload": decoded(row.payload), "attempt_history": history}

    def sent_for(self, account: str, target_id: str, kind: str) -> list[dict[str, Any]]:
        """The ``sent`` messages of one kind for a target, oldest first: id, payload (an
        undecodable one as :class:`~feedamp_sync.model.Undecodable`), FeedAMP's answer and
        when it was sent."""
        box = t.outbox.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(box.id, json_as_text(box.payload), box.response, box.sent_at)
                .where(
                    box.account == account,
                    box.target_id == target_id,
                    box.kind == kind,
                    box.status == "sent",
                )
                .order_by(box.id)
            )
            return [
                {
                    "id": row.id,
                    "payload": decoded(row.payload),
                    "response": row.response,
                    "sent_at": row.sent_at,
                }
                for row in rows
            ]

    def retry(self, message_id: int, *, reason: str, now: datetime) -> Operated:
        """Put a dead message back in the queue, due now, with a fresh attempt budget."""
        return self._operate(message_id, "retry", reason, now)

    def cancel(self, message_id: int, *, reason: str, now: datetime) -> Operated:
        """Give up on a pending or dead message; later messages of its target may go."""
        return self._operate(message_id, "cancel", reason, now)

    def _operate(self, message_id: int, action: Action, reason: str, now: datetime) -> Operated:
        """Apply an operator's action if the rules allow it, recording the reason in ``note``.

        The update is conditional on the status and attempt read, so a worker finishing the
        message at the same moment makes this refuse instead of overwriting its result.
        """
        box = t.outbox
        with self._engine.begin() as conn:
            row = conn.execute(
                select(
                    box.c.status,
                    box.c.attempts,
                    box.c.lease_owner,
                    box.c.lease_expires_at,
                    box.c.note,
                )
                .where(box.c.id == message_id)
                .with_for_update()
            ).first()
            if row is None:
                return Operated(message_id, None, f"no outbox message with id {message_id}")
            facts = MessageFacts(message_id, row.status, row.lease_owner, row.lease_expires_at)
            refused = refusal(action, facts, now)
            if refused is not None:
                return Operated(message_id, row.status, refused)
            values: dict[str, Any] = {
                "status": TARGET_STATUS[action],
                "note": note_with(row.note, action, reason, now),
                "lease_owner": None,
                "lease_expires_at": None,
            }
            if action == "retry":
                values |= {"next_attempt_at": now, "attempts_budget_start": box.c.attempts}
            else:  # never due again: the column dates the cancel, which retention reads
                values |= {"next_attempt_at": now}
            changed = conn.execute(
                update(box)
                .where(
                    box.c.id == message_id,
                    box.c.status == row.status,
                    box.c.attempts == row.attempts,
                )
                .values(**values)
            ).rowcount
        if changed != 1:
            return Operated(
                message_id, row.status, f"message {message_id} changed meanwhile; try again"
            )
        return Operated(message_id, TARGET_STATUS[action])


@dataclass(frozen=True)
class Operated:
    """The end of an operator's action: the message's status now, and why it was refused.

    ``status`` is None when there is no such message; ``refused`` is None on success.
    """

    message_id: int
    status: str | None
    refused: str | None = None


_LIST_COLUMNS: Final = (
    t.outbox.c.id,
    t.outbox.c.account,
    t.outbox.c.kind,
    t.outbox.c.target_id,
    t.outbox.c.status,
    t.outbox.c.attempts,
    t.outbox.c.next_attempt_at,
    t.outbox.c.last_status_code,
    t.outbox.c.last_error,
    t.outbox.c.created_at,
    t.outbox.c.sent_at,
)


def _claimed(row: Any, recorded: Mapping[int, bool]) -> OutboxMessage:
    """The message of a claimed row, ``recorded`` being its earlier attempts' recorded
    outcomes (:func:`_recorded_outcomes`). A row whose account, kind or target id cannot be read
    (:func:`_unreadable`), or is longer than its column (SQLite keeps any length a raw
    insert gives), is carried with them escaped and cut and its payload :class:`Undecodable`,
    naming the column: it goes dead when it is checked, as a payload no one can read does,
    rather than being acted on under a shortened id."""
    unreadable = [
        (name, problem)
        for name, length in IDENTIFIER_MAX_CHARS.items()
        if (problem := _identifier_problem(getattr(row, name), length)) is not None
    ]
    account, kind, target_id = (
        storable_text(getattr(row, name))[:length] for name, length in IDENTIFIER_MAX_CHARS.items()
    )
    payload = decoded(row.payload)
    if unreadable:
        where, problem = unreadable[0]
        payload = Undecodable("", problem, where=where)
    return OutboxMessage(
        row.id,
        account,
        kind,
        target_id,
        payload,
        row.attempts + 1,
        row.attempts_budget_start,
        earlier_outcome_unknown=earlier_outcome_unknown(row.attempts + 1, recorded),
        own_number=bool(row.own_number),
    )


def _identifier_problem(text: str, length: int) -> str | None:
    problem = text_problem(text)
    if problem is None and len(text) > length:
        return f"longer than the column's {length} characters"
    return problem


def _unreadable(text: str) -> bool:
    """Whether an identifying column's text cannot be given back to the database in a query:
    bytes that are not UTF-8, which SQLite returns as they are (as lone surrogates, see
    ``db/engine.py``), or a NUL. A row with one is claimed by its id alone."""
    return text_problem(text) is not None


def _due_lanes(conn: Connection, now: datetime) -> tuple[list[Lane], list[int]]:
    """Each account's due messages of each kind: how many, and since when; and, of each lane
    whose account or kind is :func:`_unreadable`, the first due message, which no later query
    could select by its lane."""
    box = t.outbox
    rows = conn.execute(
        select(
            box.c.account,
            box.c.kind,
            func.count(),
            func.min(box.c.next_attempt_at),
            func.min(box.c.id),
        )
        .where(box.c.status == "pending", box.c.next_attempt_at <= now)
        .group_by(box.c.account, box.c.kind)
    )
    lanes: list[Lane] = []
    unreadable: list[int] = []
    for account, kind, due, oldest, first in rows:
        if _unreadable(account) or _unreadable(kind):
            unreadable.append(first)
        else:
            lanes.append(Lane(account, kind, due, oldest))
    return lanes, unreadable


def _lane_heads(
    conn: Connection,
    now: datetime,
    lanes: Sequence[Lane],
    allotted: Mapping[LaneKey, int],
    return_kinds: tuple[str, ...],
) -> list[int]:
    """The heads of their targets among each lane's earliest due messages, as many as the
    lane was allotted. Lanes given all they have due are read together, a group of accounts
    per scan; a lane with more due than its share (a backlog) is read on its own, up to it."""
    box = t.outbox
    heads: list[int] = []
    whole: dict[str, list[str]] = {}
    for lane in lanes:
        share = allotted.get(lane.key, 0)
        if share == lane.due:
            whole.setdefault(lane.account, []).append(lane.kind)
        elif share:
            lane_rows = and_(box.c.account == lane.account, box.c.kind == lane.kind)
            heads += _due_heads(conn, now, share, return_kinds, lane_rows)
    accounts = sorted(whole)
    for start in range(0, len(accounts), LANE_GROUP_MAX):
        group = accounts[start : start + LANE_GROUP_MAX]
        rows = or_(*(and_(box.c.account == a, box.c.kind.in_(whole[a])) for a in group))
        due = sum(allotted[(a, kind)] for a in group for kind in whole[a])
        heads += _due_heads(conn, now, due, return_kinds, rows)
    return heads


def _due_heads(
    conn: Connection,
    now: datetime,
    limit: int,
    return_kinds: tuple[str, ...],
    lane: ColumnElement[bool],
) -> list[int]:
    """Up to ``limit`` due messages of one lane that head their target, earliest due first.

    Due rows are read in index order, a slice at a time, and each slice's targets are looked
    up by the ``(account, target_id, id)`` index for their first blocking message. A single
    query with ``NOT EXISTS`` over the whole queue lets PostgreSQL's planner hash every
    pending row against every other, so each claim would cost in proportion to the backlog.
    The first slice is ``limit`` rows, enough when due messages head their targets, as in a
    backlog; each further slice doubles, so many due messages waiting behind others (a dead
    fulfillment's later refunds) cost a few reads, not one per ``limit`` of them.
    """
    box = t.outbox
    is_return = _is_return(return_kinds)
    in_due_order = (box.c.next_attempt_at, box.c.id)
    slice_size = limit
    heads: list[int] = []
    after: tuple[datetime, int] | None = None
    while len(heads) < limit:
        query = (
            select(box.c.id, box.c.account, box.c.target_id, is_return, *in_due_order)
            .where(box.c.status == "pending", box.c.next_attempt_at <= now, lane)
            .order_by(*in_due_order)
            .limit(slice_size)
        )
        if after is not None:
            query = query.where(tuple_(*in_due_order) > after)
        due = conn.execute(query).all()
        if not due:
            break
        readable = {(row.account, row.target_id) for row in due if not _unreadable(row.target_id)}
        first = _first_blocking(conn, readable, is_return)
        # A row claimed or finished by another instance since the slice was read is no head.
        # One whose target cannot be named in a query heads a queue of its own.
        heads += [
            row.id
            for row in due
            if _unreadable(row.target_id) or first.get(_queue_of(row)) == row.id
        ]
        if len(due) < slice_size:
            break
        after = (due[-1].next_attempt_at, due[-1].id)
        slice_size = min(2 * slice_size, SCAN_SLICE_MAX)
    return heads[:limit]


def _is_return(return_kinds: tuple[str, ...]) -> Any:
    """1 for a message about a return, 0 for one about an order: its own queue per target."""
    return case((t.outbox.c.kind.in_(return_kinds), 1), else_=0).label("is_return")


Queue = tuple[str, str, int]
"""(account, target_id, is_return): messages that go out one at a time, in id order."""


def _queue_of(row: Any) -> Queue:
    return (row.account, row.target_id, row.is_return)


def _first_blocking(
    conn: Connection, targets: set[tuple[str, str]], is_return: Any
) -> dict[Queue, int]:
    """The first message of each target's queues that is still waiting or being sent."""
    box = t.outbox
    first: dict[Queue, int] = {}
    for account, target_ids in by_account(targets).items():
        rows = conn.execute(
            select(box.c.account, box.c.target_id, is_return, func.min(box.c.id).label("first"))
            .where(
                box.c.account == account,
                box.c.target_id.in_(target_ids),
                box.c.status.in_(BLOCKING_STATUSES),
            )
            .group_by(box.c.account, box.c.target_id, is_return)
        )
        first |= {_queue_of(row): row.first for row in rows}
    return first


def _recorded_outcomes(conn: Connection, message_ids: list[int]) -> dict[int, dict[int, bool]]:
    """Each message's recorded attempts: attempt number → whether its effect was unknown."""
    if not message_ids:
        return {}
    tried = t.outbox_attempts.c
    rows = conn.execute(
        select(tried.message_id, tried.attempt, tried.effect_unknown).where(
            tried.message_id.in_(message_ids)
        )
    )
    recorded: dict[int, dict[int, bool]] = {}
    for row in rows:
        attempts = recorded.setdefault(row.message_id, {})
        attempts[row.attempt] = attempts.get(row.attempt, False) or bool(row.effect_unknown)
    return recorded


def _still_mine(
    conn: Connection, owner: str, messages: Sequence[OutboxMessage]
) -> list[OutboxMessage]:
    """Those of ``messages`` still claimed by ``owner`` for the attempt each carries, their
    rows locked in id order (as everywhere else, so two writers cannot deadlock)."""
    box = t.outbox
    rows = conn.execute(
        select(box.c.id, box.c.attempts)
        .where(
            box.c.id.in_([message.id for message in messages]),
            box.c.status == "in_flight",
            box.c.lease_owner == owner,
        )
        .order_by(box.c.id)
        .with_for_update()
    )
    held = {row.id: row.attempts for row in rows}
    return [message for message in messages if held.get(message.id) == message.attempts]


def _fence(owner: str, message: OutboxMessage) -> dict[str, Any]:
    return {"b_id": message.id, "b_owner": owner, "b_attempts": message.attempts}


# Statements for batches (executemany), built once. Each keeps the fence in its WHERE clause
# although the rows were checked and locked just before: a result is recorded only by the
# claim's owner, for the attempt it made.
_FENCED: Final = and_(
    t.outbox.c.id == bindparam("b_id"),
    t.outbox.c.status == "in_flight",
    t.outbox.c.lease_owner == bindparam("b_owner"),
    t.outbox.c.attempts == bindparam("b_attempts"),
)
_UNLEASED: Final[dict[str, Any]] = {"lease_owner": None, "lease_expires_at": None}
_EXTEND: Final = update(t.outbox).where(_FENCED).values(lease_expires_at=bindparam("b_until"))
_RELEASE: Final = (
    update(t.outbox)
    .where(_FENCED)
    .values(status="pending", next_attempt_at=bindparam("b_now"), **_UNLEASED)
)
_GIVE_BACK: Final = (
    update(t.outbox)
    .where(_FENCED)
    .values(
        status="pending",
        next_attempt_at=bindparam("b_now"),
        attempts=t.outbox.c.attempts - 1,
        **_UNLEASED,
    )
)
_FAILED: Final[dict[str, Any]] = {
    **_UNLEASED,
    "last_error": bindparam("b_error"),
    "last_status_code": bindparam("b_status_code"),
}
_RETRY: Final[dict[str, Any]] = {
    **_FAILED,
    "status": "pending",
    "next_attempt_at": bindparam("b_next_attempt_at"),
}
_RECORD: Final[dict[Outcome, Any]] = {
    "sent": update(t.outbox)
    .where(_FENCED)
    .values(
        **_UNLEASED,
        status="sent",
        sent_at=bindparam("b_now"),
        last_error=bindparam("b_error"),
        last_status_code=bindparam("b_status_code"),
        response=bindparam("b_response"),
    ),
    "dead": update(t.outbox).where(_FENCED).values(**_FAILED, status="dead"),
    "retry": update(t.outbox).where(_FENCED).values(**_RETRY),
    # Nothing reached FeedAMP: the attempt is handed back uncounted.
    "deferred": update(t.outbox).where(_FENCED).values(**_RETRY, attempts=t.outbox.c.attempts - 1),
}
_CONFIRMED: Final = (
    update(t.orders)
    .where(
        t.orders.c.account == bindparam("b_account"),
        t.orders.c.feedamp_id == bindparam("b_target_id"),
    )
    .values(
        confirmed_at=bindparam("b_now"),
        state=func.coalesce(bindparam("b_state", type_=String), t.orders.c.state),
    )
)


def recordable(result: AttemptResult) -> AttemptResult:
    """``result`` as every backend can store it (:mod:`feedamp_sync.storable`).

    FeedAMP's answer (often the whole order) and a sink's are recorded as received, and an
    error quotes them: a NUL or half an emoji in a gift message FeedAMP added after confirm,
    or a sink's binary answer, would make PostgreSQL refuse the record, and nesting 32 levels
    deep MariaDB. Such text is escaped instead; the answer keeps its shape.
    """
    confirmed = result.confirmed
    if confirmed is not None and confirmed.state is not None:
        confirmed = replace(confirmed, state=storable_text(confirmed.state)[:STATE_MAX_CHARS])
    return replace(
        result,
        error=None if result.error is None else storable_text(result.error),
        request=storable_json(result.request),
        response=storable_json(result.response),
        confirmed=confirmed,
    )


def bare(result: AttemptResult, why: str) -> AttemptResult:
    """``result`` with nothing FeedAMP or a sink sent (its answer, FeedAMP's state of the order)
    and what was sent: what is left is the daemon's own, which the database takes. ``why`` is
    the error recorded in their place."""
    confirmed = None if result.confirmed is None else replace(result.confirmed, state=None)
    return replace(result, error=why, request=None, response=None, confirmed=confirmed)


def _result_row(owner: str, result: AttemptResult) -> dict[str, Any]:
    return {
        **_fence(owner, result.message),
        "b_now": result.now,
        "b_error": result.error,
        "b_status_code": result.status_code,
        "b_response": result.response,
        "b_next_attempt_at": result.next_attempt_at or result.now,
    }


def _confirmed_row(confirmed: OrderConfirmed, now: datetime) -> dict[str, Any]:
    return {
        "b_account": confirmed.account,
        "b_target_id": confirmed.order_id,
        "b_now": now,
        "b_state": confirmed.state,
    }


def _events(result: AttemptResult) -> list[Event]:
    """The facts one recorded result adds to the event log (none for a retry)."""
    if result.outcome not in ("sent", "dead"):
        return []
    message = result.message
    events = [
        message_finished(
            message.account,
            message.id,
            sent=result.outcome == "sent",
            kind=message.kind,
            target_id=message.target_id,
            attempts=message.attempts,
            status_code=result.status_code,
            error=result.error,
            at=result.now,
        )
    ]
    if result.outcome == "sent" and result.confirmed is not None:
        payload = message.payload if isinstance(message.payload, dict) else {}
        events.append(
            order_confirmed(
                result.confirmed.account,
                result.confirmed.order_id,
                cp_order_number=payload.get("cp_order_number"),
                state=result.confirmed.state,
                message_id=message.id,
                at=result.now,
            )
        )
    return events


def _attempt_row(result: AttemptResult) -> dict[str, Any]:
    """An attempt's record. A sent attempt's answer (often a whole order) is kept once, on
    the message row, not copied here."""
    return {
        "message_id": result.message.id,
        "attempt": result.message.attempts,
        "finished_at": result.now,
        "outcome": result.outcome,
        "status_code": result.status_code,
        "error": result.error,
        "request": result.request,
        "response": None if result.outcome == "sent" else result.response,
        "effect_unknown": result.effect_unknown,
    }
