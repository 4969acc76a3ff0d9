"""FeedampClient's list endpoints: cursors, page size, filters and the list rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from feedamp_sync.errors import ApiRejected
from feedamp_sync.feedamp import Page
from feedamp_sync.feedamp.ratelimit import SAFETY_MARGIN_SECONDS
from tests.unit.feedamp.feedamp_fakes import (
    FakeClock,
    FakeFeedamp,
    json_response,
    make_client,
    script,
)

UNLIMITED: dict[str, Any] = {"rate_per_second": 1e6, "list_rate_per_second": 1e6}


def orders_page(*ids: str, next_cursor: Any = None) -> httpx.Response:
    return json_response(200, {"orders": [{"id": i} for i in ids], "next_cursor": next_cursor})


def params_of(fake: FakeFeedamp) -> list[dict[str, str]]:
    return [dict(request.url.params) for request in fake.api_requests]


def test_new_orders_follow_the_cursor_one_page_per_request() -> None:
    """Each page's next_cursor is sent as ``cursor``; a null cursor ends the pass."""
    fake = FakeFeedamp(script(orders_page("1", next_cursor="c1"), orders_page("2")))
    pages = list(make_client(fake, **UNLIMITED).iter_new_orders())
    assert pages == [Page([{"id": "1"}], "c1"), Page([{"id": "2"}], None, cursor="c1")]
    assert params_of(fake) == [{"limit": "200"}, {"limit": "200", "cursor": "c1"}]


def test_page_size_and_marketplace_fulfilled_are_sent() -> None:
    """An explicit page size is the ``limit``; the account's flag goes as true/false."""
    fake = FakeFeedamp(script(orders_page()))
    client = make_client(fake, account={"marketplace_fulfilled": True})
    list(client.iter_new_orders(page_size=50))
    assert params_of(fake) == [{"limit": "50", "marketplace_fulfilled": "true"}]


def test_the_default_page_size_comes_from_the_api_settings() -> None:
    """Without page_size, api.page_size is the ``limit``."""
    fake = FakeFeedamp(script(orders_page()))
    list(make_client(fake, page_size=120).iter_new_orders())
    assert params_of(fake) == [{"limit": "120"}]


def test_an_empty_page_ends_the_pass_even_with_a_cursor() -> None:
    """An empty page is the last one, whatever its next_cursor says."""
    fake = FakeFeedamp(script(orders_page("1", next_cursor="c1"), orders_page(next_cursor="c2")))
    pages = list(make_client(fake, **UNLIMITED).iter_new_orders())
    assert pages[-1] == Page([], None, cursor="c1")
    assert len(fake.api_requests) == 2


def test_a_repeated_cursor_stops_the_pass_with_a_warning() -> None:
    """A cursor seen before in this pass ends it and logs ``pagination_cursor_repeated``."""
    fake = FakeFeedamp(
        script(orders_page("1", next_cursor="c1"), orders_page("2", next_cursor="c1"))
    )
    client = make_client(fake, **UNLIMITED)
    with capture_logs() as logs:
        pages = list(client.iter_new_orders())
    assert [page.items for page in pages] == [[{"id": "1"}], [{"id": "2"}]]
    warnings = [entry for entry in logs if entry["event"] == "pagination_cursor_repeated"]
    assert warnings == [
        {
            "event": "pagination_cursor_repeated",
            "log_level": "warning",
            "account": "main",
            "endpoint": "new_orders",
            "cursor": "c1",
        }
    ]


def test_a_failure_mid_pass_raises_after_the_pages_already_yielded() -> None:
    """Pages yielded before a failing request stay yielded; the failure is raised."""
    fake = FakeFeedamp(
        script(orders_page("1", next_cursor="c1"), json_response(400, {"error": "bad cursor"}))
    )
    pages = make_client(fake, **UNLIMITED).iter_new_orders()
    assert next(pages) == Page([{"id": "1"}], "c1")
    with pytest.raises(ApiRejected, match="bad cursor"):
        next(pages)


def test_list_pages_are_retried_like_other_reads() -> None:
    """A page request that meets a 5xx is repeated with the same cursor."""
    fake = FakeFeedamp(
        script(orders_page("1", next_cursor="c1"), json_response(502, {}), orders_page("2"))
    )
    pages = list(make_client(fake, **UNLIMITED).iter_new_orders())
    assert len(pages) == 2
    assert params_of(fake)[1:] == [{"limit": "200", "cursor": "c1"}] * 2


def test_list_endpoints_are_held_to_the_list_rate() -> None:
    """At 2/s the third page waits for the window; get_token does not count against it."""
    clock = FakeClock()
    fake = FakeFeedamp(
        script(
            orders_page("1", next_cursor="c1"),
            orders_page("2", next_cursor="c2"),
            orders_page("3"),
        )
    )
    client = make_client(fake, clock, list_rate_per_second=2.0, rate_per_second=1e6)
    list(client.iter_new_orders())
    assert clock.sleeps == [pytest.approx(1.0 + SAFETY_MARGIN_SECONDS)]


def test_other_endpoints_are_held_to_the_other_rate() -> None:
    """Single-resource calls share the ``other`` limiter, here 1/s."""
    clock = FakeClock()
    fake = FakeFeedamp(script(*[json_response(200, {"order": {"id": "1"}})] * 2))
    client = make_client(fake, clock, rate_per_second=1.0, list_rate_per_second=1e6)
    client.get_order("1")  # get_token and this call: two starts, one per second
    client.get_order("1")
    assert clock.sleeps == [pytest.approx(1.02)] * 2


def test_search_returns_sends_its_filters() -> None:
    """Return filters go out in FeedAMP's names: hyphens, comma-delimited states, UTC offsets."""
    fake = FakeFeedamp(script(json_response(200, {"returns": [{"id": 9}]})))
    eastern = timezone(timedelta(hours=-5))
    pages = list(
        make_client(fake).iter_returns(
            open=True,
            states=["Pending Authorization", "Pending Refund"],
            refreshed_after=datetime(2026, 1, 1, 22, 4, 5, tzinfo=eastern),
            created_after=datetime(2025, 12, 1, tzinfo=UTC),
            merchant_return_number="RMA-1",
            page_size=100,
        )
    )
    assert pages == [Page([{"id": 9}], None)]  # as received: the poller reads the id
    request = fake.api_requests[0]
    assert request.url.path == "/api/v1/returns"
    assert dict(request.url.params) == {
        "limit": "100",
        "open": "true",
        "state": "Pending Authorization,Pending Refund",
        "refreshed-after": "2026-01-02T03:04:05+00:00",
        "created-after": "2025-12-01T00:00:00+00:00",
        "merchant-return-number": "RMA-1",
    }


def test_a_naive_datetime_is_refused_when_iter_returns_is_called() -> None:
    """The ValueError comes at the call, before any iteration or request."""
    fake = FakeFeedamp(script())
    with pytest.raises(ValueError, match="refreshed_after must be timezone-aware"):
        make_client(fake).iter_returns(refreshed_after=datetime(2026, 1, 2, 3, 4, 5))
    assert fake.requests == []
