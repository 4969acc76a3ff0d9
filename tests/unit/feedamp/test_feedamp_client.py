"""FeedampClient on the wire: headers, methods and bodies, auth handling, error classification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from feedamp_sync.errors import (
    ApiAuthError,
    ApiForbidden,
    ApiRejected,
    ApiResponseInvalid,
    ApiUnavailable,
)
from feedamp_sync.feedamp import FeedampClient, RequestNotSent
from feedamp_sync.feedamp.transport import USER_AGENT
from tests.unit.feedamp.feedamp_fakes import (
    CLIENT_ID,
    FakeClock,
    FakeFeedamp,
    basic_auth_header,
    body_of,
    json_response,
    make_client,
    script,
    token_value,
)

ORDER = {"id": "123", "state": "ORDERED"}
RETURN = {"id": "9", "state": "Pending Authorization"}


def ok_order(_: httpx.Request) -> httpx.Response:
    return json_response(200, {"order": [ORDER]})


def test_calls_send_token_client_basic_auth_accept_and_user_agent() -> None:
    """Every call but get_token sends token, client, Basic auth, Accept and User-Agent."""
    fake = FakeFeedamp(ok_order)
    make_client(fake).get_order("123")
    headers = fake.api_requests[0].headers
    assert headers["token"] == token_value(1)
    assert headers["client"] == str(CLIENT_ID)
    assert headers["authorization"] == basic_auth_header()
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("feedamp-sync/")


def test_get_token_sends_basic_auth_without_token_headers() -> None:
    """get_token authenticates with Basic auth only."""
    fake = FakeFeedamp(ok_order)
    make_client(fake).get_order("123")
    request = fake.requests[0]
    assert (request.method, request.url.path) == ("GET", "/api/v1/get_token")
    assert request.headers["authorization"] == basic_auth_header()
    assert "token" not in request.headers
    assert "client" not in request.headers


def test_a_token_is_fetched_once_and_reused() -> None:
    """Consecutive calls share one token."""
    fake = FakeFeedamp(ok_order)
    client = make_client(fake)
    client.get_order("1")
    client.get_order("2")
    assert fake.tokens_issued == 1


Call = Callable[[FeedampClient], Any]


@pytest.mark.parametrize(
    ("call", "method", "path", "body", "answer"),
    [
        (
            lambda c: c.confirm_order("123", "FA00000001"),
            "PUT",
            "/api/v1/orders/123/confirm",
            {"cp_order_number": "FA00000001"},
            {"order": {"id": "123", "state": "PLACED"}},
        ),
        (
            lambda c: c.fulfill_order("123", {"order_lines": []}),
            "PUT",
            "/api/v1/orders/123/fulfill",
            {"order_lines": []},
            {"order": ORDER},
        ),
        (
            lambda c: c.create_refund("123", {"cp_refund_number": "RF1"}),
            "POST",
            "/api/v1/orders/123/refund",
            {"refund_info": {"cp_refund_number": "RF1"}},
            {"id": "5", "state": "CREATED"},
        ),
        (
            lambda c: c.authorize_return("9", "RMA-1"),
            "PUT",
            "/api/v1/returns/9/authorize",
            {"merchant_return_number": "RMA-1"},
            {"return": RETURN},
        ),
        (
            lambda c: c.refund_return("9", {"merchant_refund_lines": []}),
            "PUT",
            "/api/v1/returns/9/refund",
            {"merchant_refund_lines": []},
            {"return": RETURN},
        ),
    ],
    ids=["confirm", "fulfill", "refund", "authorize_return", "refund_return"],
)
def test_mutations_send_json_bodies_with_the_documented_method_and_path(
    call: Call, method: str, path: str, body: dict[str, Any], answer: Any
) -> None:
    """Each action is its documented method and path with a JSON body and content type."""
    fake = FakeFeedamp(script(json_response(200, answer)))
    call(make_client(fake))
    request = fake.api_requests[0]
    assert (request.method, request.url.path) == (method, path)
    assert request.headers["content-type"] == "application/json"
    assert body_of(request) == body


def test_reads_use_the_documented_paths() -> None:
    """get_order and get_return GET their resources."""
    fake = FakeFeedamp(
        script(json_response(200, {"order": ORDER}), json_response(200, {"return": RETURN}))
    )
    client = make_client(fake)
    assert client.get_order("123") == ORDER
    assert client.get_return("9") == RETURN
    assert [(r.method, r.url.path) for r in fake.api_requests] == [
        ("GET", "/api/v1/orders/123"),
        ("GET", "/api/v1/returns/9"),
    ]


def test_configured_paths_are_used() -> None:
    """The new-orders path left open by the docs comes from the account's settings."""
    fake = FakeFeedamp(script(json_response(200, {"orders": []})))
    client = make_client(fake, account={"paths": {"new_orders": "/api/v1/orders"}})
    list(client.iter_new_orders())
    assert fake.api_requests[0].url.path == "/api/v1/orders"


