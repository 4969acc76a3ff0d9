"""Pure decisions: seller numbers, retry timing, and what a read-back of an order means.

Nothing here performs I/O; every function takes the facts it needs (including the clock and
the random source) and returns a value, so each rule is tested without fixtures.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

UNCONFIRMED_ORDER_STATES: Final = frozenset({"ORDERED", "PENDING"})


def seller_number(template: str, **fields: Any) -> str:
    """Render a seller number (``cp_order_number``, ``cp_refund_number``...) from its template.

    The template was validated at start; the defaults take FeedAMP's order id
    (``FA{feedamp_id}``) or this database's identity with a local id (``RF{database}-{id}``),
    so no other database renders them too, and the unique constraints guard templates that
    do not.
    """
    return template.format(**fields)


def disambiguated(number: str, row_id: int) -> str:
    """The number to use instead when a template produced one that is already taken."""
    return f"{number}-{row_id}"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter: the n-th retry waits between d/2 and d,
    d = min(cap, base * 2**(n-1)). Jitter spreads retries of many messages that failed
    together (one outage) so they do not return as one burst.
    """

    base_seconds: float
    cap_seconds: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Verdict(Enum):
    """What to do with a message after an attempt that did not succeed."""

    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class NextStep:
    verdict: Verdict
    not_before: datetime | None = None


def after_failure(
    *,
    retryable: bool,
    attempts: int,
    max_attempts: int,
    retry_after: float | None,
    now: datetime,
    backoff: Backoff,
    rng: random.Random,
) -> NextStep:
    """Retry later (honouring the server's Retry-After) or give up and go dead.

    ``attempts`` counts the current budget only: an operator's retry of a dead message
    starts a new one, with short backoffs again.
    """
    if not retryable or attempts >= max_attempts:
        return NextStep(Verdict.DEAD)
    delay = retry_after if retry_after is not None else backoff.delay(attempts, rng)
    return NextStep(Verdict.RETRY, now + timedelta(seconds=delay))


class ReadBack(Enum):
    """What FeedAMP's copy of an order says about an earlier confirm attempt."""

    CONFIRMED_WITH_OUR_NUMBER = "ours"
    NOT_CONFIRMED = "not_confirmed"
    CONFIRMED_WITH_OTHER_NUMBER = "other"


def confirm_read_back(order: Mapping[str, Any], our_number: str) -> tuple[ReadBack, str | None]:
    """Judge whether an order read back from FeedAMP already carries our confirmation.

    Our number there means the earlier attempt took effect. An order still in a new state
    has not been confirmed (whatever ``cp_order_number`` it shows, as the published samples
    show one on new orders). Anything else was confirmed by someone else: the caller must
    stop and say so loudly rather than confirm a second time. Returns the verdict and the
    number FeedAMP holds.
    """
    info = order.get("order_info")
    held = info.get("cp_order_number") if isinstance(info, Mapping) else None
    held_number = str(held) if held not in (None, "") else None
    if held_number == our_number:
        return ReadBack.CONFIRMED_WITH_OUR_NUMBER, held_number
    if str(order.get("state", "")).upper() in UNCONFIRMED_ORDER_STATES:
        return ReadBack.NOT_CONFIRMED, held_number
    return ReadBack.CONFIRMED_WITH_OTHER_NUMBER, held_number
