"""The SQL behind seller actions: the stored facts they are checked against, and their rows.

Every function works on a connection the caller holds, so ``enqueue`` can add a message
inside the seller's own transaction, and the outbox engine can check a claimed message and
reserve its number in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from feedamp_sync.db import tables as t
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.facts import (
    ORDER_KINDS,
    EarlierFulfillment,
    Facts,
    OrderFacts,
    ReturnFacts,
    StoredLine,
)

COVERING_STATUSES: Final = ("sent", "pending", "in_flight")
"""Fulfillment messages whose entries count as shipped or cancelled for the quantity check."""


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


def load_facts(
    conn: Connection, *, kind: str, account: str, target_id: str, before_id: int | None = None
) -> Facts:
    """The stored order or return a ``kind`` message is about; None if it is not stored.

    For a fulfillment, the fulfillment messages of the same order enqueued before
    ``before_id`` (all of them when None) come too.
    """
    if kind in ORDER_KINDS:
        return _order_facts(conn, account, target_id, kind, before_id)
    return _return_facts(conn, account, target_id)


def _order_facts(
    conn: Connection, account: str, order_id: str, kind: str, before_id: int | None
) -> OrderFacts | None:
    row_id = conn.scalar(
        select(t.orders.c.id).where(
            t.orders.c.account == account, t.orders.c.feedamp_id == order_id
        )
    )
    if row_id is None:
        return None
    lines = conn.execute(
        select(t.order_lines.c.mp_line_number, t.order_lines.c.quantity, t.order_lines.c.sku)
        .where(t.order_lines.c.order_id == row_id)
        .order_by(t.order_lines.c.id)
    )
    stored = {line.mp_line_number: StoredLine(line.quantity, line.sku) for line in lines}
    earlier: tuple[EarlierFulfillment, ...] = ()
    if kind == "fulfillment":
        box = t.outbox
        query = (
            select(box.c.id, box.c.status, box.c.payload)
            .where(
                box.c.account == account,
                box.c.target_id == order_id,
                box.c.kind == "fulfillment",
                box.c.status.in_(COVERING_STATUSES),
            )
            .order_by(box.c.id)
        )
        if before_id is not None:
            query = query.where(box.c.id < before_id)
        earlier = tuple(EarlierFulfillment(r.id, r.status, r.payload) for r in conn.execute(query))
    return OrderFacts(order_id, stored, earlier)


def _return_facts(conn: Connection, account: str, return_id: str) -> ReturnFacts | None:
    row = conn.execute(
        select(t.returns.c.id, t.returns.c.mp_return_number).where(
            t.returns.c.account == account, t.returns.c.feedamp_id == return_id
        )
    ).first()
    if row is None:
        return None
    lines = conn.execute(
        select(t.return_lines.c.feedamp_return_line_id, t.return_lines.c.data)
        .where(t.return_lines.c.return_id == row.id)
        .order_by(t.return_lines.c.id)
    )
    ids = [line.feedamp_return_line_id or _data_id(line.data) for line in lines]
    return ReturnFacts(return_id, row.mp_return_number, tuple(i for i in ids if i))


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
    fence: Fence | None = None,
) -> bool:
    """Write a message's number into its payload and its ``unique_key``.

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
            update(t.outbox).where(*conditions).values(payload=payload, unique_key=unique_key)
        ).rowcount
    except IntegrityError:
        raise InvalidPayload(
            [f"{unique_key}: another outbox message took this number at the same moment"]
        ) from None
    return changed == 1
