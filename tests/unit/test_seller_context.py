"""Seller actions checked against the stored order or return, and the plans built from them."""

from __future__ import annotations

from typing import Any

import pytest

from feedamp_sync.core.facts import (
    EarlierMessage,
    Facts,
    OrderFacts,
    ReturnFacts,
    StoredLine,
    StoredReturnLine,
)
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.context import check_context, require_context
from feedamp_sync.outbox.fulfillment import FulfillmentPlan
from feedamp_sync.outbox.fulfillment_set import body
from feedamp_sync.outbox.kind import Plan
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.outbox.return_refund import ReturnRefundPlan

ORDER = OrderFacts("10042", {"L1": StoredLine(3, "SKU-1"), "L2": StoredLine(1, None)})
LINE_1 = StoredReturnLine("111-1", "900001")
LINE_2 = StoredReturnLine("111-2", "900002")
RETURN = ReturnFacts("5001", "123RT", (LINE_1, LINE_2))
NO_IDS = ReturnFacts("5001", None, (StoredReturnLine("111-1"), StoredReturnLine("111-2")))


def refund_lines(*lines: dict[str, str]) -> dict[str, Any]:
    return {"merchant_refund_lines": [line | {"merchant_full_refund": True} for line in lines]}


def ship(quantity: int, tracking: str = "1Z", line: str = "L1", **extra: Any) -> dict[str, Any]:
    entry = {
        "quantity_shipped": quantity,
        "shipped_date": "2026-05-01",
        "carrier": "UPS",
        "tracking_number": tracking,
    }
    return {"order_lines": [{"mp_line_number": line, "fulfillments": [entry], **extra}]}


def with_earlier(*earlier: tuple[str, Any]) -> OrderFacts:
    return OrderFacts(
        ORDER.order_id,
        ORDER.lines,
        tuple(EarlierMessage(i, status, p) for i, (status, p) in enumerate(earlier, start=7)),
    )


def problems(kind: str, payload: Any, facts: Facts) -> list[str]:
    declared = KINDS[kind]
    return check_context(
        declared, check_payload(declared, payload), facts, account="main", target_id="10042"
    )


def plan_of(kind: str, payload: Any, facts: Facts) -> Plan:
    planner = KINDS[kind].plan
    assert planner is not None
    return planner(payload, facts)


def test_an_order_that_is_not_stored_is_refused() -> None:
    """An action on an order the daemon has not stored for that account is refused."""
    [problem] = problems("fulfillment", ship(1), None)
    assert problem.startswith('target_id: no order "10042" is stored for account "main"')


def test_a_return_action_needs_a_stored_return() -> None:
    """An order is not a return: return kinds need return facts."""
    [problem] = problems("return_authorization", {}, ORDER)
    assert problem.startswith('target_id: no return "10042" is stored')


def test_an_unknown_line_is_refused_naming_the_order_lines() -> None:
    """A fulfillment for a line the order does not have lists the lines it has."""
    assert problems("fulfillment", ship(1, line="L9"), ORDER) == [
        'order_lines[0].mp_line_number: "L9" is not a line of order 10042 (its lines: L1, L2)'
    ]


def test_a_sku_that_is_not_the_lines_is_refused() -> None:
    """An sku given with a line must be that line's SKU."""
    assert problems("fulfillment", ship(1, sku="SKU-2"), ORDER) == [
        'order_lines[0].sku: "SKU-2" is not the SKU of line "L1" ("SKU-1")'
    ]


def test_shipping_the_whole_line_is_accepted() -> None:
    """Exactly the ordered quantity fits."""
    assert problems("fulfillment", ship(3), ORDER) == []


def test_shipping_more_than_ordered_is_refused() -> None:
    """Four units of a three-unit line are refused with what is left."""
    assert problems("fulfillment", ship(4), ORDER) == [
        'order_lines[0]: ships 4 and cancels 0 of line "L1", but only 3 of its 3 units are left'
    ]


