"""Claimed messages made ready for delivery, in the engine's claiming thread.

A seller's system may insert a row straight into ``feedamp_outbox``, so nothing about it has
been checked when it is claimed. Before its kind's ``deliver`` sees it, each claimed message
is validated exactly as ``enqueue`` would (shape, then the stored order or return), gets its
number written into its payload and ``unique_key`` if its kind carries one and it has none
yet (before its first send, fenced by the claim), and is given the plan it sends. A message
that fails is refused here and the engine puts it to ``dead`` with every problem named; the
rest of the batch goes on. A claim that needs stored data is prepared in one transaction.
Delivery never runs SQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import structlog
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from feedamp_sync.core.facts import Facts, OrderFacts
from feedamp_sync.db.errors import database_error_on_outage, logged_traceback
from feedamp_sync.db.identity import database_identity
from feedamp_sync.db.seller_actions import (
    Fence,
    Subject,
    holder_of,
    last_requests,
    load_facts_of,
    reserve_number,
    unique_key_of,
)
from feedamp_sync.db.transactions import in_transaction
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.context import require_context
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.outbox.kinds import Kinds
from feedamp_sync.outbox.numbers import already_used, numbered
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.settings import OutboxSettings

log = structlog.get_logger(__name__)


@dataclass
class Preparation:
    """Claimed messages sorted: ready for delivery, or refused with the reasons.

    A refusal is an :class:`InvalidPayload` (the message goes dead with its problems) or, for
    a fault in a kind's own code, the exception itself (the message is retried later, as after
    a delivery that crashed): either way it costs only its own message.
    """

    ready: list[OutboxMessage] = field(default_factory=list)
    refused: list[tuple[OutboxMessage, Exception]] = field(default_factory=list)


class Preparer:
    """Checks, numbers and plans claimed messages by what their kind asks for."""

    def __init__(self, engine: Engine, templates: OutboxSettings, kinds: Kinds) -> None:
        self._engine = engine
        self._templates = templates
        self._kinds = kinds

    @database_error_on_outage()
    def __call__(self, owner: str, messages: Sequence[OutboxMessage]) -> Preparation:
        preparation = Preparation()
        needing_facts: list[tuple[OutboxMessage, Kind]] = []
        for message in messages:
            try:
                kind = self._kind_of(message)
                if not kind.needs_facts:
                    check_payload(kind, message.payload)
                    preparation.ready.append(message)
                    continue
            except InvalidPayload as problems:
                preparation.refused.append((message, problems))
                continue
            except Exception as error:
                preparation.refused.append((message, _crashed(message, error)))
                continue
            needing_facts.append((message, kind))
        if needing_facts:
            with_facts = in_transaction(
                self._engine, partial(self._prepare_all, owner, needing_facts)
            )
            preparation.ready += with_facts.ready
            preparation.refused += with_facts.refused
        return preparation

    def _kind_of(self, message: OutboxMessage) -> Kind:
        kind = self._kinds.get(message.kind)
        if kind is None:
            raise InvalidPayload([f"kind: unknown {message.kind!r}; known: {sorted(self._kinds)}"])
        return kind

    def _prepare_all(
        self, owner: str, messages: Sequence[tuple[OutboxMessage, Kind]], conn: Connection
    ) -> Preparation:
        """Every message in one transaction: a refused message has written nothing (every
        check comes before its number is reserved), so it cannot spoil the others."""
        preparation = Preparation()
        numbered_kinds = any(kind.number is not None for _, kind in messages)
        database = database_identity(conn) if numbered_kinds else ""
        subjects = [
            subject_of(kind, m.account, m.target_id, before_id=m.id) for m, kind in messages
        ]
        facts_of = load_facts_of(conn, subjects)
        sent_before = last_requests(conn, [m.id for m, kind in messages if _retried(m, kind)])
        for (message, kind), facts in zip(messages, facts_of, strict=True):
            if isinstance(facts, OrderFacts) and message.id in sent_before:
                facts = dataclasses.replace(facts, last_request=sent_before[message.id])
            try:
                ready = self._prepare(owner, message, kind, facts, database, conn)
            except InvalidPayload as problems:
                preparation.refused.append((message, problems))
                continue
            except SQLAlchemyError:
                raise  # the transaction itself failed: the whole claim is tried again
            except Exception as error:
                preparation.refused.append((message, _crashed(message, error)))
                continue
            if ready is None:
                log.warning("outbox_lease_lost", message_id=message.id, kind=message.kind)
                continue
            preparation.ready.append(ready)
        return preparation

    def _prepare(
        self,
        owner: str,
        message: OutboxMessage,
        kind: Kind,
        facts: Facts,
        database: str,
        conn: Connection,
    ) -> OutboxMessage | None:
        """The message with its plan; None if its claim was lost while numbering it."""
        checked = check_payload(kind, message.payload)
        if message.attempts == 1:
            for warning in checked.warnings:
                log.warning("outbox_payload_warning", message_id=message.id, warning=warning)
        require_context(kind, checked, facts, account=message.account, target_id=message.target_id)
        payload = checked.payload
        number = numbered(
            kind,
            payload,
            message_id=message.id,
            database=database,
            account=message.account,
            target_id=message.target_id,
            facts=facts,
            templates=self._templates,
        )
        own_number = message.own_number
        if number is not None:
            if unique_key_of(conn, message.id) != number.unique_key:
                taken = holder_of(conn, number.unique_key)
                if taken is not None:
                    raise already_used(kind, number.number, taken.message_id, taken.status)
                # A savepoint: a number taken at the same moment fails this statement, and
                # on PostgreSQL that would spoil the rest of the claim's transaction.
                with conn.begin_nested():
                    reserved = reserve_number(
                        conn,
                        message.id,
                        payload=number.payload,
                        unique_key=number.unique_key,
                        own_number=number.own,
                        fence=Fence(owner, message.attempts),
                    )
                if not reserved:
                    return None
                own_number = number.own
            payload = number.payload
        plan = kind.plan(payload, facts) if kind.plan is not None else None
        return dataclasses.replace(message, payload=payload, plan=plan, own_number=own_number)


def _retried(message: OutboxMessage, kind: Kind) -> bool:
    """Whether the message is claimed again and its kind plans from what was sent before
    (a fulfillment tells from the body it PUT whether that took effect)."""
    return kind.builds_on_earlier and message.attempts > 1


def _crashed(message: OutboxMessage, error: Exception) -> Exception:
    """A fault in a kind's own checks or planner, logged with its traceback."""
    log.error(
        "outbox_preparation_crashed",
        message_id=message.id,
        kind=message.kind,
        exception=logged_traceback(error),
    )
    return error


def subject_of(kind: Kind, account: str, target_id: str, *, before_id: int | None) -> Subject:
    """What the facts of a ``kind`` message are looked up by."""
    return Subject(
        kind.name,
        kind.target,
        account,
        target_id,
        before_id=before_id,
        with_earlier=kind.builds_on_earlier,
    )
