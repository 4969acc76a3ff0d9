"""New orders (pagination, cursors, end-of-list forms), GET order, and confirm."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from feedamp_sync.sandbox import Sandbox, Verbatim
from feedamp_sync.sandbox.generate import CANARY, CANARY_PHONES

NEW_ORDERS = "/api/v1/orders/new"


def all_pages(api: httpx.Client, *, limit: int = 50, path: str = NEW_ORDERS) -> list[str]:
    """Follow next_cursor the way the client rules say: stop on null/absent/empty/empty page."""
    ids: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    for _ in range(100):
        body = api.get(path, params=params).raise_for_status().json()
        ids.extend(order["id"] for order in body["orders"])
        cursor = body.get("next_cursor")
        if not cursor or not body["orders"]:
            return ids
        params["cursor"] = cursor
    raise AssertionError("pagination did not end")


def test_new_orders_lists_unconfirmed_orders_with_generated_fields(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """An order in the list is ORDERED, has a null cp_order_number and undocumented fields."""
    sandbox.add_orders(3)
    order = api.get(NEW_ORDERS).json()["orders"][0]
    info = order["order_info"]
    assert (order["state"], info["cp_order_number"]) == ("ORDERED", None)
    assert {"sandbox_channel", "acknowledged", "paused"} <= set(order)
    assert {"sandbox_loyalty_tier", "customer_email", "billing_city"} <= set(info)
    assert "sandbox_warehouse_hint" in info["order_lines"][0]


def test_every_generated_customer_carries_the_canary(sandbox: Sandbox) -> None:
    """Each name, street address, email and phone number holds the canary, so a test finds
    any of them in a log by the canary alone."""
    ids = sandbox.add_orders(40)
    infos = [sandbox.order(order_id)["order_info"] for order_id in ids]
    texts = ("full_name", "address1")
    missing = [
        (order_id, field, info[field])
        for order_id, info in zip(ids, infos, strict=True)
        for field in [f"{side}_{text}" for side in ("shipping", "billing") for text in texts]
        + ["customer_full_name", "customer_email"]
        if CANARY.casefold() not in info[field].casefold()
    ] + [
        (order_id, field, info[field])
        for order_id, info in zip(ids, infos, strict=True)
        for field in ("shipping_phone", "billing_phone", "customer_phone")
        if not info[field].startswith(CANARY_PHONES)
    ]
    assert missing == []


def test_orders_path_serves_new_orders_too(sandbox: Sandbox, api: httpx.Client) -> None:
    """GET /api/v1/orders answers exactly like GET /api/v1/orders/new."""
    sandbox.add_orders(5)
    assert api.get("/api/v1/orders").json() == api.get(NEW_ORDERS).json()


@pytest.mark.parametrize("limit", ["49", "201", "ten"])
def test_limit_outside_50_to_200_is_400(api: httpx.Client, limit: str) -> None:
    """limit must be an integer from 50 to 200."""
    assert api.get(NEW_ORDERS, params={"limit": limit}).status_code == 400


def test_invalid_cursor_is_400(api: httpx.Client) -> None:
    """A cursor the sandbox did not issue is a 400."""
    assert api.get(NEW_ORDERS, params={"cursor": "not-a-cursor"}).status_code == 400


@pytest.mark.parametrize("form", ["null", "absent", "empty", "empty_page"])
def test_pagination_serves_every_order_once_for_each_end_form(
    sandbox: Sandbox, api: httpx.Client, form: str
) -> None:
    """Following cursors to the end yields every new order exactly once, in id order."""
    created = sandbox.add_orders(120)
    sandbox.set_faults(end_of_pages=form)
    assert all_pages(api) == created


@pytest.mark.parametrize(
    ("form", "expected"),
    [("null", {"next_cursor": None}), ("absent", {}), ("empty", {"next_cursor": ""})],
)
def test_last_page_ends_with_the_configured_form(
    sandbox: Sandbox, api: httpx.Client, form: str, expected: dict[str, Any]
) -> None:
    """The last page's next_cursor is null, missing, or "" as configured."""
    sandbox.add_orders(3)
    sandbox.set_faults(end_of_pages=form)
    body = api.get(NEW_ORDERS).json()
    assert {key: value for key, value in body.items() if key != "orders"} == expected