def test_ids_are_escaped_into_the_path() -> None:
    """An id can never change the route it is put into."""
    fake = FakeFeedamp(ok_order)
    make_client(fake).get_order("1/confirm")
    assert fake.api_requests[0].url.raw_path == b"/api/v1/orders/1%2Fconfirm"


def test_an_empty_id_is_refused_before_any_request() -> None:
    """An empty order id would address a different route, so it is a ValueError."""
    fake = FakeFeedamp(ok_order)
    with pytest.raises(ValueError, match="order_id must be a non-empty string"):
        make_client(fake).get_order("")
    assert fake.requests == []


def test_fulfill_accepts_an_array_response() -> None:
    """A fulfill answered with a bare array is a success returning that array."""
    fake = FakeFeedamp(script(json_response(200, [ORDER])))
    assert make_client(fake).fulfill_order("123", {"order_lines": []}) == [ORDER]


def test_401_renews_the_token_and_repeats_the_request_once() -> None:
    """A 401 fetches a new token and the same request succeeds with it."""
    fake = FakeFeedamp(
        script(json_response(401, {"error": "expired"}), json_response(200, {"order": ORDER}))
    )
    assert make_client(fake).confirm_order("123", "FA1") == ORDER
    assert [r.headers["token"] for r in fake.api_requests] == [token_value(1), token_value(2)]
    assert body_of(fake.api_requests[1]) == {"cp_order_number": "FA1"}


def test_a_second_401_raises_api_auth_error() -> None:
    """A fresh token refused too is an ApiAuthError, without a third attempt."""
    fake = FakeFeedamp(script(json_response(401, {}), json_response(401, {})))
    with pytest.raises(
        ApiAuthError, match="refused a freshly issued token for account main"
    ) as caught:
        make_client(fake).get_order("123")
    assert caught.value.status_code == 401
    assert len(fake.api_requests) == 2


def test_a_401_with_a_token_another_thread_replaced_repeats_with_the_newer_one() -> None:
    """When tokens churn, a refused request takes the newest token without fetching again."""
    client: FeedampClient

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["token"] == token_value(2):
            client.renew_token()  # another thread renews while this request is in flight
            return json_response(401, {})
        if request.headers["token"] == token_value(1):
            return json_response(401, {})
        return json_response(200, {"order": ORDER})

    fake = FakeFeedamp(handler)
    client = make_client(fake)
    assert client.get_order("123") == ORDER
    assert [r.headers["token"] for r in fake.api_requests] == [token_value(n) for n in (1, 2, 3)]
    assert fake.tokens_issued == 3


def test_a_request_refused_three_times_raises_api_auth_error() -> None:
    """However the tokens churn, one request is sent at most three times on 401s."""
    client: FeedampClient

    def handler(request: httpx.Request) -> httpx.Response:
        client.renew_token()  # a newer token appears during every request
        return json_response(401, {})

    fake = FakeFeedamp(handler)
    client = make_client(fake)
    with pytest.raises(ApiAuthError):
        client.get_order("123")
    assert len(fake.api_requests) == 3


def test_401_on_get_token_blames_the_username_or_password() -> None:
    """Refused credentials name the account and are not retried."""
    fake = FakeFeedamp(ok_order, token_handler=script(json_response(401, {})))
    with pytest.raises(ApiAuthError) as caught:
        make_client(fake).get_order("123")
    assert caught.value.message == "FeedAMP refused the username or password for account main"
    assert len(fake.requests) == 1


def test_403_raises_api_forbidden_and_is_never_retried() -> None:
    """A 403 is ApiForbidden with the documented message, after exactly one request."""
    fake = FakeFeedamp(script(json_response(403, {"error": "nope"})))
    with pytest.raises(ApiForbidden) as caught:
        make_client(fake).get_order("123")
    assert str(caught.value) == (
        f"client id {CLIENT_ID} is not authorized for this user, "
        "or this IP is not allowlisted (HTTP 403)"
    )
    assert len(fake.api_requests) == 1


def test_403_on_get_token_raises_api_forbidden() -> None:
    """An IP that is not allowlisted is reported the same way when getting a token."""
    fake = FakeFeedamp(ok_order, token_handler=script(json_response(403, {})))
    with pytest.raises(ApiForbidden):
        make_client(fake).renew_token()


def test_renew_token_fetches_a_token_every_time() -> None:
    """renew_token (for ``check``) always asks FeedAMP for a new token."""
    fake = FakeFeedamp(ok_order)
    client = make_client(fake)
    client.renew_token()
    client.renew_token()
    assert fake.tokens_issued == 2


def test_renew_token_reports_an_unreachable_api() -> None:
    """renew_token raises ApiUnavailable when FeedAMP cannot be reached."""
    fake = FakeFeedamp(ok_order, token_handler=script(*[httpx.ConnectError("refused")] * 5))
    with pytest.raises(ApiUnavailable, match="could not connect"):
        make_client(fake).renew_token()


