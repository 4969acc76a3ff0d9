"""The one retry policy: what each error means, the backoff and its jitter, the deadline."""

from __future__ import annotations

import random

import pytest

from feedamp_sync.errors import (
    ActionConflict,
    ApiAuthError,
    ApiForbidden,
    ApiRejected,
    ApiUnavailable,
    InvalidPayload,
    LeaseExpired,
)
from feedamp_sync.feedamp.client import CALL_BACKOFF
from feedamp_sync.retries import (
    Backoff,
    GiveUp,
    GiveUpReason,
    Jitter,
    Retry,
    RetryPolicy,
)

OUTBOX = RetryPolicy(max_attempts=5, backoff=Backoff(2, 60, Jitter.EQUAL))
IN_CALL = RetryPolicy(max_attempts=5, backoff=CALL_BACKOFF)
SERVER_ERROR = ApiUnavailable("boom", status_code=503)


def highest() -> float:
    return 1.0


def test_equal_jitter_waits_at_least_half_the_ceiling() -> None:
    """The smallest draw still waits half the ceiling."""
    assert Jitter.EQUAL.wait(8, lambda: 0.0) == 4


def test_full_jitter_may_not_wait_at_all() -> None:
    """The smallest draw waits nothing."""
    assert Jitter.FULL.wait(8, lambda: 0.0) == 0


def test_both_jitters_reach_the_ceiling() -> None:
    """The highest draw waits the whole ceiling, whichever the jitter."""
    assert (Jitter.EQUAL.wait(8, highest), Jitter.FULL.wait(8, highest)) == (8, 8)


def test_outbox_backoff_grows_exponentially_within_jitter_bounds() -> None:
    """The n-th retry waits between half and all of base * 2**(n-1)."""
    rng = random.Random(1).random
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16)]:
        delay = OUTBOX.backoff.delay(attempt, rng)
        assert ceiling / 2 <= delay <= ceiling


def test_outbox_backoff_is_capped() -> None:
    """No retry waits longer than the cap, however many attempts came before."""
    assert OUTBOX.backoff.delay(50, random.Random(1).random) <= 60


def test_in_call_backoff_doubles_from_half_a_second_up_to_thirty() -> None:
    """The ceiling of the n-th wait inside a call is min(30, 0.5 * 2**(n-1)) seconds."""
    delays = [CALL_BACKOFF.delay(n, highest) for n in (1, 2, 3, 7, 8, 20)]
    assert delays == [0.5, 1, 2, 30, 30, 30]


def test_in_call_backoff_is_full_jitter() -> None:
    """Inside a call the wait is the random fraction of the ceiling, anywhere from zero up."""
    assert CALL_BACKOFF.delay(3, lambda: 0.25) == 0.5


def test_unavailability_is_retried_after_the_backoff() -> None:
    """An ApiUnavailable below the attempt limit waits the backoff and spends the attempt."""
    decision = OUTBOX.after(SERVER_ERROR, attempts=1, rng=highest)
    assert decision == Retry(2.0, counted=True)


def test_an_unexpected_error_is_retried_after_the_backoff() -> None:
    """A bug's exception is treated as passing: the work is tried again later."""
    assert OUTBOX.after(KeyError("x"), attempts=2, rng=highest) == Retry(4.0)


def test_retry_after_from_the_server_replaces_the_backoff() -> None:
    """A Retry-After hint is the wait, exactly."""
    limited = ApiUnavailable("slow down", status_code=429, retry_after=7)
    assert OUTBOX.after(limited, attempts=3, rng=highest) == Retry(7)


@pytest.mark.parametrize(
    "error",
    [ApiRejected("no", status_code=400), ActionConflict("other number"), InvalidPayload(["x"])],
    ids=["rejected", "conflict", "invalid"],
)
def test_a_final_error_gives_up_on_the_first_attempt(error: Exception) -> None:
    """A rejection, a conflict or a malformed payload cannot be helped by repeating."""
    assert OUTBOX.after(error, attempts=1, rng=highest) == GiveUp(GiveUpReason.FINAL)


