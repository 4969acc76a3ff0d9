"""What the database knows that a seller action is checked against and built from.

The db layer loads these (``feedamp_sync/db/seller_actions.py``) in the caller's transaction
at enqueue, or in the engine's claiming thread before delivery, so the checks and handlers
that use them stay pure and never run SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Target(Enum):
    """What a message is about. Each target's messages form a queue of their own."""

    ORDER = "order"
    RETURN = "return"
    SINK = "sink"
    """A webhook sink: its ``target_id`` is the sink's name, so it receives one at a time."""


@dataclass(frozen=True)
class StoredLine:
    """An order line as stored: its ordered quantity (None if FeedAMP sent none) and SKU."""

    quantity: int | None
    sku: str | None


@dataclass(frozen=True)
class EarlierMessage:
    """A message of the same kind enqueued before the one being checked (for a kind that
    builds on its predecessors, as fulfillments do), and not given up on.

    ``status`` is ``sent``, ``pending`` or ``in_flight``; a ``dead`` or ``cancelled`` one
    covers nothing until an operator puts it back in the queue.
    """

    message_id: int
    status: str
    payload: Any


@dataclass(frozen=True)
class OrderFacts:
    """A stored order: its lines by ``mp_line_number`` and the earlier messages of the kind
    being checked, when that kind asks for them."""

    order_id: str
    lines: Mapping[str, StoredLine]
    earlier_messages: tuple[EarlierMessage, ...] = field(default=())
    last_request: Any = None
    """For a message claimed again: the request its latest attempt that sent one recorded
    (a fulfillment's whole body, FeedAMP's entries of the time included), so its retry can
    tell whether that attempt took effect; None otherwise."""

    @property
    def sent_earlier(self) -> tuple[EarlierMessage, ...]:
        return tuple(e for e in self.earlier_messages if e.status == "sent")


@dataclass(frozen=True)
class StoredReturnLine:
    """A return line as stored: the marketplace's number for it, and FeedAMP's id for it
    (its ``feedamp_return_line_id``, else its ``id``) when FeedAMP showed one."""

    mp_return_line_number: str
    line_id: str | None = None

    @property
    def key(self) -> str:
        """What a return refund names the line by: FeedAMP's id, else the marketplace's line
        number (the docs' return lines show no id; they call the refund's
        ``feedamp_return_line_id`` "the refund line number")."""
        return self.line_id or self.mp_return_line_number


@dataclass(frozen=True)
class ReturnFacts:
    """A stored return: its marketplace number and its lines, in stored order."""

    return_id: str
    mp_return_number: str | None
    lines: tuple[StoredReturnLine, ...]


Facts = OrderFacts | ReturnFacts | None
"""None: the order or return is not stored for that account."""