def test_a_token_is_renewed_proactively_after_its_max_age() -> None:
    """With token_max_age_seconds set, a call after that age uses a new token."""
    clock = FakeClock()
    fake = FakeFeedamp(ok_order)
    client = make_client(fake, clock, account={"token_max_age_seconds": 300})
    client.get_order("1")
    clock.advance(300)
    client.get_order("2")
    assert [r.headers["token"] for r in fake.api_requests] == [token_value(1), token_value(2)]


def test_5xx_raises_api_unavailable_with_the_status() -> None:
    """A server error is ApiUnavailable carrying the status code and the API's message."""
    fake = FakeFeedamp(script(json_response(502, {"error": "upstream down"})))
    with pytest.raises(ApiUnavailable) as caught:
        make_client(fake, get_attempts=1).get_order("123")
    assert (caught.value.status_code, caught.value.message) == (502, "upstream down")


def test_429_retry_after_seconds_is_kept_on_the_error() -> None:
    """A 429's Retry-After in seconds becomes ``retry_after``."""
    fake = FakeFeedamp(script(json_response(429, {}, **{"Retry-After": "120"})))
    with pytest.raises(ApiUnavailable) as caught:
        make_client(fake, get_attempts=1).get_order("123")
    assert (caught.value.status_code, caught.value.retry_after) == (429, 120.0)


def test_429_retry_after_http_date_is_read_against_the_server_clock() -> None:
    """A 429's Retry-After HTTP-date is measured from the response's Date header."""
    headers = {
        "Retry-After": "Fri, 02 Jan 2026 03:05:05 GMT",
        "Date": "Fri, 02 Jan 2026 03:04:05 GMT",
    }
    fake = FakeFeedamp(script(json_response(429, {}, **headers)))
    with pytest.raises(ApiUnavailable) as caught:
        make_client(fake, get_attempts=1).get_order("123")
    assert caught.value.retry_after == 60.0


def test_a_timeout_raises_api_unavailable() -> None:
    """A read timeout is ApiUnavailable naming the endpoint."""
    fake = FakeFeedamp(script(httpx.ReadTimeout("timed out")))
    with pytest.raises(ApiUnavailable, match="get_order: FeedAMP did not answer in time"):
        make_client(fake, get_attempts=1).get_order("123")


def test_a_refused_connection_raises_request_not_sent() -> None:
    """A connection that never opened is RequestNotSent, an ApiUnavailable."""
    fake = FakeFeedamp(script(httpx.ConnectError("[Errno 111] Connection refused")))
    with pytest.raises(RequestNotSent, match="could not connect to FeedAMP"):
        make_client(fake, get_attempts=1).get_order("123")


@pytest.mark.parametrize(
    "failure",
    [httpx.RemoteProtocolError("Server disconnected"), httpx.ReadError("reset by peer")],
    ids=["remote-protocol", "read-error"],
)
def test_a_dropped_connection_raises_api_unavailable(failure: Exception) -> None:
    """A connection dropped mid-answer is ApiUnavailable, but not RequestNotSent."""
    fake = FakeFeedamp(script(failure))
    with pytest.raises(ApiUnavailable, match="the connection to FeedAMP failed") as caught:
        make_client(fake, get_attempts=1).get_order("123")
    assert not isinstance(caught.value, RequestNotSent)


def test_other_4xx_raise_api_rejected_with_the_api_message() -> None:
    """A 409 is final: ApiRejected with the API's reason and the status code."""
    fake = FakeFeedamp(script(json_response(409, {"error": "duplicate cp_order_number"})))
    with pytest.raises(ApiRejected) as caught:
        make_client(fake).confirm_order("123", "FA1")
    assert (caught.value.message, caught.value.status_code) == ("duplicate cp_order_number", 409)


def test_a_rejection_without_a_body_uses_the_reason_phrase() -> None:
    """An empty 404 body still gives a readable message."""
    fake = FakeFeedamp(script(httpx.Response(404)))
    with pytest.raises(ApiRejected, match="HTTP 404: Not Found"):
        make_client(fake).get_order("123")


def test_a_2xx_with_an_unusable_body_raises_response_invalid() -> None:
    """A 200 whose body is not JSON is ApiResponseInvalid naming the endpoint."""
    fake = FakeFeedamp(script(httpx.Response(200, text="<html>maintenance</html>")))
    with pytest.raises(ApiResponseInvalid, match="get_order: the body is not JSON"):
        make_client(fake).get_order("123")


def test_client_is_a_context_manager_that_closes() -> None:
    """Leaving the ``with`` block closes the connection pool."""
    fake = FakeFeedamp(ok_order)
    with make_client(fake) as client:
        client.get_order("123")
    with pytest.raises(RuntimeError):
        client.get_order("123")
