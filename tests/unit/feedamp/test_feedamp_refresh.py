"""FeedampClient's refresh reads: a rate budget of their own, and the account's include_raw."""

from __future__ import annotations

import httpx
import pytest

from feedamp_sync.feedamp.ratelimit import SAFETY_MARGIN_SECONDS
from tests.unit.feedamp.feedamp_fakes import FakeClock, FakeFeedamp, json_response, make_client

ORDER = {"id": "123", "state": "PLACED"}


def always_the_order(_: httpx.Request) -> httpx.Response:
    return json_response(200, {"order": [ORDER]})


def test_refresh_reads_keep_to_their_own_rate() -> None:
    """At refresh.rate_per_second = 1, the second refresh read waits out the first's second."""
    clock = FakeClock()
    client = make_client(
        FakeFeedamp(always_the_order), clock, refresh={"rate_per_second": 1.0}, rate_per_second=1e6
    )
    assert client.refresh_order("123") == ORDER
    client.refresh_order("123")
    assert sum(clock.sleeps) == pytest.approx(1 + SAFETY_MARGIN_SECONDS)


def test_refresh_reads_do_not_wait_for_the_push_budget() -> None:
    """With the push budget just used up (rate 1/s), a refresh read goes at once."""
    clock = FakeClock()
    client = make_client(
        FakeFeedamp(always_the_order), clock, refresh={"rate_per_second": 1.0}, rate_per_second=1
    )
    client.get_order("123")  # get_token, then this read: it waits one window
    waited = list(clock.sleeps)
    client.refresh_order("123")
    assert clock.sleeps == waited == [pytest.approx(1 + SAFETY_MARGIN_SECONDS)]


def test_include_raw_is_asked_for_on_refresh_reads_and_new_orders() -> None:
    """An account with include_raw asks for it on GET order and on "get new orders"."""
    fake = FakeFeedamp(
        lambda r: json_response(
            200,
            {"order": [ORDER]}
            if "/orders/123" in r.url.path
            else {"orders": [], "next_cursor": None},
        )
    )
    client = make_client(fake, account={"include_raw": True}, rate_per_second=1e6)
    client.refresh_order("123")
    list(client.iter_new_orders())
    assert [r.url.params.get("include_raw") for r in fake.api_requests] == ["true", "true"]


def test_without_include_raw_no_raw_data_is_asked_for() -> None:
    """By default neither read sends include_raw."""
    fake = FakeFeedamp(always_the_order)
    make_client(fake, rate_per_second=1e6).refresh_order("123")
    assert "include_raw" not in fake.api_requests[0].url.params
