"""Returns: search filters (states, open, refreshed times), authorize and refund rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from feedamp_sync.sandbox import RETURN_STATES, Sandbox, SandboxServer

from .conftest import TIMEOUT, TLS, FakeClock, fetch_token

RETURNS = "/api/v1/returns"


@pytest.fixture
def timed(clock: FakeClock) -> Sandbox:
    """A sandbox on the fake clock, so refreshed_at values are exact."""
    return Sandbox(seed=3, clock=clock, token_ttl_seconds=86_400.0)


@pytest.fixture
def timed_api(timed: Sandbox) -> Iterator[httpx.Client]:
    with (
        SandboxServer(timed) as server,
        httpx.Client(base_url=server.base_url, timeout=TIMEOUT, verify=TLS) as client,
    ):
        client.headers.update({"token": fetch_token(client), "client": "1"})
        yield client


def returned_ids(api: httpx.Client, **params: Any) -> list[str]:
    body = api.get(RETURNS, params=params | {"limit": 200}).raise_for_status().json()
    return [item["id"] for item in body["returns"]]


def line_ids(item: dict[str, Any]) -> list[str]:
    return [line["feedamp_return_line_id"] for line in item["return_info"]["return_lines"]]


def refund_lines(ids: list[str]) -> dict[str, Any]:
    return {
        "merchant_refund_lines": [
            {"feedamp_return_line_id": i, "merchant_full_refund": True} for i in ids
        ]
    }


def test_every_return_line_carries_a_feedamp_return_line_id(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """Each line of each return has a feedamp_return_line_id, unique across returns."""
    sandbox.add_orders(10)
    sandbox.add_returns(20)
    items = api.get(RETURNS, params={"limit": 50}).json()["returns"]
    ids = [line_id for item in items for line_id in line_ids(item)]
    assert len(items) == 20
    assert len(ids) == len(set(ids)) >= 20


def test_returns_reference_existing_order_lines(sandbox: Sandbox) -> None:
    """A generated return names an existing order and lines of that order."""
    (return_id,) = sandbox.add_returns(1)
    item = sandbox.return_(return_id)
    order = sandbox.order(item["order_id"])
    numbers = {line["mp_line_number"] for line in order["order_info"]["order_lines"]}
    returned = {line["mp_order_line_number"] for line in item["return_info"]["return_lines"]}
    assert returned <= numbers


def test_search_by_state_lists_only_those_states(sandbox: Sandbox, api: httpx.Client) -> None:
    """state=A,B (comma-delimited) lists exactly the returns in A or B."""
    ids = sandbox.add_returns(8, states=RETURN_STATES)
    found = returned_ids(api, state="Pending Refund,Customer Cancelled")
    assert found == [ids[3], ids[7]]


def test_search_open_true_and_false_split_open_and_closed(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """open=true lists the first five states, open=false the three closed ones."""
    ids = sandbox.add_returns(8, states=RETURN_STATES)
    assert (returned_ids(api, open="true"), returned_ids(api, open="false")) == (ids[:5], ids[5:])


def test_state_overrides_open(sandbox: Sandbox, api: httpx.Client) -> None:
    """When both are given, state wins over open."""
    ids = sandbox.add_returns(8, states=RETURN_STATES)
    assert returned_ids(api, open="true", state="Merchant Refunded") == [ids[5]]


def test_unknown_state_is_400(api: httpx.Client) -> None:
    """A state outside the eight documented ones is a 400."""
    assert api.get(RETURNS, params={"state": "Lost"}).status_code == 400


def test_refreshed_after_with_offset_lists_returns_changed_since(
    timed: Sandbox, timed_api: httpx.Client, clock: FakeClock
) -> None:
    """refreshed-after with an explicit offset lists only returns changed at or after it."""
    _, second = timed.add_returns(2, states=["Pending Authorization"])
    clock.advance(60)
    timed.set_return_state(second, "Pending Refund")
    since = timed.return_(second)["refreshed_at"].replace("Z", "+00:00")
    assert returned_ids(timed_api, **{"refreshed-after": since}) == [second]


def test_naive_refreshed_after_is_read_as_us_eastern(
    timed: Sandbox, timed_api: httpx.Client, clock: FakeClock
) -> None:
    """A timestamp without offset is US Eastern: 2024-01-01T00:00 is 05:00 UTC in winter."""
    (return_id,) = timed.add_returns(1)
    clock.now = 1_704_085_200.0 + 1  # 2024-01-01T05:00:01Z
    timed.set_return_state(return_id, "Pending Refund")
    assert returned_ids(timed_api, **{"refreshed-after": "2024-01-01T00:00:00"}) == [return_id]
    assert returned_ids(timed_api, **{"refreshed-after": "2024-01-01T00:00:02"}) == []


def test_ledger_flags_naive_timestamps(sandbox: Sandbox, api: httpx.Client) -> None:
    """The ledger marks a search with a naive timestamp, and not one with an offset."""
    api.get(RETURNS, params={"refreshed-after": "2024-01-01T00:00:00"})
    api.get(RETURNS, params={"refreshed-after": "2024-01-01T00:00:00+00:00"})
    assert [e.naive_timestamp for e in sandbox.ledger("search_returns")] == [True, False]


def test_invalid_timestamp_is_400(api: httpx.Client) -> None:
    """A filter value that is not ISO 8601 is a 400."""
    assert api.get(RETURNS, params={"created-after": "last tuesday"}).status_code == 400


def test_returns_paginate_with_cursors(sandbox: Sandbox, api: httpx.Client) -> None:
    """Returns page like orders: following next_cursor lists every return once."""
    ids = sandbox.add_returns(120)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 50}
    while True:
        body = api.get(RETURNS, params=params).json()
        seen.extend(item["id"] for item in body["returns"])
        if not body.get("next_cursor"):
            break
        params["cursor"] = body["next_cursor"]
    assert seen == ids


def test_get_return_and_404(sandbox: Sandbox, api: httpx.Client) -> None:
    """GET return answers {"return": {...}}; an unknown id is a 404."""
    (return_id,) = sandbox.add_returns(1)
    assert api.get(f"{RETURNS}/{return_id}").json()["return"]["id"] == return_id
    assert api.get(f"{RETURNS}/1").status_code == 404


def test_authorize_moves_pending_authorization_to_pending_shipping(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """Authorize sets merchant_return_number and moves the return to Pending Shipping."""
    (return_id,) = sandbox.add_returns(1, states=["Pending Authorization"])
    response = api.put(f"{RETURNS}/{return_id}/authorize", json={"merchant_return_number": "RMA-9"})
    shown = response.json()["return"]
    assert (shown["state"], shown["return_info"]["merchant_return_number"]) == (
        "Pending Shipping",
        "RMA-9",
    )
    assert sandbox.effects("authorize_return") == [
        {"kind": "authorize_return", "return_id": return_id, "merchant_return_number": "RMA-9"}
    ]


def test_authorize_outside_pending_authorization_is_400(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """A return in any other state cannot be authorized."""
    (return_id,) = sandbox.add_returns(1, states=["Pending Refund"])
    response = api.put(f"{RETURNS}/{return_id}/authorize", json={"merchant_return_number": "RMA-9"})
    assert response.status_code == 400


def test_authorize_with_a_used_merchant_return_number_is_409(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """merchant_return_number is unique across returns."""
    first, second = sandbox.add_returns(2, states=["Pending Authorization"])
    api.put(f"{RETURNS}/{first}/authorize", json={"merchant_return_number": "RMA-9"})
    again = api.put(f"{RETURNS}/{second}/authorize", json={"merchant_return_number": "RMA-9"})
    assert again.status_code == 409
    assert sandbox.return_(second)["state"] == "Pending Authorization"


def test_refunding_every_line_makes_the_return_merchant_refunded(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """A full refund of all lines in Pending Refund closes the return as Merchant Refunded."""
    (return_id,) = sandbox.add_returns(1, states=["Pending Refund"])
    ids = line_ids(sandbox.return_(return_id))
    response = api.put(f"{RETURNS}/{return_id}/refund", json=refund_lines(ids))
    assert response.json()["return"]["state"] == "Merchant Refunded"
    assert sandbox.effects("refund_return")[0]["line_ids"] == ids


def test_refunding_some_lines_keeps_the_return_open(sandbox: Sandbox, api: httpx.Client) -> None:
    """Refunding a subset of lines marks them refunded; the return stays in its state."""
    for return_id in sandbox.add_returns(10, states=["Pending Shipping"]):
        ids = line_ids(sandbox.return_(return_id))
        if len(ids) > 1:
            break
    response = api.put(f"{RETURNS}/{return_id}/refund", json=refund_lines(ids[:1]))
    lines = response.json()["return"]["return_info"]["return_lines"]
    assert response.json()["return"]["state"] == "Pending Shipping"
    assert [line["merchant_refunded"] for line in lines] == [True] + [False] * (len(ids) - 1)


def test_refunding_a_line_twice_is_409(sandbox: Sandbox, api: httpx.Client) -> None:
    """A line already refunded is a 409 "return line already refunded"."""
    (return_id,) = sandbox.add_returns(1, states=["Pending Refund"])
    body = refund_lines(line_ids(sandbox.return_(return_id)))
    api.put(f"{RETURNS}/{return_id}/refund", json=body)
    again = api.put(f"{RETURNS}/{return_id}/refund", json=body)
    assert (again.status_code, again.json()) == (409, {"error": "return line already refunded"})


def test_refund_in_a_state_that_allows_none_is_400(sandbox: Sandbox, api: httpx.Client) -> None:
    """A return Pending Authorization cannot be refunded."""
    (return_id,) = sandbox.add_returns(1, states=["Pending Authorization"])
    body = refund_lines(line_ids(sandbox.return_(return_id)))
    assert api.put(f"{RETURNS}/{return_id}/refund", json=body).status_code == 400


@pytest.mark.parametrize(
    "line", [{"feedamp_return_line_id": "1", "merchant_full_refund": True}, None]
)
def test_refund_of_unknown_line_or_partial_amount_is_400(
    sandbox: Sandbox, api: httpx.Client, line: dict[str, Any] | None
) -> None:
    """An unknown line id, or merchant_full_refund other than true, is a 400."""
    (return_id,) = sandbox.add_returns(1, states=["Pending Refund"])
    first = line_ids(sandbox.return_(return_id))[0]
    line = line or {"feedamp_return_line_id": first, "merchant_full_refund": False}
    response = api.put(f"{RETURNS}/{return_id}/refund", json={"merchant_refund_lines": [line]})
    assert response.status_code == 400
