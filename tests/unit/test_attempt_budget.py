"""An operator's retry gives a message a fresh attempt budget; attempts keep counting."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from feedamp_sync.core.attempts import earlier_outcome_unknown
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


def test_a_first_attempt_has_no_earlier_outcome() -> None:
    """Nothing came before it."""
    assert earlier_outcome_unknown(1, {}) is False


def test_an_earlier_attempt_that_timed_out_leaves_the_outcome_unknown() -> None:
    """Its request may have been processed without our learning it."""
    assert earlier_outcome_unknown(3, {1: False, 2: True}) is True


def test_earlier_refusals_leave_no_outcome_unknown() -> None:
    """A 4xx, a 429, a connection never made: known non-effects, also before an operator's
    retry of a message that died on one."""
    assert earlier_outcome_unknown(3, {1: False, 2: False}) is False


def test_an_attempt_counted_but_never_recorded_may_have_applied() -> None:
    """Its process crashed or its lease ran out: what it sent is unknown."""
    assert earlier_outcome_unknown(3, {1: False}) is True


def test_only_attempts_before_this_one_count() -> None:
    """This attempt's own record (none yet) is not an earlier one."""
    assert earlier_outcome_unknown(2, {1: False, 2: True}) is False
