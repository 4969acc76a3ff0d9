"""An operator's retry gives a message a fresh attempt budget; attempts keep counting."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from feedamp_sync.errors import ApiUnavailable
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import conclude
from feedamp_sync.retries import Backoff, Jitter, RetryPolicy

NOW = datetime(2026, 5, 1, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=3, backoff=Backoff(base_seconds=1, cap_seconds=10, jitter=Jitter.EQUAL)
)
OUTAGE = ApiUnavailable("busy", status_code=503)


def message(attempts: int, budget_start: int) -> OutboxMessage:
    return OutboxMessage(
        1, "main", "confirm", "42", {"cp_order_number": "FA42"}, attempts, budget_start
    )


def end(attempts: int, budget_start: int) -> str:
    return conclude(
        message(attempts, budget_start), OUTAGE, now=NOW, policy=POLICY, rng=random.Random(1).random
    ).outcome


def test_attempts_since_the_retry_count_towards_max_attempts() -> None:
    """After a retry at attempt 3, attempts 4 and 5 retry and attempt 6 is dead."""
    assert [end(n, 3) for n in (4, 5, 6)] == ["retry", "retry", "dead"]


def test_without_a_retry_the_budget_is_the_whole_life() -> None:
    """A message never retried by an operator goes dead at max_attempts."""
    assert end(3, 0) == "dead"


def test_the_dead_reason_counts_the_current_budget() -> None:
    """The dead reason ("gave up after N attempts") counts the attempts since the retry."""
    result = conclude(message(6, 3), OUTAGE, now=NOW, policy=POLICY, rng=random.Random(1).random)
    assert result.error is not None
    assert result.error.startswith("gave up after 3 attempts")


def test_a_retried_message_still_reconciles_earlier_attempts() -> None:
    """The first attempt of a new budget is not a first attempt: handlers read back first."""
    fresh = message(4, 3)
    assert (fresh.attempts_in_budget, fresh.earlier_attempt_may_have_applied) == (1, True)
