"""How one delivery attempt ended, as the outbox decided it and the database records it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from feedamp_sync.model import OutboxMessage

CONFIRM_KIND: Final = "confirm"
"""The daemon's own kind: stored with each new order, in the order's transaction."""
WEBHOOK_KIND: Final = "webhook"
"""The daemon's own kind: an event handed to a webhook sink, enqueued by the fan-out."""
KIND_MAX_CHARS: Final = 32
"""The longest kind name the outbox's ``kind`` column holds."""

Outcome = Literal["sent", "retry", "dead", "deferred"]


@dataclass(frozen=True)
class OrderConfirmed:
    """What a sent confirm changes in the local copy of its order, in the same transaction
    that marks the message sent: ``confirmed_at``, and FeedAMP's state when it gave one."""

    account: str
    order_id: str
    state: str | None


@dataclass(frozen=True)
class Notice:
    """Something about an account an operator should know, found while delivering (FeedAMP's
    orders show no fulfillment data, say). ``name`` is where ``status`` shows it, as a job of
    the account whose last error is ``text``."""

    name: str
    text: str


@dataclass(frozen=True)
class AttemptResult:
    """The end of one attempt, as the engine decided it.

    ``deferred`` returns the message to the queue without counting the attempt (nothing
    reached FeedAMP, e.g. the account's credentials are being refused). ``effect_unknown``
    is recorded with the attempt: it may have changed something at FeedAMP without our
    learning the answer (see :func:`earlier_outcome_unknown`).
    """

    message: OutboxMessage
    outcome: Outcome
    now: datetime
    next_attempt_at: datetime | None = None
    error: str | None = None
    status_code: int | None = None
    request: Any = None
    response: Any = None
    confirmed: OrderConfirmed | None = None
    notice: Notice | None = None
    effect_unknown: bool = False


def earlier_outcome_unknown(attempt: int, recorded: Mapping[int, bool]) -> bool:
    """Whether an attempt before ``attempt`` may have taken effect at FeedAMP unseen.

    ``recorded`` maps each recorded attempt's number to its ``effect_unknown``. An attempt
    that was counted but never recorded (its process crashed, or its lease ran out and its
    result was fenced off) may have sent anything; one that was recorded left its outcome
    unknown only after a timeout, a dropped connection or a 5xx on its mutation. A refusal
    (a 4xx, a 429) or a connection never made is a known non-effect, also when an operator's
    ``outbox retry`` follows it.
    """
    return any(recorded.get(earlier, True) for earlier in range(1, attempt))
