"""FeedampClient's own retries, timeouts and per-call deadline, on a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from feedamp_sync.errors import ApiUnavailable
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.feedamp.ratelimit import SAFETY_MARGIN_SECONDS
from tests.unit.feedamp.feedamp_fakes import (
    FakeClock,
    FakeFeedamp,
    json_response,
    make_client,
    script,
)

ORDER = {"id": "123"}
OK_ORDER = {"order": [ORDER]}
UNLIMITED: dict[str, Any] = {"rate_per_second": 1e6, "list_rate_per_second": 1e6}


def test_reads_are_retried_on_5xx_with_full_jitter_backoff() -> None:
    """A GET retries server errors, waiting rng * 0.5 * 2**(n-1) seconds between attempts."""
    clock = FakeClock()
    fake = FakeFeedamp(
        script(json_response(500, {}), json_response(503, {}), json_response(200, OK_ORDER))
    )
    assert make_client(fake, clock, **UNLIMITED).get_order("123") == ORDER
    assert clock.sleeps == [0.25, 0.5]


def test_reads_give_up_after_get_attempts_with_the_last_error() -> None:
    """After api.get_attempts attempts the last ApiUnavailable is raised."""
    fake = FakeFeedamp(
        script(json_response(500, {}), json_response(502, {}), json_response(503, {}))
    )
    with pytest.raises(ApiUnavailable) as caught:
        make_client(fake, get_attempts=3, **UNLIMITED).get_order("123")
    assert caught.value.status_code == 503
    assert len(fake.api_requests) == 3


def test_reads_are_retried_after_timeouts_and_dropped_connections() -> None:
    """Transport failures on a GET are retried like server errors."""
    fake = FakeFeedamp(
        script(
            httpx.ReadTimeout("slow"),
            httpx.RemoteProtocolError("gone"),
            json_response(200, OK_ORDER),
        )
    )
    assert make_client(fake, **UNLIMITED).get_order("123") == ORDER


def test_reads_honour_retry_after_on_429() -> None:
    """A 429's Retry-After replaces the backoff as the wait."""
    clock = FakeClock()
    fake = FakeFeedamp(
        script(json_response(429, {}, **{"Retry-After": "7"}), json_response(200, OK_ORDER))
    )
    make_client(fake, clock, **UNLIMITED).get_order("123")
    assert clock.sleeps == [7.0]


def test_a_retry_is_logged_with_its_reason_and_delay() -> None:
    """Each retry logs ``api_retry`` at info with the endpoint, attempt, reason and delay."""
    fake = FakeFeedamp(
        script(json_response(503, {"error": "maintenance"}), json_response(200, OK_ORDER))
    )
    client = make_client(fake, **UNLIMITED)
    with capture_logs() as logs:
        client.get_order("123")
    retries = [entry for entry in logs if entry["event"] == "api_retry"]
    assert retries == [
        {
            "event": "api_retry",
            "log_level": "info",
            "account": "main",
            "endpoint": "get_order",
            "attempt": 1,
            "status": 503,
            "reason": "maintenance",
            "delay_seconds": 0.25,
        }
    ]


@pytest.mark.parametrize(
    "failure",
    [
        json_response(500, {}),
        json_response(503, {}, **{"Retry-After": "1"}),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected"),
    ],
    ids=["500", "503-retry-after", "read-timeout", "dropped"],
)
def test_mutations_are_not_retried_when_the_outcome_is_unknown(
    failure: httpx.Response | Exception,
) -> None:
    """A PUT/POST that may have reached FeedAMP is sent once; the outbox decides what next."""
    fake = FakeFeedamp(script(failure, json_response(200, OK_ORDER)))
    with pytest.raises(ApiUnavailable):
        make_client(fake, **UNLIMITED).confirm_order("123", "FA1")
    assert len(fake.api_requests) == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("no SYN-ACK"), httpx.PoolTimeout("busy")],
    ids=["connect-error", "connect-timeout", "pool-timeout"],
)
def test_mutations_are_retried_when_nothing_was_sent(failure: Exception) -> None:
    """A PUT/POST whose connection never opened is sent again."""
    fake = FakeFeedamp(script(failure, json_response(201, {"id": "5"})))
    assert make_client(fake, **UNLIMITED).create_refund("123", {"cp_refund_number": "RF1"}) == {
        "id": "5"
    }
    assert len(fake.api_requests) == 2


def test_mutations_are_retried_after_429_honouring_retry_after() -> None:
    """A 429 was refused before processing, so the PUT waits Retry-After and repeats."""
    clock = FakeClock()
    fake = FakeFeedamp(
        script(json_response(429, {}, **{"Retry-After": "2"}), json_response(200, OK_ORDER))
    )
    make_client(fake, clock, **UNLIMITED).confirm_order("123", "FA1")
    assert clock.sleeps == [2.0]


