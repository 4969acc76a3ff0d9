"""Claimed seller actions made ready for their handlers, in the engine's claiming thread.

A seller's system may insert a row straight into ``feedamp_outbox``, so nothing about it has
been checked when it is claimed. Before a handler sees it, each claimed seller action is
validated exactly as ``enqueue`` would (shape, then the stored order or return), gets its
number written into its payload and ``unique_key`` if it needs one and has none yet (before
its first send, fenced by the claim), and is given the plan its handler sends. A message
that fails is refused here and the engine puts it to ``dead`` with every problem named; the
rest of the batch goes on. A claim is prepared in one transaction. Handlers never run SQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import structlog
from sqlalchemy import Connection, Engine

from feedamp_sync.db.seller_actions import (
    Fence,
    Subject,
    holder_of,
    load_facts_of,
    reserve_number,
    unique_key_of,
)
from feedamp_sync.db.transactions import in_transaction
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.context import require_context
from feedamp_sync.outbox.facts import Facts
from feedamp_sync.outbox.numbers import already_used, numbered
from feedamp_sync.outbox.payloads import SELLER_KINDS, check_payload
from feedamp_sync.outbox.plans import plan_for
from feedamp_sync.settings import OutboxSettings

log = structlog.get_logger(__name__)


@dataclass
class Preparation:
    """Claimed messages sorted: ready for delivery, or refused with the reasons."""

    ready: list[OutboxMessage] = field(default_factory=list)
    refused: list[tuple[OutboxMessage, InvalidPayload]] = field(default_factory=list)


class Preparer:
    """Checks, numbers and plans claimed seller actions; other kinds pass through."""

    def __init__(self, engine: Engine, templates: OutboxSettings) -> None:
        self._engine = engine
        self._templates = templates

    def __call__(self, owner: str, messages: Sequence[OutboxMessage]) -> Preparation:
        if not any(message.kind in SELLER_KINDS for message in messages):
            return Preparation(ready=list(messages))
        return in_transaction(self._engine, partial(self._prepare_all, owner, messages))

    def _prepare_all(
        self, owner: str, messages: Sequence[OutboxMessage], conn: Connection
    ) -> Preparation:
        """The whole claim in one transaction: a refused message has written nothing (every
        check comes before its number is reserved), so it cannot spoil the others."""
        preparation = Preparation()
        actions = [message for message in messages if message.kind in SELLER_KINDS]
        subjects = [Subject(m.kind, m.account, m.target_id, before_id=m.id) for m in actions]
        facts_of = dict(zip((m.id for m in actions), load_facts_of(conn, subjects), strict=True))
        for message in messages:
            if message.kind not in SELLER_KINDS:
                preparation.ready.append(message)
                continue
            try:
                ready = self._prepare(owner, message, facts_of[message.id], conn)
            except InvalidPayload as problems:
                preparation.refused.append((message, problems))
                continue
            if ready is None:
                log.warning("outbox_lease_lost", message_id=message.id, kind=message.kind)
                continue
            preparation.ready.append(ready)
        return preparation

    def _prepare(
        self, owner: str, message: OutboxMessage, facts: Facts, conn: Connection
    ) -> OutboxMessage | None:
        """The message with its plan; None if its claim was lost while numbering it."""
        checked = check_payload(message.kind, message.payload)
        if message.attempts == 1:
            for warning in checked.warnings:
                log.warning("outbox_payload_warning", message_id=message.id, warning=warning)
        require_context(checked, facts, account=message.account, target_id=message.target_id)
        payload = checked.payload
        number = numbered(
            message.kind,
            payload,
            message_id=message.id,
            account=message.account,
            target_id=message.target_id,
            facts=facts,
            templates=self._templates,
        )
        if number is not None:
            if unique_key_of(conn, message.id) != number.unique_key:
                taken = holder_of(conn, number.unique_key)
                if taken is not None:
                    raise already_used(message.kind, number.number, taken.message_id, taken.status)
                # A savepoint: a number taken at the same moment fails this statement, and
                # on PostgreSQL that would spoil the rest of the claim's transaction.
                with conn.begin_nested():
                    reserved = reserve_number(
                        conn,
                        message.id,
                        payload=number.payload,
                        unique_key=number.unique_key,
                        fence=Fence(owner, message.attempts),
                    )
                if not reserved:
                    return None
            payload = number.payload
        return dataclasses.replace(
            message, payload=payload, plan=plan_for(message.kind, payload, facts)
        )
