"""Shipments and cancellations as multisets: FeedAMP's set, ours, and the set to PUT."""

from __future__ import annotations

from typing import Any

from feedamp_sync.outbox.fulfillment_set import (
    body,
    carries,
    covered,
    held_by,
    newest_invoice,
    of_payloads,
    plus,
    union,
    withdrawn_by,
    without,
)


def shipment(tracking: str, quantity: int = 1) -> dict[str, Any]:
    return {
        "quantity_shipped": quantity,
        "shipped_date": "2026-05-01",
        "carrier": "UPS",
        "tracking_number": tracking,
    }


def cancellation(quantity: int = 1) -> dict[str, Any]:
    return {"quantity_cancelled": quantity, "cancellation_reason": "out_of_stock"}


def payload(line: str = "L1", *shipments: dict[str, Any], **extra: Any) -> dict[str, Any]:
    entry = {"mp_line_number": line, "fulfillments": list(shipments), "cancellations": []}
    return {"order_lines": [entry | extra]}


def order(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"id": "1", "order_info": {"order_lines": list(lines)}}


def tracking(holdings: Any) -> list[str]:
    sent = body(holdings, None)
    return [f["tracking_number"] for line in sent["order_lines"] for f in line["fulfillments"]]


def test_each_message_counts_its_entries_once() -> None:
    """The same one-unit shipment in two messages is two shipments: two units."""
    assert tracking(of_payloads([payload("L1", shipment("A")), payload("L1", shipment("A"))])) == [
        "A",
        "A",
    ]


def test_feedamps_entries_are_kept_and_ours_it_lacks_added() -> None:
    """The union keeps what FeedAMP holds and adds only what it does not."""
    held = of_payloads([payload("L1", shipment("UI"), shipment("A"))])
    ours = of_payloads([payload("L1", shipment("A")), payload("L1", shipment("B"))])
    assert tracking(union(held, ours)) == ["UI", "A", "B"]


def test_an_entry_we_sent_twice_is_kept_twice_even_if_feedamp_shows_one() -> None:
    """Multiset union: FeedAMP showing one "A" of our two keeps both."""
    held = of_payloads([payload("L1", shipment("A"))])
    ours = of_payloads([payload("L1", shipment("A")), payload("L1", shipment("A"))])
    assert tracking(union(held, ours)) == ["A", "A"]


def test_lines_keep_the_order_in_which_they_first_appear() -> None:
    """Lines are sent in first-seen order, the new message's last."""
    total = plus(of_payloads([payload("L2", shipment("A"))]), of_payloads([payload("L1")]))
    assert list(total) == ["L2", "L1"]


def test_a_line_keeps_the_sku_it_was_first_sent_with() -> None:
    """The sku given with a line is sent with the whole set."""
    sent = body(of_payloads([payload("L1", shipment("A"), sku="S1")]), None)
    assert sent["order_lines"][0]["sku"] == "S1"


def test_the_newest_invoice_number_is_sent() -> None:
    """An invoice number given later replaces an earlier one; none given keeps it."""
    assert newest_invoice([{"invoice_number": "1"}, {"invoice_number": "2"}, {}]) == "2"


def test_covered_counts_shipped_and_cancelled_units_per_line() -> None:
    """Units shipped plus units cancelled, per line."""
    cancelled = {"mp_line_number": "L1", "fulfillments": [], "cancellations": [cancellation()]}
    holdings = plus(
        of_payloads([payload("L1", shipment("A", 2))]), of_payloads([{"order_lines": [cancelled]}])
    )
    assert covered(holdings) == {"L1": 3}


def test_feedamp_holding_everything_the_message_carried_means_it_took_effect() -> None:
    """Our earlier "A" and the new "A": FeedAMP must hold two to show the new one arrived."""
    before = of_payloads([payload("L1", shipment("A"))])
    new = of_payloads([payload("L1", shipment("A"))])
    assert not carries(of_payloads([payload("L1", shipment("A"))]), before, new)
    assert carries(of_payloads([payload("L1", shipment("A"), shipment("A"))]), before, new)


def test_a_shipment_with_another_quantity_does_not_match() -> None:
    """Tracking number and quantity identify a shipment."""
    held = of_payloads([payload("L1", shipment("A", 2))])
    assert not carries(held, {}, of_payloads([payload("L1", shipment("A", 1))]))


def test_quantities_echoed_as_strings_still_match() -> None:
    """FeedAMP may echo quantities as text."""
    echoed = order(
        {"mp_line_number": "L1", "fulfillments": [shipment("A") | {"quantity_shipped": "1"}]}
    )
    held = held_by(echoed)
    assert held is not None
    assert carries(held, {}, of_payloads([payload("L1", shipment("A"))]))


def test_an_order_whose_lines_show_fulfillment_data_is_read() -> None:
    """Lines with empty lists are readable: FeedAMP holds nothing yet."""
    assert held_by(order({"mp_line_number": "L1", "fulfillments": [], "cancellations": []})) == {}


def test_an_order_whose_lines_show_no_fulfillment_data_is_unreadable() -> None:
    """No line carries fulfillments or cancellations: what FeedAMP holds is unknown."""
    assert held_by(order({"mp_line_number": "L1", "quantity": 2})) is None
    assert held_by({"id": "1"}) is None


def withdrawing(line: str, tracking: str, quantity: int = 1) -> dict[str, Any]:
    return {
        "order_lines": [
            {
                "mp_line_number": line,
                "fulfillments": [],
                "cancellations": [],
                "withdrawn": [{"tracking_number": tracking, "quantity_shipped": quantity}],
            }
        ]
    }


def test_a_withdrawn_shipment_leaves_the_set() -> None:
    """One entry so known is taken out, whoever entered it."""
    held = of_payloads([payload("L1", shipment("TYPO"), shipment("A"))])
    kept, unmatched = without(held, withdrawn_by(withdrawing("L1", "TYPO")))
    assert (tracking(kept), unmatched) == (["A"], [])


def test_a_later_message_does_not_bring_a_withdrawn_shipment_back() -> None:
    """Our history less its withdrawals: the mistyped shipment stays gone."""
    history = of_payloads([payload("L1", shipment("TYPO")), withdrawing("L1", "TYPO")])
    assert tracking(history) == []


def test_a_withdrawal_that_matches_nothing_is_reported() -> None:
    """Withdrawing a shipment the line does not have is named, not ignored."""
    _, unmatched = without({}, withdrawn_by(withdrawing("L1", "NOPE", 2)))
    assert unmatched == ["2 unit(s) under NOPE on line L1"]


def test_a_withdrawal_took_effect_when_feedamp_no_longer_holds_it() -> None:
    """After an unknown outcome, the withdrawn shipment gone from FeedAMP means applied."""
    before = of_payloads([payload("L1", shipment("TYPO"))])
    new = of_payloads([payload("L1", shipment("FIXED"))])
    withdrawn = withdrawn_by(withdrawing("L1", "TYPO"))
    still = of_payloads([payload("L1", shipment("TYPO"), shipment("FIXED"))])
    assert not carries(still, before, new, withdrawn)
    assert carries(of_payloads([payload("L1", shipment("FIXED"))]), before, new, withdrawn)
