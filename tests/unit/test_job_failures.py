"""A failed tick is one log event: the expected failures without a traceback, the rest with."""

from __future__ import annotations

import io
import json

import pytest

from feedamp_sync.app import guarded
from feedamp_sync.errors import (
    ApiAuthError,
    ApiForbidden,
    ApiRejected,
    ApiResponseInvalid,
    ApiUnavailable,
    DatabaseError,
    InvalidPayload,
    is_expected_failure,
)
from feedamp_sync.logs import configure_logging

EXPECTED = {
    "password refused": ApiAuthError("refused the username or password", status_code=401),
    "client id refused": ApiForbidden("client id not authorized", status_code=403),
    "FeedAMP down": ApiUnavailable("could not connect to FeedAMP", status_code=503),
    "FeedAMP unusable": ApiResponseInvalid("not the documented shape", status_code=200),
    "database down": DatabaseError("(psycopg.OperationalError) connection refused"),
}
UNEXPECTED = {
    "request refused for good": ApiRejected("bad cursor", status_code=400),
    "payload refused": InvalidPayload(["carrier: missing"]),
    "fault": KeyError("id"),
}


@pytest.mark.parametrize("error", EXPECTED.values(), ids=EXPECTED.keys())
def test_operational_failures_are_expected(error: Exception) -> None:
    """FeedAMP refusing the credentials or not answering, the database away."""
    assert is_expected_failure(error)


@pytest.mark.parametrize("error", UNEXPECTED.values(), ids=UNEXPECTED.keys())
def test_faults_and_final_refusals_are_not_expected(error: Exception) -> None:
    """What no retry mends: a bug here, or FeedAMP refusing what the daemon asked."""
    assert not is_expected_failure(error)


def failing(error: Exception, log_format: str) -> str:
    """What ``guarded`` logs for a tick raising ``error``, in ``log_format``."""
    stream = io.StringIO()
    configure_logging(log_format=log_format, stream=stream)  # type: ignore[arg-type]

    def tick() -> None:
        raise error

    assert guarded(tick, "orders") is False
    return stream.getvalue()


def test_an_expected_failure_is_one_json_line_with_its_error_and_type() -> None:
    """job_failed with the message and the class, and no exception field."""
    [line] = failing(EXPECTED["password refused"], "json").splitlines()
    logged = json.loads(line)
    assert (logged["event"], logged["job"], logged["error_type"]) == (
        "job_failed",
        "orders",
        "ApiAuthError",
    )
    assert logged["error"] == "HTTP 401: refused the username or password"
    assert "exception" not in logged


def test_an_expected_failure_is_one_console_line() -> None:
    """The console format prints the same event on a single line."""
    output = failing(EXPECTED["database down"], "console")
    assert output.count("\n") == 1
    assert "job_failed" in output
    assert "error_type=DatabaseError" in output


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_an_unexpected_error_keeps_its_traceback(log_format: str) -> None:
    """A fault is logged with where it happened, in both formats."""
    output = failing(UNEXPECTED["fault"], log_format)
    assert "Traceback (most recent call last)" in output
    assert "KeyError" in output