def test_a_retry_after_beyond_the_deadline_is_raised_with_the_hint() -> None:
    """A 429 asking for an hour is not waited for; the caller gets retry_after to schedule by."""
    clock = FakeClock()
    fake = FakeFeedamp(script(json_response(429, {}, **{"Retry-After": "3600"})))
    with pytest.raises(ApiUnavailable) as caught:
        make_client(fake, clock, **UNLIMITED).get_order("123")
    assert caught.value.retry_after == 3600
    assert clock.sleeps == []


def test_request_timeouts_follow_the_api_settings() -> None:
    """connect = connect_timeout_seconds; read, write and pool = timeout_seconds."""
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return json_response(200, OK_ORDER)

    make_client(handler, timeout_seconds=30, connect_timeout_seconds=10).get_order("123")
    assert seen[-1] == {"connect": 10, "read": 30, "write": 30, "pool": 30}


def test_attempt_timeouts_are_cut_to_the_time_left() -> None:
    """A retry late in the call gets only what is left of the 2 x timeout deadline."""
    clock = FakeClock()
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        if len(seen) == 1:
            clock.advance(45)
            raise httpx.ReadTimeout("slow", request=request)
        return json_response(200, OK_ORDER)

    make_client(
        handler, clock, timeout_seconds=30, connect_timeout_seconds=10, **UNLIMITED
    ).get_order("1")
    assert seen[1] == {"connect": 10, "read": 14.75, "write": 14.75, "pool": 14.75}


def test_reads_stop_retrying_at_the_deadline() -> None:
    """Retries end once the next attempt could not start before 2 x timeout_seconds."""
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(30)
        raise httpx.ReadTimeout("slow", request=request)

    fake = FakeFeedamp(handler)
    with pytest.raises(ApiUnavailable, match="did not answer in time"):
        make_client(fake, clock, timeout_seconds=30, get_attempts=5, **UNLIMITED).get_order("1")
    assert len(fake.api_requests) == 2
    assert clock.now - 1000.0 <= 2 * 30 + 0.5


def test_a_rate_limit_wait_past_the_deadline_fails_the_call_at_once() -> None:
    """A limiter slot that opens after the deadline is not waited for."""
    clock = FakeClock()
    fake = FakeFeedamp(script(json_response(200, OK_ORDER)))
    client = make_client(fake, clock, rate_per_second=0.01, timeout_seconds=30)
    with pytest.raises(ApiUnavailable, match="no request slot before the 60 s deadline"):
        client.get_order("123")  # get_token took the only slot of the next 100 s
    assert clock.sleeps == []


def test_a_rate_limit_wait_within_the_deadline_is_waited_for() -> None:
    """A limiter slot that opens before the deadline is waited for, then the call proceeds."""
    clock = FakeClock()
    fake = FakeFeedamp(script(json_response(200, OK_ORDER)))
    client = make_client(fake, clock, rate_per_second=0.01, timeout_seconds=100)
    assert client.get_order("123") == ORDER
    assert clock.sleeps == [pytest.approx(100 + SAFETY_MARGIN_SECONDS)]


@pytest.mark.parametrize(
    "failure",
    [
        json_response(500, {}),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected"),
    ],
    ids=["500", "read-timeout", "dropped"],
)
def test_a_mutation_that_may_have_been_processed_leaves_its_effect_unknown(
    failure: httpx.Response | Exception,
) -> None:
    """The outbox records it so: a later duplicate refusal may be this request's doing."""
    fake = FakeFeedamp(script(failure))
    with pytest.raises(ApiUnavailable) as caught:
        make_client(fake, **UNLIMITED).create_refund("123", {"cp_refund_number": "RF1"})
    assert caught.value.effect_unknown is True


def refund_one(client: FeedampClient) -> Any:
    return client.create_refund("123", {"cp_refund_number": "RF1"})


def read_one(client: FeedampClient) -> Any:
    return client.get_order("123")


@pytest.mark.parametrize(
    ("failures", "call"),
    [
        ([httpx.ConnectError("refused")] * 3, refund_one),
        ([json_response(429, {}, **{"Retry-After": "3600"})], refund_one),
        ([json_response(503, {})] * 3, read_one),
    ],
    ids=["never-connected", "429", "read"],
)
def test_a_request_feedamp_cannot_have_acted_on_is_a_known_non_effect(
    failures: list[httpx.Response | Exception], call: Callable[[FeedampClient], Any]
) -> None:
    """A refused connection, a 429 and a read change nothing: their outcome is known."""
    client = make_client(FakeFeedamp(script(*failures)), get_attempts=3, **UNLIMITED)
    with pytest.raises(ApiUnavailable) as caught:
        call(client)
    assert caught.value.effect_unknown is False


def test_a_request_never_given_a_rate_limit_slot_is_a_known_non_effect() -> None:
    """Nothing was sent: the call failed waiting for its slot."""
    clock = FakeClock()
    fake = FakeFeedamp(script(json_response(201, {"id": "5"})))
    client = make_client(fake, clock, rate_per_second=0.01, timeout_seconds=30)
    with pytest.raises(ApiUnavailable) as caught:
        client.create_refund("123", {"cp_refund_number": "RF1"})
    assert caught.value.effect_unknown is False
