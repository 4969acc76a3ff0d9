"""What API answers say about an account: progress, success and refused credentials."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedamp_sync.ops.activity import (
    CLIENT_ID_REFUSED,
    PASSWORD_REFUSED,
    AccountActivity,
    ApiActivity,
    auth_problem,
)

NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("previous", "endpoint", "status", "expected"),
    [
        (None, "get_token", 401, PASSWORD_REFUSED),
        (None, "new_orders", 403, CLIENT_ID_REFUSED),
        (None, "get_token", 403, CLIENT_ID_REFUSED),
        (PASSWORD_REFUSED, "get_token", 200, None),
        (CLIENT_ID_REFUSED, "get_token", 200, CLIENT_ID_REFUSED),
        (CLIENT_ID_REFUSED, "new_orders", 200, None),
        (None, "confirm", 401, None),
        (PASSWORD_REFUSED, "new_orders", None, PASSWORD_REFUSED),
        (CLIENT_ID_REFUSED, "confirm", 503, CLIENT_ID_REFUSED),
    ],
    ids=[
        "token-401-is-password",
        "403-is-client-id",
        "token-403-is-client-id",
        "token-ok-clears-password",
        "token-ok-keeps-client-id",
        "call-ok-clears-all",
        "call-401-is-expiry",
        "no-answer-changes-nothing",
        "5xx-changes-nothing",
    ],
)
def test_auth_problem_follows_the_answers(
    previous: str | None, endpoint: str, status: int | None, expected: str | None
) -> None:
    """Each answer moves the account's authentication state as documented."""
    assert auth_problem(previous, endpoint=endpoint, status=status) == expected


def test_an_attempt_without_answer_is_progress_but_not_success() -> None:
    """A timeout still shows the tick is moving; only a 2xx is a success."""
    activity = ApiActivity(clock=lambda: NOW, monotonic=lambda: 7.0)
    activity.record(account="main", endpoint="new_orders", status=None)
    assert activity.snapshot() == {"main": AccountActivity(last_attempt=7.0)}


def test_a_2xx_records_the_success_time() -> None:
    """Readiness reads the wall-clock time of the latest success."""
    activity = ApiActivity(clock=lambda: NOW, monotonic=lambda: 7.0)
    activity.record(account="main", endpoint="new_orders", status=200)
    assert activity.snapshot()["main"].last_success_at == NOW


def test_a_failure_keeps_the_previous_success_time() -> None:
    """A 503 after a 200 does not erase when FeedAMP last answered well."""
    activity = ApiActivity(clock=lambda: NOW, monotonic=lambda: 7.0)
    activity.record(account="main", endpoint="new_orders", status=200)
    activity.record(account="main", endpoint="new_orders", status=503)
    assert activity.snapshot()["main"].last_success_at == NOW
