"""How GET order shows the shipments an order holds, as the faults choose, and shipments
entered "in FeedAMP's UI" through the control endpoint."""

from __future__ import annotations

from typing import Any

import httpx

from feedamp_sync.sandbox import Faults, Sandbox

from .conftest import confirmed_order, order_line_numbers


def shipment(tracking: str, quantity: int = 1) -> dict[str, Any]:
    return {
        "quantity_shipped": quantity,
        "shipped_date": "2024-01-02T10:00:00+00:00",
        "carrier": "UPS",
        "tracking_number": tracking,
    }


def shown_shipments(api: httpx.Client, order_id: str) -> Any:
    order = api.get(f"/api/v1/orders/{order_id}").json()["order"][0]
    return order["order_info"]["order_lines"][0].get("fulfillments")


def shipped(sandbox: Sandbox, api: httpx.Client, *shipments: dict[str, Any]) -> str:
    """A confirmed order whose first line holds ``shipments`` (and has a unit more, so the
    order stays open); returns its id."""
    units = sum(s["quantity_shipped"] for s in shipments)
    for number in range(50):
        order = confirmed_order(sandbox, api, f"FA-{number}")
        first = order["order_info"]["order_lines"][0]
        if first["quantity"] > units:
            break
    line = order_line_numbers(order)[0]
    body = {"order_lines": [{"mp_line_number": line, "fulfillments": list(shipments)}]}
    api.put(f"/api/v1/orders/{order['id']}/fulfill", json=body).raise_for_status()
    return str(order["id"])


def test_hidden_fulfillments_are_not_shown(sandbox: Sandbox, api: httpx.Client) -> None:
    """``hide_fulfillments``: the lines carry no fulfillments or cancellations at all."""
    order_id = shipped(sandbox, api, shipment("1z-a"))
    sandbox.set_faults(Faults(hide_fulfillments=True))
    assert shown_shipments(api, order_id) is None


def test_normalised_tracking_numbers_are_shown_upper_cased_and_trimmed(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """``normalised_tracking``: " 1z-a" is shown as "1Z-A"; the order keeps what was PUT."""
    order_id = shipped(sandbox, api, shipment(" 1z-a"))
    sandbox.set_faults(Faults(normalised_tracking=True))
    assert shown_shipments(api, order_id) == [shipment("1Z-A")]
    stored = sandbox.order(order_id)["order_info"]["order_lines"][0]["fulfillments"]
    assert stored == [shipment(" 1z-a")]


def test_summed_shipments_show_one_entry_per_tracking_number(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    """``summed_shipments``: two one-unit "BOX" are shown as one "BOX" of two units."""
    order_id = shipped(sandbox, api, shipment("BOX"), shipment("BOX"))
    sandbox.set_faults(Faults(summed_shipments=True))
    assert shown_shipments(api, order_id) == [shipment("BOX", 2)]


def test_a_ui_shipment_posted_to_the_control_endpoint_is_held_with_the_others(
    sandbox: Sandbox, api: httpx.Client, client: httpx.Client
) -> None:
    """``POST /_sandbox/orders/{id}/ui_shipments`` adds a shipment without a fulfill."""
    order_id = shipped(sandbox, api, shipment("OURS"))
    line = order_line_numbers(sandbox.order(order_id))[0]
    body = {"mp_line_number": line, "shipment": shipment("BY-HAND")}
    response = client.post(f"/_sandbox/orders/{order_id}/ui_shipments", json=body)
    assert response.status_code == 201
    assert shown_shipments(api, order_id) == [shipment("OURS"), shipment("BY-HAND")]
    assert sandbox.effects("fulfill")[-1]["order_lines"][0]["fulfillments"] == [shipment("OURS")]