def test_empty_page_form_gives_a_cursor_then_an_empty_page(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """With end_of_pages="empty_page" the last full page has a cursor and the next is empty."""
    sandbox.add_orders(3)
    sandbox.set_faults(end_of_pages="empty_page")
    first = api.get(NEW_ORDERS).json()
    after = api.get(NEW_ORDERS, params={"cursor": first["next_cursor"]}).json()
    assert (len(first["orders"]), after) == (3, {"orders": [], "next_cursor": None})


def test_keyset_cursor_skips_nothing_when_orders_are_confirmed_during_a_pass(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """Confirming each page before fetching the next still visits every order (default)."""
    created = sandbox.add_orders(150)
    seen = confirm_page_by_page(api)
    assert seen == created


def test_offset_cursor_skips_orders_when_orders_are_confirmed_during_a_pass(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """With offset_cursor, confirming during a pass shifts the list so later orders are missed."""
    created = sandbox.add_orders(150)
    sandbox.set_faults(offset_cursor=True)
    seen = confirm_page_by_page(api)
    assert len(seen) < len(created)
    assert sandbox.unconfirmed_orders() == [i for i in created if i not in seen]


def confirm_page_by_page(api: httpx.Client) -> list[str]:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 50}
    while True:
        body = api.get(NEW_ORDERS, params=params).json()
        for order in body["orders"]:
            seen.append(order["id"])
            api.put(f"/api/v1/orders/{order['id']}/confirm", json={"cp_order_number": order["id"]})
        if not body.get("next_cursor") or not body["orders"]:
            return seen
        params["cursor"] = body["next_cursor"]


def test_marketplace_fulfilled_filter_selects_matching_orders(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """marketplace_fulfilled=true lists only orders with marketplace-fulfilled lines."""
    sandbox.add_orders(150)
    params = {"marketplace_fulfilled": "true", "limit": "200"}
    listed = api.get(NEW_ORDERS, params=params).json()["orders"]
    lines = [line for order in listed for line in order["order_info"]["order_lines"]]
    assert lines
    assert all(line["marketplace_fulfilled"] for line in lines)


def test_include_raw_adds_raw_marketplace_data(sandbox: Sandbox, api: httpx.Client) -> None:
    """include_raw=true adds a "raw" object to each order; it is absent otherwise."""
    sandbox.add_orders(1)
    with_raw = api.get(NEW_ORDERS, params={"include_raw": "true"}).json()["orders"][0]
    without = api.get(NEW_ORDERS).json()["orders"][0]
    assert "MarketplaceOrderId" in with_raw["raw"]
    assert "raw" not in without


def test_get_order_returns_an_array_of_one_order(sandbox: Sandbox, api: httpx.Client) -> None:
    """GET order wraps the order in a one-element array, as documented."""
    (order_id,) = sandbox.add_orders(1)
    body = api.get(f"/api/v1/orders/{order_id}").json()
    assert [order["id"] for order in body["order"]] == [order_id]


def test_get_unknown_order_is_404(api: httpx.Client) -> None:
    """An order id the sandbox does not know is a 404."""
    assert api.get("/api/v1/orders/1").status_code == 404


def test_confirm_places_the_order_and_removes_it_from_new_orders(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """Confirm answers {"order": {id, cp_order_number, state: PLACED}} and stores the number."""
    (order_id,) = sandbox.add_orders(1)
    response = api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": "FA-7"})
    assert response.json() == {
        "order": {"id": order_id, "cp_order_number": "FA-7", "state": "PLACED"}
    }
    assert sandbox.order(order_id)["order_info"]["cp_order_number"] == "FA-7"
    assert api.get(NEW_ORDERS).json()["orders"] == []


def test_confirming_twice_is_409_without_effect(sandbox: Sandbox, api: httpx.Client) -> None:
    """A second confirm (even with the same number) is 409 "order already confirmed"."""
    (order_id,) = sandbox.add_orders(1)
    api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": "FA-1"})
    again = api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": "FA-1"})
    assert (again.status_code, again.json()) == (409, {"error": "order already confirmed"})
    assert len(sandbox.effects("confirm")) == 1


def test_confirm_with_a_number_used_by_another_order_is_409(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """cp_order_number is unique: reusing one for another order is 409 and changes nothing."""
    first, second = sandbox.add_orders(2)
    api.put(f"/api/v1/orders/{first}/confirm", json={"cp_order_number": "FA-1"})
    reused = api.put(f"/api/v1/orders/{second}/confirm", json={"cp_order_number": "FA-1"})
    assert (reused.status_code, reused.json()) == (409, {"error": "duplicate cp_order_number"})
    assert sandbox.order(second)["state"] == "ORDERED"


@pytest.mark.parametrize("body", [{}, {"cp_order_number": ""}, {"cp_order_number": 12}])
def test_confirm_without_a_number_is_400(
    sandbox: Sandbox, api: httpx.Client, body: dict[str, Any]
) -> None:
    """A missing, empty or non-string cp_order_number is a 400."""
    (order_id,) = sandbox.add_orders(1)
    assert api.put(f"/api/v1/orders/{order_id}/confirm", json=body).status_code == 400


def test_generated_world_is_deterministic_for_a_seed() -> None:
    """Two sandboxes with one seed and one clock generate identical orders and returns."""
    worlds = [Sandbox(seed=42, clock=lambda: 1_700_000_000.0) for _ in range(2)]
    orders = [world.add_orders(5) for world in worlds]
    returns = [world.add_returns(3) for world in worlds]
    assert orders[0] == orders[1]
    assert returns[0] == returns[1]
    assert [worlds[0].order(i) for i in orders[0]] == [worlds[1].order(i) for i in orders[0]]
    assert [worlds[0].return_(i) for i in returns[0]] == [worlds[1].return_(i) for i in returns[0]]


def test_an_order_can_be_served_with_json_text_python_cannot_write(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """A Verbatim value goes into the answer as its text: here lists nested 5,000 deep,
    which json.dumps refuses, in the order's place among the others."""
    first, deep = sandbox.add_orders(2)
    nested = "[" * 5000 + "]" * 5000
    sandbox.serve_order_as(deep, lambda order: {"id": order["id"], "gift": Verbatim(nested)})
    text = api.get(NEW_ORDERS).raise_for_status().text
    assert f'{{"id":"{deep}","gift":{nested}}}' in text
    assert text.index(f'"id":"{first}"') < text.index(nested)