def test_units_covered_by_earlier_messages_are_not_left() -> None:
    """Sent and queued fulfillments count: 2 already covered leaves 1 of 3."""
    facts = with_earlier(("sent", ship(1, "A")), ("pending", ship(1, "B")))
    assert problems("fulfillment", ship(2, "C"), facts) == [
        'order_lines[0]: ships 2 and cancels 0 of line "L1", but only 1 of its 3 units are left '
        "(2 covered by outbox messages 7, 8)"
    ]


def test_the_same_shipment_in_a_second_message_counts_again() -> None:
    """Each message's shipments count once per message: a second message with the same
    three units needs three more units of room."""
    facts = with_earlier(("sent", ship(3, "A")))
    [problem] = problems("fulfillment", ship(3, "A"), facts)
    assert "but only 0 of its 3 units are left" in problem


def test_a_malformed_earlier_message_covers_nothing() -> None:
    """An inserted row that will go dead does not use up the line."""
    facts = with_earlier(("pending", {"order_lines": "garbage"}))
    assert problems("fulfillment", ship(3), facts) == []


def test_a_line_of_unknown_quantity_is_not_limited() -> None:
    """When FeedAMP sent no quantity, only FeedAMP can judge."""
    facts = OrderFacts("10042", {"L1": StoredLine(None, None)})
    assert problems("fulfillment", ship(99), facts) == []


def test_a_refund_of_an_unknown_line_is_refused() -> None:
    """A refund names one line of the order."""
    payload = {"mp_line_number": "L9", "refund_reason": "customer_return", "currency": "USD"}
    [problem] = problems("refund", payload, ORDER)
    assert problem.startswith('mp_line_number: "L9" is not a line of order 10042')


def test_a_refund_quantity_above_the_line_quantity_is_refused() -> None:
    """A line of 1 cannot have 2 units refunded."""
    payload = {
        "mp_line_number": "L2",
        "refund_reason": "customer_return",
        "currency": "USD",
        "refund_quantity": 2,
    }
    assert problems("refund", payload, ORDER) == [
        'refund_quantity: 2 is more than line "L2" has (1 ordered)'
    ]


def test_a_return_line_that_is_not_on_the_return_is_refused() -> None:
    """Return refund lines are the return's own feedamp_return_line_id values."""
    payload = {
        "merchant_refund_lines": [{"feedamp_return_line_id": "1", "merchant_full_refund": True}]
    }
    assert problems("return_refund", payload, RETURN) == [
        'merchant_refund_lines[0].feedamp_return_line_id: "1" is not a line of return 5001 '
        "(its lines: 900001, 900002)"
    ]


def test_a_return_with_no_stored_line_cannot_be_refunded_whole() -> None:
    """No line stored: the refusal says so and how to read the return again."""
    [problem] = problems("return_refund", {}, ReturnFacts("5001", None, ()))
    assert problem.startswith("merchant_refund_lines: none given, and stored return 5001 has no")
    assert "feedamp-sync returns fetch 5001" in problem


def test_a_line_may_be_named_by_its_marketplace_number() -> None:
    """mp_return_line_number names a line whether or not FeedAMP shows its id."""
    payload = refund_lines({"mp_return_line_number": "111-2"})
    assert problems("return_refund", payload, RETURN) == []
    assert problems("return_refund", payload, NO_IDS) == []


def test_a_marketplace_number_not_on_the_return_is_refused() -> None:
    """The refusal lists the lines' numbers."""
    payload = refund_lines({"mp_return_line_number": "999"})
    assert problems("return_refund", payload, NO_IDS) == [
        'merchant_refund_lines[0].mp_return_line_number: "999" is not a line of return 5001 '
        "(its lines: 111-1, 111-2)"
    ]


def test_an_id_for_a_return_whose_lines_carry_none_is_refused_naming_the_key_to_use() -> None:
    """Nothing to check an id against: name the line by its mp_return_line_number instead."""
    payload = refund_lines({"feedamp_return_line_id": "77"})
    [problem] = problems("return_refund", payload, NO_IDS)
    assert problem == (
        'merchant_refund_lines[0].feedamp_return_line_id: "77" is not a line of return 5001: '
        "its lines carry no feedamp_return_line_id (nor id), so name the line by its "
        "mp_return_line_number (its lines: 111-1, 111-2)"
    )


