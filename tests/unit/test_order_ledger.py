"""The per-line ledger of ``orders show``: ordered, shipped, cancelled, refunded, and by whom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from feedamp_sync.outbox.ledger import SentAction, StoredCopy, order_ledger

SENT = datetime(2026, 5, 1, 12, tzinfo=UTC)
LATER = SENT + timedelta(hours=1)


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
    [line] = order_ledger([("L1", 3)], sent, []).lines
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
    [line] = order_ledger([("L1", 2)], sent, []).lines
    assert [s["source"] for s in line["shipments"]] == ["message 3", "message 4"]
    assert line["shipped"] == 2


def test_refunds_are_listed_under_their_line_with_their_units() -> None:
    """Sent refunds count their units and keep their numbers."""
    refund = {"mp_line_number": "L1", "refund_quantity": 1, "cp_refund_number": "RFX-9"}
    [line] = order_ledger([("L1", 2)], [], [SentAction(9, refund)]).lines
    assert line["refunded"] == 1
    assert line["refunds"] == [
        {"refund_quantity": 1, "cp_refund_number": "RFX-9", "source": "message 9"}
    ]


def test_a_line_with_nothing_done_is_listed_with_zeros() -> None:
    """Every line of the order appears, done or not."""
    assert order_ledger([("L1", 1)], [], []).lines == [
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


def shown(ledger_line: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["tracking_number"], s["source"]) for s in ledger_line["shipments"]]


def test_a_stored_copy_newer_than_the_last_answer_is_the_set() -> None:
    """A shipment typed into FeedAMP's UI after our last message shows once the order is
    read again (refresh or `orders fetch`): the stored copy is newer than the answer."""
    sent = [SentAction(7, payload(shipment("OURS")), answer(shipment("OURS")), SENT)]
    copy = StoredCopy(answer(shipment("OURS"), shipment("UI")), LATER)
    ledger = order_ledger([("L1", 3)], sent, [], copy)
    assert shown(ledger.lines[0]) == [("OURS", "message 7"), ("UI", "feedamp")]
    assert (ledger.basis.shown_by, ledger.basis.at) == ("order", LATER)


def test_an_answer_newer_than_the_stored_copy_is_the_set() -> None:
    """The copy stored before our shipment is older than the shipment's answer."""
    sent = [SentAction(7, payload(shipment("OURS")), answer(shipment("OURS")), LATER)]
    copy = StoredCopy(answer(), SENT)
    ledger = order_ledger([("L1", 3)], sent, [], copy)
    assert shown(ledger.lines[0]) == [("OURS", "message 7")]
    assert (ledger.basis.shown_by, ledger.basis.message_id) == ("answer", 7)


def test_a_stored_copy_without_fulfillment_data_is_not_the_set() -> None:
    """A copy whose lines show no fulfillments at all says nothing about them."""
    sent = [SentAction(7, payload(shipment("OURS")), None, SENT)]
    copy = StoredCopy({"id": "1", "order_info": {"order_lines": [{"mp_line_number": "L1"}]}}, LATER)
    ledger = order_ledger([("L1", 3)], sent, [], copy)
    assert shown(ledger.lines[0]) == [("OURS", "message 7")]
    assert ledger.basis.shown_by == "messages"


def test_our_shipments_sent_after_the_stored_copy_are_added_to_it() -> None:
    """FeedAMP's answers show no lines; the copy read before our shipment lacks it, so the
    shipment is added as its PUT added it, beside the UI's."""
    sent = [SentAction(8, payload(shipment("OURS")), [{"id": "1"}], LATER)]
    copy = StoredCopy(answer(shipment("UI")), SENT)
    ledger = order_ledger([("L1", 3)], sent, [], copy)
    assert shown(ledger.lines[0]) == [("UI", "feedamp"), ("OURS", "message 8")]
    assert ledger.basis.applied == (8,)


def test_a_shipment_the_stored_copy_already_shows_is_not_added_again() -> None:
    """A copy read while our PUT was taking effect already holds its shipment: once."""
    sent = [SentAction(8, payload(shipment("OURS")), None, LATER)]
    copy = StoredCopy(answer(shipment("OURS")), SENT)
    ledger = order_ledger([("L1", 3)], sent, [], copy)
    assert shown(ledger.lines[0]) == [("OURS", "message 8")]
    assert ledger.basis.applied == ()


def test_a_shipment_feedamp_shows_summed_names_each_message_whose_units_it_holds() -> None:
    """Two of our one-unit shipments into one box, shown by FeedAMP as one of two units (and
    its tracking number upper-cased): both messages, not FeedAMP."""
    sent = [
        SentAction(3, payload(shipment("1z-box")), None, SENT),
        SentAction(4, payload(shipment("1z-box")), answer(shipment("1Z-BOX", 2)), LATER),
    ]
    [line] = order_ledger([("L1", 2)], sent, []).lines
    assert shown(line) == [("1Z-BOX", "message 3, message 4")]
    assert line["shipped"] == 2


def test_units_beyond_what_our_messages_carried_are_feedamps() -> None:
    """FeedAMP shows two units under our tracking number, of which we sent one."""
    sent = [SentAction(3, payload(shipment("1Z-BOX")), answer(shipment("1Z-BOX", 2)), SENT)]
    [line] = order_ledger([("L1", 2)], sent, []).lines
    assert shown(line) == [("1Z-BOX", "message 3, feedamp")]
