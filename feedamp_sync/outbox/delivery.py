"""How an attempt's end becomes the message's next state.

A kind's ``deliver`` (see :mod:`feedamp_sync.outbox.kind`) makes its action take effect once,
reconciling with FeedAMP when an earlier attempt may have taken effect, and returns
:class:`Delivered` or raises the API's errors; :func:`conclude` turns either into the row's
next state with the retry policy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feedamp_sync.core.attempts import AttemptResult, OrderConfirmed
from feedamp_sync.db.errors import describe
from feedamp_sync.errors import (
    ActionConflict,
    ApiAuthError,
    ApiError,
    ApiRejected,
    ApiUnavailable,
    InvalidPayload,
    LeaseExpired,
)
from feedamp_sync.model import OutboxMessage
from feedamp_sync.policy import Backoff, Verdict, after_failure

AUTH_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class Delivered:
    """A successful delivery: what was sent, what FeedAMP answered, and how we know.

    ``confirmed`` is set by a confirm: the local order is marked confirmed in the same
    transaction that records the message sent.
    """

    request: Any
    response: Any
    status_code: int | None = 200
    reconciled: bool = False
    confirmed: OrderConfirmed | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff: Backoff


def conclude(
    message: OutboxMessage,
    outcome: Delivered | BaseException,
    *,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
    request: Any = None,
) -> AttemptResult:
    """The message's next state after an attempt ended with ``outcome``.

    ``request`` is what a failed attempt sent (or was about to send), for the record.
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
        )
    error = _describe(outcome)
    status = outcome.status_code if isinstance(outcome, ApiError) else None
    if isinstance(outcome, ApiAuthError | LeaseExpired):
        wait = AUTH_RETRY_SECONDS if isinstance(outcome, ApiAuthError) else 0.0
        return AttemptResult(
            message,
            "deferred",
            now,
            error=error,
            status_code=status,
            request=request,
            next_attempt_at=now + timedelta(seconds=wait),
        )
    retryable = not isinstance(outcome, ApiRejected | ActionConflict | InvalidPayload)
    retry_after = outcome.retry_after if isinstance(outcome, ApiUnavailable) else None
    step = after_failure(
        retryable=retryable,
        attempts=message.attempts_in_budget,
        max_attempts=policy.max_attempts,
        retry_after=retry_after,
        now=now,
        backoff=policy.backoff,
        rng=rng,
    )
    if step.verdict is Verdict.DEAD:
        if retryable:
            error = f"gave up after {message.attempts_in_budget} attempts; last error: {error}"
        return AttemptResult(message, "dead", now, error=error, status_code=status, request=request)
    return AttemptResult(
        message,
        "retry",
        now,
        error=error,
        status_code=status,
        request=request,
        next_attempt_at=step.not_before,
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, InvalidPayload):
        return f"invalid payload: {error}"
    if isinstance(error, ApiError | ActionConflict | LeaseExpired):
        return str(error)
    return f"internal error: {describe(error)}"
