"""Enqueue a seller action inside the caller's own transaction (the transactional outbox).

A seller's system that records "order 10042 shipped" in its own tables adds the fulfillment
message in the same transaction, so both are committed together or not at all::

    from feedamp_sync.outbox.enqueue import enqueue

    with engine.begin() as conn:                       # or an ORM Session
        conn.execute(shipments.insert().values(...))   # the seller's own change
        enqueue(conn, account="main", kind="fulfillment", target_id="10042", payload={...})

The payload is validated completely (its shape, and against the stored order or return)
before anything is written; :class:`~feedamp_sync.errors.InvalidPayload` lists every problem.
A refund or return authorization gets its number (given, or rendered from the template with
the new message's id) written into its payload and ``unique_key`` here, before any send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from feedamp_sync.db.identity import database_identity
from feedamp_sync.db.seller_actions import (
    delete_message,
    holder_of,
    insert_message,
    load_facts,
    reserve_number,
)
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.model import FEEDAMP_ID_MAX_CHARS
from feedamp_sync.outbox.context import require_context
from feedamp_sync.outbox.fields import shown
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.outbox.kinds import KINDS, Kinds
from feedamp_sync.outbox.numbers import Numbered, already_used, numbered
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.outbox.prepare import subject_of
from feedamp_sync.settings import OutboxSettings, Settings
from feedamp_sync.storable import text_problem


@dataclass(frozen=True)
class EnqueuedMessage:
    """The message added: pending, due now, with its normalised payload."""

    id: int
    account: str
    kind: str
    target_id: str
    status: str
    payload: dict[str, Any]
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """What ``feedamp-sync enqueue`` prints (docs/guarantees.md, "Command line")."""
        return {
            "id": self.id,
            "kind": self.kind,
            "target_id": self.target_id,
            "status": self.status,
        }


def enqueue(
    connection_or_session: Connection | Session,
    *,
    account: str,
    kind: str,
    target_id: str,
    payload: Any,
    settings: Settings | OutboxSettings | None = None,
    kinds: Kinds = KINDS,
) -> EnqueuedMessage:
    """Validate a seller action and add it to the outbox in the caller's transaction.

    ``kind`` is ``fulfillment``, ``refund``, ``return_authorization`` or ``return_refund``;
    ``target_id`` the FeedAMP order (or return) id, which must be stored for ``account``.
    ``settings`` (the daemon's, or its ``[outbox]`` section) give the number templates; the
    defaults apply without them. ``kinds`` is the daemon's registry unless it was extended
    with kinds of one's own. Nothing is committed here: the caller commits.

    Raises InvalidPayload (nothing added) when anything is wrong. If it reports another
    message taking the same number at the same moment, the transaction is unusable on
    PostgreSQL: roll it back.
    """
    _check_target_id(target_id)
    declared = kinds.seller_kind(kind)
    checked = check_payload(declared, payload)
    conn = (
        connection_or_session.connection()
        if isinstance(connection_or_session, Session)
        else connection_or_session
    )
    facts = load_facts(conn, subject_of(declared, account, target_id, before_id=None))
    require_context(declared, checked, facts, account=account, target_id=target_id)
    message_id = insert_message(
        conn, account=account, kind=kind, target_id=target_id, payload=checked.payload
    )
    try:
        number = numbered(
            declared,
            checked.payload,
            message_id=message_id,
            database=database_identity(conn),
            account=account,
            target_id=target_id,
            facts=facts,
            templates=_templates(settings),
        )
        if number is not None:
            _refuse_if_taken(conn, declared, number)
    except InvalidPayload:
        delete_message(conn, message_id)
        raise
    if number is not None:
        reserve_number(
            conn,
            message_id,
            payload=number.payload,
            unique_key=number.unique_key,
            own_number=number.own,
        )
    stored = checked.payload if number is None else number.payload
    return EnqueuedMessage(
        message_id, account, kind, target_id, "pending", stored, checked.warnings
    )


def _check_target_id(target_id: Any) -> None:
    """A target id is text any backend stores, no longer than FeedAMP's ids: one given on a
    command line may hold bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    if not isinstance(target_id, str) or not target_id:
        raise InvalidPayload([f"target_id: must be a non-empty string, got {shown(target_id)}"])
    problem = text_problem(target_id)
    if problem is not None:
        raise InvalidPayload([f"target_id: {problem}"])
    if len(target_id) > FEEDAMP_ID_MAX_CHARS:
        raise InvalidPayload(
            [f"target_id: {len(target_id)} characters, over {FEEDAMP_ID_MAX_CHARS} (FeedAMP's ids)"]
        )


def _refuse_if_taken(conn: Connection, kind: Kind, number: Numbered) -> None:
    taken = holder_of(conn, number.unique_key)
    if taken is not None:
        raise already_used(kind, number.number, taken.message_id, taken.status)


def _templates(settings: Settings | OutboxSettings | None) -> OutboxSettings:
    if isinstance(settings, Settings):
        return settings.outbox
    return settings if settings is not None else OutboxSettings()
