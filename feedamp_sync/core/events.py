"""The event catalogue: what the seller's systems are told, as a versioned contract.

An event records one fact the daemon stored (an order first seen, a confirm FeedAMP accepted,
a state that changed, a message sent or given up on), written to ``feedamp_events`` in the
transaction that stores the fact, so the log holds each fact once: never a fact that was
rolled back, never a stored fact without its event. Each type's body is built here, and only
here, so the README's catalogue has one source.

Every body carries ``"v": SCHEMA_VERSION``. Version 1 may gain fields (a consumer ignores
those it does not know); a field is never removed or given another meaning without a new
version. Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

SCHEMA_VERSION: Final = 1

ORDER_STORED: Final = "order.stored"
ORDER_CONFIRMED: Final = "order.confirmed"
ORDER_CHANGED: Final = "order.changed"
RETURN_STORED: Final = "return.stored"
RETURN_CHANGED: Final = "return.changed"
MESSAGE_SENT: Final = "message.sent"
MESSAGE_DEAD: Final = "message.dead"

EVENT_TYPES: Final = (
    ORDER_STORED,
    ORDER_CONFIRMED,
    ORDER_CHANGED,
    RETURN_STORED,
    RETURN_CHANGED,
    MESSAGE_SENT,
    MESSAGE_DEAD,
)
"""Every type, in the catalogue's order."""

ERROR_MAX_CHARS: Final = 500
"""How much of a dead message's last error its event carries (the row keeps it whole)."""


@dataclass(frozen=True)
class Event:
    """One fact for the log. ``subject`` is what it is about: the FeedAMP order or return id,
    or the outbox message id."""

    type: str
    account: str
    subject: str
    occurred_at: datetime
    body: Mapping[str, Any]


class FieldChange(Protocol):
    """A tracked field's value before and after (``from``/``to`` in a body), as
    ``order_states.Change`` holds it."""

    @property
    def field(self) -> str: ...

    @property
    def from_value(self) -> str | None: ...

    @property
    def to_value(self) -> str | None: ...


def _body(**fields: Any) -> dict[str, Any]:
    return {"v": SCHEMA_VERSION, **fields}


def _changes(found: Sequence[FieldChange]) -> list[dict[str, Any]]:
    return [{"field": c.field, "from": c.from_value, "to": c.to_value} for c in found]


def order_stored(
    account: str,
    feedamp_id: str,
    *,
    mp_order_number: str | None,
    marketplace: str | None,
    state: str | None,
    marketplace_state: str | None,
    cp_order_number: str | None,
    confirmed: bool,
    at: datetime,
) -> Event:
    """An order stored for the first time; ``confirmed`` when FeedAMP already showed it
    confirmed (by an earlier integration): no ``order.confirmed`` follows for it then."""
    return Event(
        ORDER_STORED,
        account,
        feedamp_id,
        at,
        _body(
            feedamp_id=feedamp_id,
            mp_order_number=mp_order_number,
            marketplace=marketplace,
            state=state,
            marketplace_state=marketplace_state,
            cp_order_number=cp_order_number,
            confirmed=confirmed,
        ),
    )


def order_confirmed(
    account: str,
    feedamp_id: str,
    *,
    cp_order_number: str | None,
    state: str | None,
    message_id: int,
    at: datetime,
) -> Event:
    """FeedAMP accepted our confirm of the order (``message_id``: the confirm message)."""
    return Event(
        ORDER_CONFIRMED,
        account,
        feedamp_id,
        at,
        _body(
            feedamp_id=feedamp_id,
            cp_order_number=cp_order_number,
            state=state,
            message_id=message_id,
        ),
    )


def order_changed(
    account: str,
    feedamp_id: str,
    *,
    state: str | None,
    marketplace_state: str | None,
    changes: Sequence[FieldChange],
    source: str,
    at: datetime,
) -> Event:
    """A stored order's ``state`` or ``marketplace_state`` changed (one event for all the
    fields that changed in one read); ``source``: ``poll``, ``refresh`` or ``fetch``."""
    return Event(
        ORDER_CHANGED,
        account,
        feedamp_id,
        at,
        _body(
            feedamp_id=feedamp_id,
            state=state,
            marketplace_state=marketplace_state,
            changes=_changes(changes),
            source=source,
        ),
    )


def return_stored(
    account: str,
    feedamp_id: str,
    *,
    order_feedamp_id: str | None,
    mp_return_number: str | None,
    mp_order_number: str | None,
    state: str | None,
    at: datetime,
) -> Event:
    """A return stored for the first time."""
    return Event(
        RETURN_STORED,
        account,
        feedamp_id,
        at,
        _body(
            feedamp_id=feedamp_id,
            order_feedamp_id=order_feedamp_id,
            mp_return_number=mp_return_number,
            mp_order_number=mp_order_number,
            state=state,
        ),
    )


def return_changed(
    account: str,
    feedamp_id: str,
    *,
    order_feedamp_id: str | None,
    mp_return_number: str | None,
    state_from: str | None,
    state_to: str | None,
    at: datetime,
) -> Event:
    """A stored return's ``state`` changed (``Pending Refund``, say)."""
    return Event(
        RETURN_CHANGED,
        account,
        feedamp_id,
        at,
        _body(
            feedamp_id=feedamp_id,
            order_feedamp_id=order_feedamp_id,
            mp_return_number=mp_return_number,
            state=state_to,
            changes=[{"field": "state", "from": state_from, "to": state_to}],
        ),
    )


def message_finished(
    account: str,
    message_id: int,
    *,
    sent: bool,
    kind: str,
    target_id: str,
    attempts: int,
    status_code: int | None,
    error: str | None,
    at: datetime,
) -> Event:
    """An outbox message was sent (FeedAMP holds its action), or went ``dead`` (an operator
    must look at it): ``error`` is the reason, shortened."""
    body = _body(
        message_id=message_id,
        kind=kind,
        target_id=target_id,
        attempts=attempts,
        status_code=status_code,
    )
    if not sent:
        body["error"] = None if error is None else error[:ERROR_MAX_CHARS]
    return Event(MESSAGE_SENT if sent else MESSAGE_DEAD, account, str(message_id), at, body)


def unknown_types(types: Sequence[str]) -> list[str]:
    """The names in ``types`` that are no event type (for a filter's validation)."""
    return [name for name in types if name not in EVENT_TYPES]
