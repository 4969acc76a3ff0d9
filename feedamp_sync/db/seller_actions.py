"""The SQL behind seller actions: the stored facts they are checked against, and their rows.

Every function works on a connection the caller holds, so ``enqueue`` can add a message
inside the seller's own transaction, and the outbox engine can check a claimed message and
reserve its number in a transaction of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from feedamp_sync.core.facts import (
    EarlierMessage,
    Facts,
    OrderFacts,
    ReturnFacts,
    StoredLine,
    StoredReturnLine,
    Target,
)
from feedamp_sync.db import tables as t
from feedamp_sync.db.targets import Key, by_account
from feedamp_sync.db.types import decoded, json_as_text
from feedamp_sync.errors import InvalidPayload

COVERING_STATUSES: Final = ("sent", "pending", "in_flight")
"""Earlier messages that still count (a fulfillment's entries as shipped or cancelled)."""


@dataclass(frozen=True)
class Holder:
    """The message that holds a ``unique_key``."""

    message_id: int
    status: str


@dataclass(frozen=True)
class Fence:
    """Our claim on a message: an update applies only while we still hold it."""

    owner: str
    attempts: int


@dataclass(frozen=True)
class Subject:
    """What a message's facts are looked up by: its target, and for a kind that builds on
    its predecessors (``with_earlier``), the earlier messages of that kind, limited to those
    enqueued before ``before_id`` (all of them when None)."""

    kind: str
    target: Target
    account: str
    target_id: str
    before_id: int | None = None
    with_earlier: bool = False


def load_facts(conn: Connection, subject: Subject) -> Facts:
    """The stored order or return a message is about; None if it is not stored."""
    [facts] = load_facts_of(conn, [subject])
    return facts


def load_facts_of(conn: Connection, subjects: Sequence[Subject]) -> list[Facts]:
    """The facts of many messages (a whole claim) with a few queries per table, in order."""
    orders = _orders_facts(conn, [s for s in subjects if s.target is Target.ORDER])
    returns = _returns_facts(conn, [s for s in subjects if s.target is Target.RETURN])
    return [orders[s] if s.target is Target.ORDER else returns[s] for s in subjects]


def _orders_facts(conn: Connection, subjects: Sequence[Subject]) -> dict[Subject, Facts]:
    if not subjects:
        return {}
    row_ids: dict[Key, int] = {}
    for account, order_ids in by_account((s.account, s.target_id) for s in subjects).items():
        rows = conn.execute(
            select(t.orders.c.id, t.orders.c.feedamp_id).where(
                t.orders.c.account == account, t.orders.c.feedamp_id.in_(order_ids)
            )
        )
        row_ids |= {(account, row.feedamp_id): row.id for row in rows}
    lines: dict[int, dict[str, StoredLine]] = defaultdict(dict)
    if row_ids:
        line = t.order_lines.c
        for row in conn.execute(
            select(line.order_id, line.mp_line_number, line.quantity, line.sku)
            .where(line.order_id.in_(sorted(row_ids.values())))
            .order_by(line.id)
        ):
            lines[row.order_id][row.mp_line_number] = StoredLine(row.quantity, row.sku)
    earlier = _earlier_messages(conn, [s for s in subjects if s.with_earlier])
    facts: dict[Subject, Facts] = {}
    for subject in subjects:
        row_id = row_ids.get((subject.account, subject.target_id))
        if row_id is None:
            facts[subject] = None
            continue
        before = [
            e
            for e in earlier.get((subject.kind, subject.account, subject.target_id), ())
            if subject.with_earlier
            and (subject.before_id is None or e.message_id < subject.before_id)
        ]
        facts[subject] = OrderFacts(subject.target_id, dict(lines[row_id]), tuple(before))
    return facts


def _earlier_messages(
    conn: Connection, subjects: Sequence[Subject]
) -> dict[tuple[str, str, str], list[EarlierMessage]]:
    """The messages of each subject's kind that still count, by (kind, account, target),
    oldest first."""
    found: dict[tuple[str, str, str], list[EarlierMessage]] = defaultdict(list)
    box = t.outbox
    for kind in sorted({s.kind for s in subjects}):
        of_kind = ((s.account, s.target_id) for s in subjects if s.kind == kind)
        for account, target_ids in by_account(of_kind).items():
            rows = conn.execute(
                select(box.c.id, box.c.target_id, box.c.status, json_as_text(box.c.payload))
                .where(
                    box.c.account == account,
                    box.c.target_id.in_(target_ids),
                    box.c.kind == kind,
                    box.c.status.in_(COVERING_STATUSES),
                )
                .order_by(box.c.id)
            )
            for row in rows:
                found[(kind, account, row.target_id)].append(
                    EarlierMessage(row.id, row.status, decoded(row.payload))
                )
    return found


def last_requests(conn: Connection, message_ids: Sequence[int]) -> dict[int, Any]:
    """For each message, the request its latest attempt that recorded one sent (an attempt
    that ended before sending records none); messages with none are left out."""
    if not message_ids:
        return {}
    tried = t.outbox_attempts.c
    rows = conn.execute(
        select(tried.message_id, json_as_text(tried.request))
        .where(tried.message_id.in_(sorted(set(message_ids))), tried.request.is_not(None))
        .order_by(tried.message_id, tried.attempt.desc(), tried.id.desc())
    )
    found: dict[int, Any] = {}
    for row in rows:
        found.setdefault(row.message_id, decoded(row.request))
    return found


def _returns_facts(conn: Connection, subjects: Sequence[Subject]) -> dict[Subject, Facts]:
    if not subjects:
        return {}
    stored: dict[Key, Any] = {}
    for account, return_ids in by_account((s.account, s.target_id) for s in subjects).items():
        rows = conn.execute(
            select(t.returns.c.id, t.returns.c.feedamp_id, t.returns.c.mp_return_number).where(
                t.returns.c.account == account, t.returns.c.feedamp_id.in_(return_ids)
            )
        )
        stored |= {(account, row.feedamp_id): row for row in rows}
    lines: dict[int, list[StoredReturnLine]] = defaultdict(list)
    if stored:
        line = t.return_lines.c
        for row in conn.execute(
            select(
                line.return_id, line.mp_return_line_number, line.feedamp_return_line_id, line.data
            )
            .where(line.return_id.in_(sorted(r.id for r in stored.values())))
            .order_by(line.id)
        ):
            line_id = row.feedamp_return_line_id or _data_id(row.data)
            lines[row.return_id].append(StoredReturnLine(row.mp_return_line_number, line_id))
    facts: dict[Subject, Facts] = {}
    for subject in subjects:
        found = stored.get((subject.account, subject.target_id))
        facts[subject] = (
            None
            if found is None
            else ReturnFacts(subject.target_id, found.mp_return_number, tuple(lines[found.id]))
        )
    return facts


def _data_id(data: Any) -> str | None:
    """A return line's ``id``: its line id when it has no ``feedamp_return_line_id``."""
    value = data.get("id") if isinstance(data, Mapping) else None
    return str(value) if value not in (None, "") else None


def insert_message(
    conn: Connection, *, account: str, kind: str, target_id: str, payload: Any
) -> int:
    """Add a pending message, due now; returns its id."""
    result = conn.execute(
        t.outbox.insert().values(account=account, kind=kind, target_id=target_id, payload=payload)
    )
    key = result.inserted_primary_key
    assert key is not None  # every backend reports the id of a single-row insert
    return int(key[0])


def delete_message(conn: Connection, message_id: int) -> None:
    """Take back a message this transaction added (its number turned out to be taken)."""
    conn.execute(delete(t.outbox).where(t.outbox.c.id == message_id))


def holder_of(conn: Connection, unique_key: str) -> Holder | None:
    row = conn.execute(
        select(t.outbox.c.id, t.outbox.c.status).where(t.outbox.c.unique_key == unique_key)
    ).first()
    return None if row is None else Holder(row.id, row.status)


def unique_key_of(conn: Connection, message_id: int) -> str | None:
    key: str | None = conn.scalar(select(t.outbox.c.unique_key).where(t.outbox.c.id == message_id))
    return key


def reserve_number(
    conn: Connection,
    message_id: int,
    *,
    payload: Any,
    unique_key: str,
    own_number: bool = False,
    fence: Fence | None = None,
) -> bool:
    """Write a message's number into its payload and its ``unique_key``, and whether the
    number is its own (generated with a random part: see ``outbox/numbers.py``).

    With a ``fence``, only while that claim still holds the message (False otherwise). A
    number another message took meanwhile raises InvalidPayload; on PostgreSQL the
    transaction is then unusable and must be rolled back.
    """
    conditions = [t.outbox.c.id == message_id]
    if fence is not None:
        conditions += [
            t.outbox.c.status == "in_flight",
            t.outbox.c.lease_owner == fence.owner,
            t.outbox.c.attempts == fence.attempts,
        ]
    try:
        changed = conn.execute(
            update(t.outbox)
            .where(*conditions)
            .values(payload=payload, unique_key=unique_key, own_number=own_number)
        ).rowcount
    except IntegrityError:
        raise InvalidPayload(
            [f"{unique_key}: another outbox message took this number at the same moment"]
        ) from None
    return changed == 1
