"""Pure decisions: seller numbers, retry timing, confirm read-back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from feedamp_sync.policy import (
    Backoff,
    ReadBack,
    Verdict,
    after_failure,
    confirm_read_back,
    disambiguated,
    seller_number,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
BACKOFF = Backoff(base_seconds=2, cap_seconds=60)


def test_seller_number_formats_the_row_id_with_the_template() -> None:
    """The default template pads the local id to eight digits."""
    assert seller_number("FA{id:08d}", id=42) == "FA00000042"


def test_a_taken_number_is_disambiguated_with_the_row_id() -> None:
    """A template that collides still yields a unique, stable number."""
    assert disambiguated("AMZ-1", 7) == "AMZ-1-7"


def test_backoff_grows_exponentially_within_jitter_bounds() -> None:
    """The n-th retry waits between half and all of base * 2**(n-1)."""
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16)]:
        delay = BACKOFF.delay(attempt, rng)
        assert ceiling / 2 <= delay <= ceiling


def test_backoff_is_capped() -> None:
    """No retry waits longer than the cap, however many attempts came before."""
    assert BACKOFF.delay(50, random.Random(1)) <= 60


def test_retryable_failure_is_scheduled_after_backoff() -> None:
    """A retryable error below the attempt limit is retried later."""
    step = after_failure(
        retryable=True,
        attempts=1,
        max_attempts=5,
        retry_after=None,
        now=NOW,
        backoff=BACKOFF,
        rng=random.Random(1),
    )
    assert step.verdict is Verdict.RETRY
    assert step.not_before is not None
    assert NOW + timedelta(seconds=1) <= step.not_before <= NOW + timedelta(seconds=2)


def test_retry_after_from_the_server_is_honoured() -> None:
    """A 429's Retry-After sets the next attempt time exactly."""
    step = after_failure(
        retryable=True,
        attempts=3,
        max_attempts=5,
        retry_after=7,
        now=NOW,
        backoff=BACKOFF,
        rng=random.Random(1),
    )
    assert step.not_before == NOW + timedelta(seconds=7)


def test_rejection_is_dead_at_once() -> None:
    """A non-retryable error ends the message on its first attempt."""
    step = after_failure(
        retryable=False,
        attempts=1,
        max_attempts=5,
        retry_after=None,
        now=NOW,
        backoff=BACKOFF,
        rng=random.Random(1),
    )
    assert step.verdict is Verdict.DEAD


def test_last_allowed_attempt_failing_is_dead() -> None:
    """After max_attempts retryable failures the message goes dead."""
    step = after_failure(
        retryable=True,
        attempts=5,
        max_attempts=5,
        retry_after=None,
        now=NOW,
        backoff=BACKOFF,
        rng=random.Random(1),
    )
    assert step.verdict is Verdict.DEAD


def test_read_back_with_our_number_means_confirmed() -> None:
    """FeedAMP holding our number proves the earlier attempt took effect."""
    order = {"state": "PLACED", "order_info": {"cp_order_number": "FA1"}}
    assert confirm_read_back(order, "FA1") == (ReadBack.CONFIRMED_WITH_OUR_NUMBER, "FA1")


def test_read_back_of_a_new_order_means_not_confirmed() -> None:
    """An order still ORDERED is unconfirmed even if it shows some other number."""
    order = {"state": "ORDERED", "order_info": {"cp_order_number": "61438900216825"}}
    assert confirm_read_back(order, "FA1")[0] is ReadBack.NOT_CONFIRMED


def test_read_back_with_another_number_is_a_conflict() -> None:
    """A confirmed order with a number that is not ours must not be confirmed again."""
    order = {"state": "PLACED", "order_info": {"cp_order_number": "OTHER"}}
    assert confirm_read_back(order, "FA1") == (ReadBack.CONFIRMED_WITH_OTHER_NUMBER, "OTHER")


def test_read_back_tolerates_a_missing_order_info() -> None:
    """A read-back without order_info is judged by its state alone."""
    assert confirm_read_back({"state": "ORDERED"}, "FA1")[0] is ReadBack.NOT_CONFIRMED
