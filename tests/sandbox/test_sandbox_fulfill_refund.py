"""Fulfill (full replacement, completion) and seller-initiated refunds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from feedamp_sync.sandbox import Sandbox

from .conftest import confirmed_order, order_line_numbers


def shipment(quantity: int = 1, tracking: str = "1Z999") -> dict[str, Any]:
    return {
        "quantity_shipped": quantity,
        "shipped_date": "2024-01-02T10:00:00+00:00",
        "carrier": "UPS",
        "tracking_number": tracking,
    }


def fulfill(api: httpx.Client, order_id: str, lines: list[dict[str, Any]]) -> httpx.Response:
    return api.put(f"/api/v1/orders/{order_id}/fulfill", json={"order_lines": lines})


def ship_everything(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"mp_line_number": line["mp_line_number"], "fulfillments": [shipment(line["quantity"])]}
        for line in order["order_info"]["order_lines"]
    ]


def refund_body(order: dict[str, Any], number: str = "RF-1", **extra: Any) -> dict[str, Any]:
    info = {
        "cp_refund_number": number,
        "mp_line_number": order_line_numbers(order)[0],
        "refund_reason": "customer_return",
        "currency": "USD",
        "item_refund": 1.5,
    }
    return {"refund_info": info | extra}


def test_fulfill_of_an_unconfirmed_order_is_400(sandbox: Sandbox, api: httpx.Client) -> None:
    """An order still ORDERED cannot be fulfilled: 400 "order not confirmed"."""
    (order_id,) = sandbox.add_orders(1)
    line = order_line_numbers(sandbox.order(order_id))[0]
    response = fulfill(api, order_id, [{"mp_line_number": line, "fulfillments": [shipment()]}])
    assert (response.status_code, response.json()) == (400, {"error": "order not confirmed"})


def test_partial_fulfill_keeps_the_order_placed_and_echoes_the_shipment(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """A shipment of one unit is stored on its line, shown by GET order, order stays PLACED."""
    order = confirmed_order(sandbox, api, min_units=2)
    line = order_line_numbers(order)[0]
    fulfill(api, order["id"], [{"mp_line_number": line, "fulfillments": [shipment()]}])
    shown = api.get(f"/api/v1/orders/{order['id']}").json()["order"][0]
    stored = shown["order_info"]["order_lines"][0]
    assert (stored["fulfillments"], stored["cancellations"]) == ([shipment()], [])
    assert shown["state"] == "PLACED"


def test_fulfill_replaces_all_earlier_messages(sandbox: Sandbox, api: httpx.Client) -> None:
    """A second fulfill that omits the first shipment erases it (PUT is a full replacement)."""
    order = confirmed_order(sandbox, api, min_units=2)
    first = order_line_numbers(order)[0]
    cancellation = {"quantity_cancelled": 1, "cancellation_reason": "out_of_stock"}
    fulfill(api, order["id"], [{"mp_line_number": first, "fulfillments": [shipment()]}])
    fulfill(api, order["id"], [{"mp_line_number": first, "cancellations": [cancellation]}])
    line = sandbox.order(order["id"])["order_info"]["order_lines"][0]
    assert (line["fulfillments"], line["cancellations"]) == ([], [cancellation])


def test_fulfilling_every_unit_makes_the_order_fulfilled(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """Once every unit of every line is shipped the order is FULFILLED."""
    order = confirmed_order(sandbox, api)
    response = fulfill(api, order["id"], ship_everything(order))
    assert response.json()["order"]["state"] == "FULFILLED"


def test_cancelling_every_unit_makes_the_order_cancelled(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """Once every unit is cancelled (none shipped) the order is CANCELLED."""
    order = confirmed_order(sandbox, api)
    lines = [
        {
            "mp_line_number": line["mp_line_number"],
            "cancellations": [
                {"quantity_cancelled": line["quantity"], "cancellation_reason": "out_of_stock"}
            ],
        }
        for line in order["order_info"]["order_lines"]
    ]
    assert fulfill(api, order["id"], lines).json()["order"]["state"] == "CANCELLED"


def test_fulfill_after_completion_is_400(sandbox: Sandbox, api: httpx.Client) -> None:
    """A complete order accepts no further fulfill updates."""
    order = confirmed_order(sandbox, api)
    fulfill(api, order["id"], ship_everything(order))
    again = fulfill(api, order["id"], ship_everything(order))
    assert again.status_code == 400
    assert again.json() == {"error": "order is complete and accepts no further updates"}


def test_fulfill_effect_records_the_replacement_set(sandbox: Sandbox, api: httpx.Client) -> None:
    """The ledger effect of a fulfill holds the order lines exactly as accepted."""
    order = confirmed_order(sandbox, api)
    lines = ship_everything(order)
    fulfill(api, order["id"], lines)
    (effect,) = sandbox.effects("fulfill")
    assert effect["order_id"] == order["id"]
    assert [line["fulfillments"] for line in effect["order_lines"]] == [
        line["fulfillments"] for line in lines
    ]


@pytest.mark.parametrize(
    ("mutate", "message_part"),
    [
        (lambda line: line.update(mp_line_number="nope"), "not a line"),
        (lambda line: line["fulfillments"][0].update(quantity_shipped=99), "exceeds"),
        (lambda line: line["fulfillments"][0].update(quantity_shipped=0), "positive integer"),
        (lambda line: line["fulfillments"][0].pop("carrier"), "carrier"),
        (lambda line: line["fulfillments"][0].update(shipped_date="yesterday"), "ISO 8601"),
        (
            lambda line: line.update(
                cancellations=[{"quantity_cancelled": 1, "cancellation_reason": "bored"}]
            ),
            "cancellation_reason",
        ),
    ],
)
def test_invalid_fulfill_is_400_naming_the_problem(
    sandbox: Sandbox, api: httpx.Client, mutate: Any, message_part: str
) -> None:
    """Unknown lines, bad quantities, missing fields and unknown reasons are 400s, no effect."""
    order = confirmed_order(sandbox, api)
    lines = ship_everything(order)
    mutate(lines[0])
    response = fulfill(api, order["id"], lines)
    assert response.status_code == 400
    assert message_part in response.json()["error"]
    assert sandbox.effects("fulfill") == []


def test_refund_is_created_with_201(sandbox: Sandbox, api: httpx.Client) -> None:
    """A refund answers 201 with id, order_id, state CREATED and the refund_info echoed."""
    order = confirmed_order(sandbox, api)
    body = refund_body(order)
    response = api.post(f"/api/v1/orders/{order['id']}/refund", json=body)
    assert response.status_code == 201
    created = response.json()
    assert (created["order_id"], created["state"]) == (order["id"], "CREATED")
    assert created["refund_info"] == body["refund_info"]
    assert sandbox.effects("refund") == [
        {
            "kind": "refund",
            "order_id": order["id"],
            "cp_refund_number": "RF-1",
            "refund_id": created["id"],
            "mp_line_number": body["refund_info"]["mp_line_number"],
        }
    ]


def test_refund_with_a_used_cp_refund_number_is_409(sandbox: Sandbox, api: httpx.Client) -> None:
    """cp_refund_number is unique across all refunds: a second use is 409, no second refund."""
    order = confirmed_order(sandbox, api)
    api.post(f"/api/v1/orders/{order['id']}/refund", json=refund_body(order))
    again = api.post(f"/api/v1/orders/{order['id']}/refund", json=refund_body(order))
    assert (again.status_code, again.json()) == (409, {"error": "duplicate cp_refund_number"})
    assert len(sandbox.effects("refund")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"cp_refund_number": "RF-1", "refund_reason": "customer_return", "currency": "USD"},
        {"refund_info": {"cp_refund_number": "RF-1", "mp_line_number": "nope",
                         "refund_reason": "customer_return", "currency": "USD"}},
        {"refund_info": {"cp_refund_number": "RF-1", "mp_line_number": "LINE",
                         "refund_reason": "because", "currency": "USD"}},
        {"refund_info": {"cp_refund_number": "RF-1", "mp_line_number": "LINE",
                         "refund_reason": "customer_return", "currency": "usd"}},
    ],
    ids=["no-wrapper", "unknown-line", "bad-reason", "bad-currency"],
)  # fmt: skip
def test_invalid_refund_is_400(sandbox: Sandbox, api: httpx.Client, body: dict[str, Any]) -> None:
    """A missing wrapper, unknown line, unknown reason or bad currency is a 400."""
    order = confirmed_order(sandbox, api)
    if "refund_info" in body and body["refund_info"]["mp_line_number"] == "LINE":
        body["refund_info"]["mp_line_number"] = order_line_numbers(order)[0]
    response = api.post(f"/api/v1/orders/{order['id']}/refund", json=body)
    assert response.status_code == 400
    assert sandbox.effects("refund") == []
