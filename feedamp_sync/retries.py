"""Whether to try again after a failure, and after how long: the one retry policy.

Two callers use it, each with its own parameters:

* the **outbox engine**, after a delivery attempt: ``outbox.max_attempts`` attempts per budget,
  backoff from ``outbox.backoff_base_seconds`` up to ``outbox.backoff_max_seconds`` with
  :attr:`Jitter.EQUAL`, and no deadline (the wait becomes the row's next attempt time);
* the **API client**, inside one call: ``api.get_attempts`` attempts, backoff from 0.5 s up to
  30 s with :attr:`Jitter.FULL`, and the call's deadline as the time left. A mutation that may
  have reached FeedAMP is not repeated there (``effect_unknown``): the outbox engine owns that
  retry, with its reconciliation.

What an error means for a retry:

* :class:`ApiAuthError`: try again in a minute without spending an attempt: the fix is an
  operator's (a password, an allowlist), and the work should not die while it waits for one.
* :class:`LeaseExpired`: nothing was sent; try again at once without spending an attempt.
* :class:`ApiRejected`, :class:`ActionConflict`, :class:`InvalidPayload`: final, give up.
* :class:`ApiUnavailable` and anything unexpected: wait the server's ``Retry-After`` when it gave
  one, else the backoff, until the attempts in the budget reach ``max_attempts``.

Nothing here performs I/O: the caller passes the attempts made, the random source and the time
left, and turns the answer into a sleep or a row's next attempt time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Final

from feedamp_sync.errors import (
    ActionConflict,
    ApiAuthError,
    ApiError,
    ApiRejected,
    ApiUnavailable,
    InvalidPayload,
    LeaseExpired,
)

AUTH_RETRY_SECONDS: Final = 60.0
"""How long work waits after FeedAMP refused the credentials: soon enough to resume shortly
after an operator's fix, seldom enough to leave FeedAMP's token endpoint in peace meanwhile."""

TOO_MANY_REQUESTS: Final = 429
"""The one failure of a mutation that is known to have had no effect: FeedAMP refused it before
processing."""


class Jitter(Enum):
    """Where in ``[0, ceiling]`` a backoff wait falls, drawn from the caller's random source."""

    EQUAL = "equal"
    """Between half and all of the ceiling. The outbox uses it: messages that failed together
    (one outage) come back spread out, and none returns sooner than half its backoff, so a
    message does not spend its attempt budget within seconds of an outage's start. A
    transaction the database aborted as a deadlock's victim waits so too before it runs
    again (``db/transactions``)."""

    FULL = "full"
    """Anywhere from zero to the ceiling. The client's in-call retries use it: threads of one
    account that failed together spread out the most, and a short wait is welcome inside a
    call's deadline."""

    def wait(self, ceiling: float, rng: Callable[[], float]) -> float:
        if self is Jitter.EQUAL:
            return ceiling / 2 + ceiling / 2 * rng()
        return rng() * ceiling


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: the n-th retry's ceiling is ``min(cap, base * 2**(n-1))``."""

    base_seconds: float
    cap_seconds: float
    jitter: Jitter

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        return self.jitter.wait(ceiling, rng)


@dataclass(frozen=True)
class Retry:
    """Try again after ``wait_seconds``; ``counted`` says whether the failed attempt spent one
    of the budget's attempts (refused credentials and a lost lease do not)."""

    wait_seconds: float
    counted: bool = True


class GiveUpReason(Enum):
    """Why a failure is not tried again by this caller."""

    FINAL = "final"
    """FeedAMP refused for good, or the work cannot be done as asked: repeating cannot help."""

    EXHAUSTED = "exhausted"
    """The attempts in the budget reached ``max_attempts``."""

    EFFECT_UNKNOWN = "effect_unknown"
    """The attempt may have taken effect at FeedAMP; the caller's caller reconciles first."""

    DEADLINE = "deadline"
    """The wait would end at or after the deadline; the caller schedules the retry itself."""


@dataclass(frozen=True)
class GiveUp:
    reason: GiveUpReason


Decision = Retry | GiveUp


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a budget holds, and how long to wait between them."""

    max_attempts: int
    backoff: Backoff

    def after(
        self,
        error: BaseException,
        *,
        attempts: int,
        rng: Callable[[], float],
        seconds_left: float = math.inf,
        effect_unknown: bool = False,
    ) -> Decision:
        """What to do after an attempt failed with ``error``.

        ``attempts`` counts the current budget only: an operator's retry of a dead message
        starts a new one, with short backoffs again. ``effect_unknown`` says that the attempt
        may have changed something at FeedAMP (a mutation that was sent), so only a refusal
        before processing (429) is repeated.
        """
        decision = self._decide(error, attempts=attempts, rng=rng, effect_unknown=effect_unknown)
        if isinstance(decision, Retry) and decision.wait_seconds >= seconds_left:
            return GiveUp(GiveUpReason.DEADLINE)
        return decision

    def _decide(
        self,
        error: BaseException,
        *,
        attempts: int,
        rng: Callable[[], float],
        effect_unknown: bool,
    ) -> Decision:
        if isinstance(error, ApiAuthError):
            return Retry(AUTH_RETRY_SECONDS, counted=False)
        if isinstance(error, LeaseExpired):
            return Retry(0.0, counted=False)
        if isinstance(error, ApiRejected | ActionConflict | InvalidPayload):
            return GiveUp(GiveUpReason.FINAL)
        if attempts >= self.max_attempts:
            return GiveUp(GiveUpReason.EXHAUSTED)
        if effect_unknown and not _refused_before_processing(error):
            return GiveUp(GiveUpReason.EFFECT_UNKNOWN)
        hint = error.retry_after if isinstance(error, ApiUnavailable) else None
        return Retry(hint if hint is not None else self.backoff.delay(attempts, rng))


def _refused_before_processing(error: BaseException) -> bool:
    return isinstance(error, ApiError) and error.status_code == TOO_MANY_REQUESTS
