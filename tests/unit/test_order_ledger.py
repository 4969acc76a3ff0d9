"""The per-line ledger of ``orders show``: ordered, shipped, cancelled, refunded, and by whom."""

from __future__ import annotations

from typing import Any

from feedamp_sync.outbox.ledger import SentAction, order_ledger


def shipment(tracking: str, quantity: int = 1) -> dict[str, Any]:
    return {
        "quantity_shipped": quantity,
        "shipped_date": "2026-05-01",
        "carrier": "UPS",
        "tracking_number": tracking,
    }


def payload(*shipments: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_lines": [
            {"mp_line_number": "L1", "fulfillments": list(shipments), "cancellations": []}
        ]
    }


def answer(*shipments: dict[str, Any]) -> dict[str, Any]:
    lines = [{"mp_line_number": "L1", "fulfillments": list(shipments), "cancellations": []}]
    return {"id": "1", "order_info": {"order_lines": lines}}


def test_each_shipment_names_the_message_that_carried_it_or_feedamp() -> None:
    """FeedAMP's latest answer is the set; ours are attributed, the rest is FeedAMP's own."""
    sent = [SentAction(7, payload(shipment("OURS")), answer(shipment("UI"), shipment("OURS")))]
    [line] = order_ledger([("L1", 3)], sent, [])
    assert [(s["tracking_number"], s["source"]) for s in line["shipments"]] == [
        ("UI", "feedamp"),
        ("OURS", "message 7"),
    ]
    assert (line["ordered"], line["shipped"], line["cancelled"]) == (3, 2, 0)


def test_without_an_answer_from_feedamp_our_own_messages_make_the_set() -> None:
    """No usable answer: the ledger shows what this daemon sent."""
    sent = [
        SentAction(3, payload(shipment("A")), None),
        SentAction(4, payload(shipment("A")), None),
    ]
    [line] = order_ledger([("L1", 2)], sent, [])
    assert [s["source"] for s in line["shipments"]] == ["message 3", "message 4"]
    assert line["shipped"] == 2


def test_refunds_are_listed_under_their_line_with_their_units() -> None:
    """Sent refunds count their units and keep their numbers."""
    refund = {"mp_line_number": "L1", "refund_quantity": 1, "cp_refund_number": "RFX-9"}
    [line] = order_ledger([("L1", 2)], [], [SentAction(9, refund)])
    assert line["refunded"] == 1
    assert line["refunds"] == [
        {"refund_quantity": 1, "cp_refund_number": "RFX-9", "source": "message 9"}
    ]


def test_a_line_with_nothing_done_is_listed_with_zeros() -> None:
    """Every line of the order appears, done or not."""
    assert order_ledger([("L1", 1)], [], []) == [
        {
            "mp_line_number": "L1",
            "ordered": 1,
            "shipped": 0,
            "cancelled": 0,
            "refunded": 0,
            "shipments": [],
            "cancellations": [],
            "refunds": [],
        }
    ]
