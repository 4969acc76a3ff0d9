"""Shipments and cancellations as multisets: FeedAMP's set, ours, and the set to PUT."""

from __future__ import annotations

from typing import Any

from feedamp_sync.outbox.fulfillment_set import (
    body,
    covered,
    held_by,
    newest_invoice,
    of_payloads,
    plus,
    sent_in,
    took_effect,
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


def test_feedamp_holding_what_the_body_put_means_it_took_effect() -> None:
    """Our earlier "A" and the new "A" were PUT: FeedAMP must hold two to show it arrived."""
    sent = of_payloads([payload("L1", shipment("A"), shipment("A"))])
    new = of_payloads([payload("L1", shipment("A"))])
    assert not took_effect(of_payloads([payload("L1", shipment("A"))]), sent, new)
    assert took_effect(of_payloads([payload("L1", shipment("A"), shipment("A"))]), sent, new)


def test_an_identical_entry_feedamp_held_before_the_put_is_not_taken_for_ours() -> None:
    """FeedAMP held "BOX" from its UI and we PUT it with our "BOX": one "BOX" is not ours."""
    held = of_payloads([payload("L1", shipment("BOX"))])
    sent = of_payloads([payload("L1", shipment("BOX"), shipment("BOX"))])
    assert not took_effect(held, sent, of_payloads([payload("L1", shipment("BOX"))]))


def test_units_under_one_tracking_number_are_compared_as_sums() -> None:
    """Two one-unit "A" PUT, echoed as one "A" of two units: taken; one unit short: not."""
    sent = of_payloads([payload("L1", shipment("A"), shipment("A"))])
    new = of_payloads([payload("L1", shipment("A"))])
    assert took_effect(of_payloads([payload("L1", shipment("A", 2))]), sent, new)
    assert not took_effect(of_payloads([payload("L1", shipment("A", 1))]), sent, new)


def test_tracking_numbers_match_without_case_or_surrounding_spaces() -> None:
    """FeedAMP echoing "1z-a " as "1Z-A" holds our shipment."""
    new = of_payloads([payload("L1", shipment("1z-a "))])
    assert took_effect(of_payloads([payload("L1", shipment("1Z-A"))]), new, new)


def test_quantities_echoed_as_strings_still_match() -> None:
    """FeedAMP may echo quantities as text."""
    echoed = order(
        {"mp_line_number": "L1", "fulfillments": [shipment("A") | {"quantity_shipped": "1"}]}
    )
    held = held_by(echoed)
    new = of_payloads([payload("L1", shipment("A"))])
    assert held is not None
    assert took_effect(held, new, new)


def test_a_recorded_body_is_read_back_as_its_entries() -> None:
    """The request an attempt recorded gives its entries; anything else gives None."""
    recorded = body(of_payloads([payload("L1", shipment("A"), shipment("B"))]), "INV")
    assert tracking(sent_in(recorded)) == ["A", "B"]
    assert sent_in(None) is None
    assert sent_in({"refund_info": {}}) is None


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
    sent = of_payloads([payload("L1", shipment("FIXED"))])
    withdrawn = withdrawn_by(withdrawing("L1", "TYPO"))
    still = of_payloads([payload("L1", shipment("TYPO"), shipment("FIXED"))])
    assert not took_effect(still, sent, sent, withdrawn)
    assert took_effect(of_payloads([payload("L1", shipment("FIXED"))]), sent, sent, withdrawn)


def test_a_withdrawal_matches_a_tracking_number_feedamp_echoed_in_its_own_case() -> None:
    """Withdrawing "1z-typo" takes out FeedAMP's "1Z-TYPO"."""
    held = of_payloads([payload("L1", shipment("1Z-TYPO"), shipment("A"))])
    kept, unmatched = without(held, withdrawn_by(withdrawing("L1", "1z-typo")))
    assert (tracking(kept), unmatched) == (["A"], [])


def test_a_withdrawal_takes_its_units_out_of_a_summed_entry() -> None:
    """FeedAMP shows "A" of two units; withdrawing one "A" leaves one unit of it."""
    held = of_payloads([payload("L1", shipment("A", 2))])
    kept, _ = without(held, withdrawn_by(withdrawing("L1", "A")))
    assert covered(kept) == {"L1": 1}


def test_ours_echoed_in_feedamps_case_is_not_added_again() -> None:
    """Our "1z-a" that FeedAMP shows as "1Z-A" is FeedAMP's copy of it: sent once."""
    held = of_payloads([payload("L1", shipment("1Z-A"))])
    ours = of_payloads([payload("L1", shipment("1z-a"))])
    assert tracking(union(held, ours)) == ["1Z-A"]


def test_ours_echoed_as_one_summed_entry_is_not_added_again() -> None:
    """Our two one-unit "A" shown by FeedAMP as one "A" of two units: two units, not four."""
    held = of_payloads([payload("L1", shipment("A", 2))])
    ours = of_payloads([payload("L1", shipment("A")), payload("L1", shipment("A"))])
    assert covered(union(held, ours)) == {"L1": 2}


def test_ours_beyond_feedamps_units_is_added_with_the_units_it_lacks() -> None:
    """FeedAMP shows one unit of our two-unit "A": the other unit is added."""
    held = of_payloads([payload("L1", shipment("A"))])
    total = union(held, of_payloads([payload("L1", shipment("A", 2))]))
    shipped = body(total, None)["order_lines"][0]["fulfillments"]
    assert [(s["tracking_number"], s["quantity_shipped"]) for s in shipped] == [("A", 1), ("A", 1)]


def test_feedamps_entries_are_sent_with_the_documented_fields_only() -> None:
    """Fields FeedAMP adds when it echoes an entry (an id, a status, a null URL) are not PUT
    back, and a quantity echoed as text is sent as a number."""
    echoed = shipment("A") | {"id": "f-1", "status": "shipped", "tracking_url": None}
    cancelled = cancellation() | {"created_at": "2026-05-01T10:00:00Z"}
    line = {
        "mp_line_number": "L1",
        "fulfillments": [echoed | {"quantity_shipped": "1"}],
        "cancellations": [cancelled],
    }
    held = held_by(order(line))
    assert held is not None
    [sent] = body(held, None)["order_lines"]
    assert (sent["fulfillments"], sent["cancellations"]) == ([shipment("A")], [cancellation()])
