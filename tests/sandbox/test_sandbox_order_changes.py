"""Orders that change after confirm: cancelled on the marketplace, by hand or at random."""

from __future__ import annotations

import httpx

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.sandbox.conftest import CLIENT_ID, PASSWORD, USERNAME, confirmed_order


def test_get_order_serves_a_cancellation_after_confirm(sandbox: Sandbox, api: httpx.Client) -> None:
    """A confirmed order cancelled on the marketplace reads back with both states cancelled."""
    order = confirmed_order(sandbox, api)
    sandbox.set_order_state(order["id"], "CANCELLED", "CANCELLED")
    [read] = api.get(f"/api/v1/orders/{order['id']}").json()["order"]
    assert (read["state"], read["marketplace_state"]) == ("CANCELLED", "CANCELLED")
    assert read["order_info"]["cp_order_number"] == "FA-1"


def test_control_sets_an_order_state(sandbox: Sandbox, client: httpx.Client) -> None:
    """PUT /_sandbox/orders/{id}/state changes the state, the marketplace state optional."""
    (order_id,) = sandbox.add_orders(1)
    response = client.put(f"/_sandbox/orders/{order_id}/state", json={"state": "PLACED"})
    assert response.status_code == 200
    assert response.json()["order"]["state"] == "PLACED"
    assert response.json()["order"]["marketplace_state"] == "AWAITING_SHIPMENT"


def test_control_refuses_an_unknown_order_or_a_missing_state(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    """An unknown order is a 404, a body without a state a 400."""
    (order_id,) = sandbox.add_orders(1)
    assert client.put("/_sandbox/orders/1/state", json={"state": "X"}).status_code == 404
    assert client.put(f"/_sandbox/orders/{order_id}/state", json={}).status_code == 400


def test_cancel_after_confirm_cancels_some_confirmed_orders_once_each() -> None:
    """At a chance of 0.5, some of 40 confirmed orders read back cancelled, the others not,
    and each order's fate stays as first decided."""
    sandbox = Sandbox(
        username=USERNAME, password=PASSWORD, client_id=CLIENT_ID, seed=3, cancel_after_confirm=0.5
    )
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        token = httpx.get(
            f"{server.base_url}/api/v1/get_token", auth=(USERNAME, PASSWORD), timeout=5
        ).json()["token"]
        headers = {"token": token, "client": str(CLIENT_ID)}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=5) as api:
            ids = sandbox.add_orders(40)
            for order_id in ids:
                api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": order_id})

            def states() -> list[str]:
                return [api.get(f"/api/v1/orders/{i}").json()["order"][0]["state"] for i in ids]

            first = states()
            assert 0 < first.count("CANCELLED") < 40
            assert set(first) == {"PLACED", "CANCELLED"}
            assert states() == first