def test_the_last_allowed_attempt_failing_gives_up() -> None:
    """After max_attempts retryable failures the budget is exhausted."""
    assert OUTBOX.after(SERVER_ERROR, attempts=5, rng=highest) == GiveUp(GiveUpReason.EXHAUSTED)


@pytest.mark.parametrize("error", [ApiAuthError("refused"), ApiForbidden("not allowlisted")])
def test_refused_credentials_wait_a_minute_without_spending_an_attempt(error: Exception) -> None:
    """Refused credentials are retried after a minute, and the attempt does not count."""
    decision = OUTBOX.after(error, attempts=1, rng=highest)
    assert decision == Retry(60.0, counted=False)


def test_refused_credentials_are_retried_with_the_budget_spent() -> None:
    """An exhausted budget does not kill work that waits for an operator's fix."""
    decision = OUTBOX.after(ApiAuthError("refused"), attempts=5, rng=highest)
    assert decision == Retry(60.0, counted=False)


def test_a_lost_lease_is_retried_at_once_without_spending_an_attempt() -> None:
    """Nothing was sent, so the work goes back at once and the attempt does not count."""
    decision = OUTBOX.after(LeaseExpired("late"), attempts=1, rng=highest)
    assert decision == Retry(0.0, counted=False)


def test_an_attempt_without_effect_is_retried() -> None:
    """A read, or a mutation that was never sent, is repeated after the backoff."""
    decision = IN_CALL.after(SERVER_ERROR, attempts=1, rng=highest, effect_unknown=False)
    assert decision == Retry(0.5)


def test_an_attempt_that_may_have_taken_effect_is_not_repeated() -> None:
    """A mutation that met a 5xx may have taken effect, so the caller's caller reconciles."""
    decision = IN_CALL.after(SERVER_ERROR, attempts=1, rng=highest, effect_unknown=True)
    assert decision == GiveUp(GiveUpReason.EFFECT_UNKNOWN)


def test_a_429_is_repeated_even_when_the_effect_would_be_unknown() -> None:
    """A 429 was refused before processing, so a mutation waits Retry-After and repeats."""
    limited = ApiUnavailable("slow down", status_code=429, retry_after=7)
    decision = IN_CALL.after(limited, attempts=1, rng=highest, effect_unknown=True)
    assert decision == Retry(7)


def test_the_attempt_limit_comes_before_the_effect() -> None:
    """After max_attempts the error goes to the caller, whatever the attempt may have done."""
    decision = IN_CALL.after(SERVER_ERROR, attempts=5, rng=highest, effect_unknown=True)
    assert decision == GiveUp(GiveUpReason.EXHAUSTED)


@pytest.mark.parametrize("retry_after", [90, 60], ids=["after", "at"])
def test_no_retry_whose_wait_reaches_the_deadline(retry_after: float) -> None:
    """A wait that would end at or after the deadline is not taken."""
    limited = ApiUnavailable("slow down", status_code=429, retry_after=retry_after)
    decision = IN_CALL.after(limited, attempts=1, rng=highest, seconds_left=60)
    assert decision == GiveUp(GiveUpReason.DEADLINE)


def test_a_wait_within_the_deadline_is_taken() -> None:
    """A wait that ends before the deadline is a retry."""
    limited = ApiUnavailable("slow down", status_code=429, retry_after=59)
    assert IN_CALL.after(limited, attempts=1, rng=highest, seconds_left=60) == Retry(59)


def test_the_random_source_is_not_drawn_when_the_server_sets_the_wait() -> None:
    """Retry-After spares the random source, so seeded sequences stay as they were."""
    draws: list[float] = []

    def rng() -> float:
        draws.append(0.5)
        return 0.5

    limited = ApiUnavailable("slow down", status_code=429, retry_after=7)
    OUTBOX.after(limited, attempts=1, rng=rng)
    assert draws == []
