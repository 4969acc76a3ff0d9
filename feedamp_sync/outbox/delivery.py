"""How an attempt's end becomes the message's next state.

A kind's ``deliver`` (see :mod:`feedamp_sync.outbox.kind`) makes its action take effect once,
reconciling with FeedAMP when an earlier attempt may have taken effect, and returns
:class:`Delivered` or raises the API's errors; :func:`conclude` turns either into the row's
next state with the retry policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feedamp_sync.core.attempts import AttemptResult, Notice, OrderConfirmed
from feedamp_sync.errors import (
    ActionConflict,
    ApiError,
    ApiUnavailable,
    FeedampSyncError,
    InvalidPayload,
    LeaseExpired,
)
from feedamp_sync.model import OutboxMessage
from feedamp_sync.retries import GiveUp, GiveUpReason, RetryPolicy


@dataclass(frozen=True)
class Delivered:
    """A successful delivery: what was sent, what FeedAMP answered, and how we know.

    ``confirmed`` is set by a confirm: the local order is marked confirmed in the same
    transaction that records the message sent. ``notice`` names something an operator should
    know about the account, recorded where ``status`` shows it (see ``App.push_outbox``).
    """

    request: Any
    response: Any
    status_code: int | None = 200
    reconciled: bool = False
    confirmed: OrderConfirmed | None = None
    notice: Notice | None = None


def conclude(
    message: OutboxMessage,
    outcome: Delivered | BaseException,
    *,
    now: datetime,
    policy: RetryPolicy,
    rng: Callable[[], float],
    request: Any = None,
    delivering: bool = False,
) -> AttemptResult:
    """The message's next state after an attempt ended with ``outcome``.

    ``request`` is what a failed attempt sent (or was about to send), for the record.
    ``delivering`` says the kind's ``deliver`` ran, so the attempt may have reached FeedAMP
    (a message refused while it was prepared never did).
    """
    if isinstance(outcome, Delivered):
        return AttemptResult(
            message,
            "sent",
            now,
            status_code=outcome.status_code,
            request=outcome.request,
            response=outcome.response,
            confirmed=outcome.confirmed,
            notice=outcome.notice,
        )
    error = _describe(outcome)
    status = outcome.status_code if isinstance(outcome, ApiError) else None
    unknown = delivering and may_have_taken_effect(outcome)
    attempts = message.attempts_in_budget
    decision = policy.after(outcome, attempts=attempts, rng=rng)
    if isinstance(decision, GiveUp):
        if decision.reason is GiveUpReason.EXHAUSTED:
            error = f"gave up after {attempts} attempts; last error: {error}"
        return AttemptResult(
            message,
            "dead",
            now,
            error=error,
            status_code=status,
            request=request,
            effect_unknown=unknown,
        )
    return AttemptResult(
        message,
        "retry" if decision.counted else "deferred",
        now,
        error=error,
        status_code=status,
        request=request,
        next_attempt_at=now + timedelta(seconds=decision.wait_seconds),
        effect_unknown=unknown,
    )


def may_have_taken_effect(error: BaseException) -> bool:
    """Whether a delivery that failed with ``error`` may have changed something at FeedAMP.

    FeedAMP refusing (a 4xx, credentials refused), the daemon refusing (a conflict, a bad
    payload) and a claim that ran out before sending are known non-effects; an unavailable
    FeedAMP is as the client judged the request (see ``ApiUnavailable.effect_unknown``); a
    fault in the kind's own code may have come after its request, so it is unknown.
    """
    if isinstance(error, ApiUnavailable):
        return error.effect_unknown
    return not isinstance(error, FeedampSyncError)


def _describe(error: BaseException) -> str:
    if isinstance(error, InvalidPayload):
        return f"invalid payload: {error}"
    if isinstance(error, ApiError | ActionConflict | LeaseExpired):
        return str(error)
    # Delivery runs no SQL, so no database error (whose text could quote order data) gets here.
    return f"internal error: {type(error).__name__}: {error}"