def test_the_key_sent_for_a_line_without_an_id_is_accepted_as_its_id() -> None:
    """The mp_return_line_number in feedamp_return_line_id is what the refund sends anyway."""
    payload = refund_lines({"feedamp_return_line_id": "111-2"})
    assert problems("return_refund", payload, NO_IDS) == []


def test_one_line_named_twice_by_its_two_names_is_refused() -> None:
    """Its id and its marketplace number are one line: refunded once."""
    payload = refund_lines({"feedamp_return_line_id": "900001"}, {"mp_return_line_number": "111-1"})
    assert problems("return_refund", payload, RETURN) == [
        "merchant_refund_lines[1].mp_return_line_number: names the same line as "
        "merchant_refund_lines[0]"
    ]


def test_require_context_raises_with_every_problem() -> None:
    """require_context refuses with the same problems check_context lists."""
    checked = check_payload(KINDS["fulfillment"], ship(9, line="L9"))
    with pytest.raises(InvalidPayload) as refused:
        require_context(KINDS["fulfillment"], checked, ORDER, account="main", target_id="10042")
    assert len(refused.value.problems) == 1


def test_a_fulfillment_plan_holds_what_was_sent_and_the_new_entries() -> None:
    """Only sent earlier messages are history: a queued one is not in FeedAMP yet."""
    facts = with_earlier(("sent", ship(1, "A")), ("pending", ship(1, "B")))
    plan = plan_of("fulfillment", check_payload(KINDS["fulfillment"], ship(1, "C")).payload, facts)
    assert isinstance(plan, FulfillmentPlan)
    shipped = body(plan.own, None)["order_lines"][0]["fulfillments"]
    assert [entry["tracking_number"] for entry in shipped] == ["A", "C"]


def test_a_return_refund_without_lines_refunds_every_stored_line() -> None:
    """An empty return refund becomes every line of the stored return, in full."""
    plan = plan_of("return_refund", {}, RETURN)
    assert plan == ReturnRefundPlan((LINE_1, LINE_2), every_line=True)
    assert isinstance(plan, ReturnRefundPlan)
    assert plan.body == {
        "merchant_refund_lines": [
            {"feedamp_return_line_id": "900001", "merchant_full_refund": True},
            {"feedamp_return_line_id": "900002", "merchant_full_refund": True},
        ]
    }


def test_a_return_refund_of_named_lines_refunds_only_those() -> None:
    """Named lines are refunded, in the order given."""
    payload = refund_lines({"feedamp_return_line_id": "900002"})
    assert plan_of("return_refund", payload, RETURN) == ReturnRefundPlan((LINE_2,))


def test_a_line_named_by_its_marketplace_number_is_sent_by_its_id() -> None:
    """FeedAMP's id, when the stored line has one, is what the refund sends."""
    plan = plan_of("return_refund", refund_lines({"mp_return_line_number": "111-1"}), RETURN)
    assert isinstance(plan, ReturnRefundPlan)
    assert plan.body["merchant_refund_lines"][0]["feedamp_return_line_id"] == "900001"


def test_lines_without_ids_are_sent_by_their_marketplace_numbers() -> None:
    """Every line of a return whose lines show no id: each by its mp_return_line_number."""
    plan = plan_of("return_refund", {}, NO_IDS)
    assert isinstance(plan, ReturnRefundPlan)
    assert [line["feedamp_return_line_id"] for line in plan.body["merchant_refund_lines"]] == [
        "111-1",
        "111-2",
    ]


def test_naming_every_line_is_a_refund_of_the_whole_return() -> None:
    """The plan knows when its lines are all the return's, whichever way they were named."""
    payload = refund_lines({"mp_return_line_number": "111-2"}, {"feedamp_return_line_id": "900001"})
    plan = plan_of("return_refund", payload, RETURN)
    assert isinstance(plan, ReturnRefundPlan)
    assert plan.every_line
