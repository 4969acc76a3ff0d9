"""The fulfillment union sent with every PUT, and the read-back that reconciles it."""

from __future__ import annotations

from typing import Any

from feedamp_sync.outbox.fulfillment_union import covered, holds, union


def ship(tracking: str, quantity: int = 1) -> dict[str, Any]:
    return {
        "quantity_shipped": quantity,
        "shipped_date": "2026-05-01",
        "carrier": "UPS",
        "tracking_number": tracking,
    }


def cancel(quantity: int = 1, reason: str = "out_of_stock") -> dict[str, Any]:
    return {"quantity_cancelled": quantity, "cancellation_reason": reason}


def line(
    number: str,
    shipments: list[dict[str, Any]] | None = None,
    cancellations: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "mp_line_number": number,
        **extra,
        "fulfillments": shipments or [],
        "cancellations": cancellations or [],
    }


def message(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**extra, "order_lines": list(lines)}


def feedamp_order(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"id": "1", "state": "PLACED", "order_info": {"order_lines": list(lines)}}


def test_a_new_shipment_is_added_to_those_already_sent() -> None:
    """The union of a sent shipment and a new one on the same line holds both, oldest first."""
    body = union([message(line("L1", [ship("A")])), message(line("L1", [ship("B", 2)]))])
    assert body == message(line("L1", [ship("A"), ship("B", 2)]))


def test_lines_keep_the_order_in_which_they_first_appear() -> None:
    """A later message's new line is appended after the lines already sent."""
    body = union([message(line("L2", [ship("A")])), message(line("L1", [ship("B")]))])
    assert [entry["mp_line_number"] for entry in body["order_lines"]] == ["L2", "L1"]


def test_an_identical_shipment_is_not_duplicated() -> None:
    """A shipment re-sent in a later message stays one shipment."""
    sent = message(line("L1", [ship("A")]))
    assert union([sent, sent]) == sent


def test_equal_cancellations_in_two_messages_are_two_cancellations() -> None:
    """Cancellations have no identity and a message holds only new ones, so both count."""
    body = union([message(line("L1", [], [cancel()])), message(line("L1", [], [cancel()]))])
    assert body["order_lines"][0]["cancellations"] == [cancel(), cancel()]


def test_the_newest_invoice_number_is_sent() -> None:
    """invoice_number comes from the newest message that has one."""
    body = union(
        [
            message(line("L1", [ship("A")]), invoice_number="INV-1"),
            message(line("L1", [ship("B")]), invoice_number="INV-2"),
            message(line("L1", [ship("C")])),
        ]
    )
    assert body["invoice_number"] == "INV-2"


def test_a_line_keeps_the_sku_it_was_first_sent_with() -> None:
    """The SKU of a line is carried into the union."""
    body = union([message(line("L1", [ship("A")], sku="S-1")), message(line("L1", [ship("B")]))])
    assert body["order_lines"][0]["sku"] == "S-1"


def test_covered_counts_shipped_and_cancelled_units_per_line() -> None:
    """A line's covered units are its shipped plus cancelled quantities."""
    body = message(line("L1", [ship("A", 2)], [cancel(1)]), line("L2", [ship("B")]))
    assert covered(body) == {"L1": 3, "L2": 1}


def test_feedamp_holding_the_whole_union_means_the_put_took_effect() -> None:
    """Every shipment (tracking, quantity) and cancellation (reason, quantity) held: applied."""
    body = message(line("L1", [ship("A"), ship("B", 2)], [cancel()]))
    order = feedamp_order(line("L1", [ship("A"), ship("B", 2)], [cancel()]))
    assert holds(order, body)


def test_feedamp_missing_the_new_shipment_means_the_put_did_not_take_effect() -> None:
    """FeedAMP still holding only the earlier shipment: send again."""
    body = message(line("L1", [ship("A"), ship("B", 2)]))
    assert not holds(feedamp_order(line("L1", [ship("A")])), body)


def test_a_shipment_with_another_quantity_does_not_match() -> None:
    """Tracking number and quantity must both match."""
    assert not holds(feedamp_order(line("L1", [ship("A", 1)])), message(line("L1", [ship("A", 2)])))


def test_repeated_cancellations_are_counted() -> None:
    """Two equal cancellations wanted, one held: not applied."""
    body = message(line("L1", [], [cancel(), cancel()]))
    assert not holds(feedamp_order(line("L1", [], [cancel()])), body)


def test_quantities_echoed_as_strings_still_match() -> None:
    """FeedAMP's echo is read tolerantly: "2" is the quantity 2."""
    held = {**ship("A"), "quantity_shipped": "2"}
    assert holds(feedamp_order(line("L1", [held])), message(line("L1", [ship("A", 2)])))


def test_an_order_without_fulfillments_holds_nothing() -> None:
    """An order read back without any fulfillment data cannot hold our entries."""
    assert not holds({"id": "1", "order_info": {}}, message(line("L1", [ship("A")])))
