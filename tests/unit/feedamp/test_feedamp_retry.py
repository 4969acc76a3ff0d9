"""Retry-After parsing and status classification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedamp_sync.errors import (
    ApiAuthError,
    ApiForbidden,
    ApiRejected,
    ApiUnavailable,
)
from feedamp_sync.feedamp.classify import error_for_status
from feedamp_sync.feedamp.retry import parse_retry_after, server_now

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("Fri, 02 Jan 2026 03:04:15 GMT", 10.0),
        ("Fri, 02 Jan 2026 03:04:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
    ids=["seconds", "fraction", "http-date", "past-date", "garbage", "empty", "absent", "nan"],
)
def test_retry_after_is_read_as_seconds_or_http_date(
    value: str | None, seconds: float | None
) -> None:
    """Retry-After gives delta-seconds or an HTTP-date; a past date means now, garbage nothing."""
    assert parse_retry_after(value, now=NOW) == seconds


def test_server_now_comes_from_the_date_header() -> None:
    """An HTTP-date is measured against the server's own clock when it sent one."""
    assert server_now("Fri, 02 Jan 2026 03:04:05 GMT") == NOW


def classify(
    status: int, endpoint: str = "get_order", retry_after: float | None = None
) -> Exception:
    return error_for_status(
        endpoint=endpoint,
        account="main",
        client_id=1234,
        status=status,
        message="the API's reason",
        retry_after=retry_after,
    )


def test_401_on_get_token_blames_username_or_password() -> None:
    """get_token's 401 names the account whose credentials were refused."""
    error = classify(401, endpoint="get_token")
    assert type(error) is ApiAuthError
    assert error.message == "FeedAMP refused the username or password for account main"


def test_403_is_forbidden_with_the_client_id() -> None:
    """A 403 names the client id and the IP allowlist, and keeps the status code."""
    error = classify(403)
    assert isinstance(error, ApiForbidden)
    assert str(error) == (
        "client id 1234 is not authorized for this user, or this IP is not allowlisted (HTTP 403)"
    )
    assert error.status_code == 403


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_429_and_5xx_are_unavailable(status: int) -> None:
    """Overload and server errors are worth retrying later."""
    error = classify(status, retry_after=3)
    assert type(error) is ApiUnavailable
    assert (error.status_code, error.retry_after) == (status, 3)


@pytest.mark.parametrize("status", [302, 400, 404, 409, 422])
def test_other_statuses_are_rejected_with_the_api_reason(status: int) -> None:
    """Other 4xx (and a stray 3xx) are final, carrying the API's message and status."""
    error = classify(status)
    assert type(error) is ApiRejected
    assert (error.message, error.status_code) == ("the API's reason", status)
