"""Seller-action handlers: what they send, and how an unknown earlier outcome is reconciled."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import pytest

from feedamp_sync.core.facts import StoredReturnLine
from feedamp_sync.errors import ActionConflict, ApiRejected
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.fulfillment import FULFILLMENT, FulfillmentPlan
from feedamp_sync.outbox.kind import Plan
from feedamp_sync.outbox.refund import REFUND as REFUND_KIND
from feedamp_sync.outbox.refund import RefundPlan, duplicate_means_sent, says_number_taken
from feedamp_sync.outbox.return_authorization import (
    RETURN_AUTHORIZATION,
    Authorization,
    ReturnAuthorizationPlan,
    authorization_read_back,
)
from feedamp_sync.outbox.return_refund import (
    RETURN_REFUND,
    ReturnRefundPlan,
    already_refunded,
    return_refunded,
)

SHIPMENT = {
    "quantity_shipped": 1,
    "shipped_date": "2026-05-01",
    "carrier": "UPS",
    "tracking_number": "A",
}
REFUND = {
    "mp_line_number": "L1",
    "refund_reason": "customer_return",
    "currency": "USD",
    "cp_refund_number": "RF1",
}


class FakeClient:
    """Records calls; answers from ``answers`` (an exception is raised instead)."""

    account_name = "main"

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[tuple[str, Any]] = []

    def _answer(self, name: str, argument: Any) -> Any:
        self.calls.append((name, argument))
        answer = self.answers.get(name, {"id": "1"})
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def get_order(self, order_id: str) -> Any:
        return self._answer("get_order", order_id)

    def fulfill_order(self, order_id: str, body: Any) -> Any:
        return self._answer("fulfill_order", body)

    def create_refund(self, order_id: str, refund_info: Any) -> Any:
        return self._answer("create_refund", refund_info)

    def get_return(self, return_id: str) -> Any:
        return self._answer("get_return", return_id)

    def authorize_return(self, return_id: str, number: str) -> Any:
        return self._answer("authorize_return", number)

    def refund_return(self, return_id: str, body: Any) -> Any:
        return self._answer("refund_return", body)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def message(kind: str, plan: Plan, attempts: int = 1, **flags: bool) -> OutboxMessage:
    return OutboxMessage(5, "main", kind, "10042", {}, attempts, plan=plan, **flags)


def retried_refund(*, unknown: bool = True, own: bool = True) -> OutboxMessage:
    """A refund's second attempt, after one whose outcome was (or was not) unknown."""
    plan = RefundPlan(REFUND)
    return message("refund", plan, 2, earlier_outcome_unknown=unknown, own_number=own)


def client(fake: FakeClient) -> FeedampClient:
    return cast(FeedampClient, fake)


def order_holding(*shipments: dict[str, Any], quantity: int = 5) -> dict[str, Any]:
    line = {"mp_line_number": "L1", "quantity": quantity, "fulfillments": list(shipments)}
    return {"id": "10042", "order_info": {"order_lines": [line | {"cancellations": []}]}}


def shipped(*shipments: dict[str, Any]) -> dict[str, Any]:
    return {"order_lines": [{"mp_line_number": "L1", "fulfillments": list(shipments)}]}


UI_SHIPMENT = {**SHIPMENT, "tracking_number": "ENTERED-IN-FEEDAMP"}
NEW = shipped(SHIPMENT)


def put_shipments(fake: FakeClient) -> list[str]:
    [body] = [argument for name, argument in fake.calls if name == "fulfill_order"]
    return [f["tracking_number"] for line in body["order_lines"] for f in line["fulfillments"]]


def test_a_fulfillment_keeps_what_feedamp_holds_from_elsewhere() -> None:
    """The order is read first: a shipment typed into FeedAMP's UI is PUT back with ours."""
    fake = FakeClient(get_order=order_holding(UI_SHIPMENT))
    done = FULFILLMENT.deliver(client(fake), message("fulfillment", FulfillmentPlan((), NEW)))
    assert fake.names() == ["get_order", "fulfill_order"]
    assert put_shipments(fake) == ["ENTERED-IN-FEEDAMP", "A"]
    assert not done.reconciled


def test_our_earlier_shipments_feedamp_lacks_are_sent_again() -> None:
    """What an earlier message sent and FeedAMP no longer shows is PUT with the new one."""
    fake = FakeClient(get_order=order_holding())
    earlier = shipped({**SHIPMENT, "tracking_number": "EARLIER"})
    plan = FulfillmentPlan((earlier,), NEW)
    FULFILLMENT.deliver(client(fake), message("fulfillment", plan))
    assert put_shipments(fake) == ["EARLIER", "A"]


def test_the_same_shipment_in_two_messages_ships_twice() -> None:
    """Two one-unit shipments under one tracking number (two units in one box) are two."""
    fake = FakeClient(get_order=order_holding(SHIPMENT))
    plan = FulfillmentPlan((NEW,), NEW)
    FULFILLMENT.deliver(client(fake), message("fulfillment", plan))
    assert put_shipments(fake) == ["A", "A"]


def test_a_retried_fulfillment_that_feedamp_holds_is_not_sent_again() -> None:
    """After an unknown outcome, FeedAMP holding what the last attempt PUT means sent."""
    fake = FakeClient(get_order=order_holding(SHIPMENT))
    plan = FulfillmentPlan((), NEW, last_sent=NEW)
    done = FULFILLMENT.deliver(client(fake), message("fulfillment", plan, attempts=2))
    assert fake.names() == ["get_order"]
    assert done.reconciled


def test_a_retry_counts_what_earlier_messages_sent() -> None:
    """FeedAMP holding one "A" after an earlier message sent one "A" has not got ours."""
    fake = FakeClient(get_order=order_holding(SHIPMENT))
    plan = FulfillmentPlan((NEW,), NEW)
    FULFILLMENT.deliver(client(fake), message("fulfillment", plan, attempts=2))
    assert fake.names() == ["get_order", "fulfill_order"]


def test_a_fulfillment_rejection_names_what_feedamp_holds() -> None:
    """FeedAMP's "order is complete" is final on a first attempt, with FeedAMP's set."""
    fake = FakeClient(
        get_order=order_holding(UI_SHIPMENT),
        fulfill_order=ApiRejected("order is complete", status_code=400),
    )
    with pytest.raises(ApiRejected, match="order is complete; FeedAMP holds 1 unit"):
        FULFILLMENT.deliver(client(fake), message("fulfillment", FulfillmentPlan((), NEW)))


class AppliedThenRejected(FakeClient):
    """The first read shows nothing, the PUT is refused, the second read shows ours."""

    def __init__(self) -> None:
        super().__init__(fulfill_order=ApiRejected("order is complete", status_code=400))
        self.reads = [order_holding(), order_holding(SHIPMENT)]

    def get_order(self, order_id: str) -> Any:
        self.calls.append(("get_order", order_id))
        return self.reads.pop(0)


def test_a_rejection_after_an_unknown_outcome_is_checked_against_the_order() -> None:
    """A fulfill that completed the order but timed out is sent, not dead, on its retry."""
    fake = AppliedThenRejected()
    done = FULFILLMENT.deliver(client(fake), message("fulfillment", FulfillmentPlan((), NEW), 2))
    assert done.reconciled


def test_an_order_without_fulfillment_data_falls_back_to_our_own() -> None:
    """A GET order whose lines show no fulfillments: our history and the new entry go."""
    order = {"id": "10042", "order_info": {"order_lines": [{"mp_line_number": "L1"}]}}
    fake = FakeClient(get_order=order)
    earlier = shipped({**SHIPMENT, "tracking_number": "EARLIER"})
    FULFILLMENT.deliver(client(fake), message("fulfillment", FulfillmentPlan((earlier,), NEW)))
    assert put_shipments(fake) == ["EARLIER", "A"]


def test_units_feedamp_holds_count_against_the_line() -> None:
    """Two units entered elsewhere and two of ours on a three-unit line: dead, not sent."""
    two = {**UI_SHIPMENT, "quantity_shipped": 2}
    fake = FakeClient(get_order=order_holding(two, quantity=3))
    plan = FulfillmentPlan((), shipped({**SHIPMENT, "quantity_shipped": 2}))
    with pytest.raises(ActionConflict, match="would have 4 units shipped or cancelled but has 3"):
        FULFILLMENT.deliver(client(fake), message("fulfillment", plan))
    assert fake.names() == ["get_order"]


def test_a_refund_is_posted_in_its_wrapper() -> None:
    """The request recorded is the API body {"refund_info": {...}}."""
    fake = FakeClient()
    done = REFUND_KIND.deliver(client(fake), message("refund", RefundPlan(REFUND)))
    assert fake.calls == [("create_refund", REFUND)]
    assert done.request == {"refund_info": REFUND}


def test_a_duplicate_refusal_after_an_unknown_outcome_counts_as_sent() -> None:
    """Our own number refused as a duplicate on a retry: the earlier attempt applied."""
    fake = FakeClient(create_refund=ApiRejected("duplicate cp_refund_number", status_code=409))
    done = REFUND_KIND.deliver(client(fake), retried_refund())
    assert (done.reconciled, done.status_code) == (True, 409)


def test_a_duplicate_refusal_on_a_first_attempt_is_an_error() -> None:
    """On attempt 1 nobody of ours sent the number before: someone else used it."""
    fake = FakeClient(create_refund=ApiRejected("duplicate cp_refund_number", status_code=409))
    with pytest.raises(ApiRejected, match="another refund holds it"):
        REFUND_KIND.deliver(client(fake), message("refund", RefundPlan(REFUND), own_number=True))


def test_a_duplicate_refusal_after_a_known_refusal_is_an_error() -> None:
    """An operator's retry of a refund that died on a duplicate refusal: the first attempt
    was a refusal, so the number is someone else's and the refund never happened."""
    fake = FakeClient(create_refund=ApiRejected("duplicate cp_refund_number", status_code=409))
    with pytest.raises(ApiRejected, match="no earlier attempt of this message can have used"):
        REFUND_KIND.deliver(client(fake), retried_refund(unknown=False))


def test_a_duplicate_refusal_of_a_number_not_our_own_is_an_error() -> None:
    """A seller's number (or one without {nonce}) may be another refund's: dead, saying to
    check the marketplace, although an earlier attempt's outcome was unknown."""
    fake = FakeClient(create_refund=ApiRejected("duplicate cp_refund_number", status_code=409))
    with pytest.raises(ApiRejected) as refused:
        REFUND_KIND.deliver(client(fake), retried_refund(own=False))
    assert "was given or rendered without {nonce}" in str(refused.value)
    assert "check in the marketplace whether refund RF1 exists" in str(refused.value)


@pytest.mark.parametrize(
    ("status", "text", "taken"),
    [
        (409, "Refund already exists", True),
        (409, "Conflict", False),
        (409, "the order's state does not allow a refund", False),
        (400, "Duplicate cp_refund_number", True),
        (422, "cp_refund_number already exists", True),
        (400, "cp_refund_number has been used before", True),
        (400, "refund number RF1 is taken", True),
        (400, "RF1 must be unique", True),
        (400, "refund_quantity exceeds the quantity already refunded", False),
        (400, "duplicate refund_reason", False),
        (400, "cp_refund_number is required", False),
        (500, "cp_refund_number already exists", False),
    ],
    ids=[
        "409-says-exists",
        "bare-409",
        "409-about-something-else",
        "says-duplicate",
        "says-exists",
        "says-used",
        "quotes-the-number",
        "says-unique",
        "quantity-already-refunded",
        "another-field",
        "no-taken-word",
        "not-a-4xx",
    ],
)
def test_which_refusals_say_the_number_is_taken(status: int, text: str, taken: bool) -> None:
    """A 409 naming the number or saying something is taken, or another 4xx doing both;
    nothing else."""
    rejection = ApiRejected(text, status_code=status)
    assert says_number_taken(rejection, "RF1") is taken


@pytest.mark.parametrize(
    ("unknown", "own", "text", "sent"),
    [
        (True, True, "duplicate cp_refund_number", True),
        (False, True, "duplicate cp_refund_number", False),
        (True, False, "duplicate cp_refund_number", False),
        (True, True, "refund_quantity exceeds the quantity already refunded", False),
    ],
    ids=["all-three", "outcome-known", "not-our-own-number", "not-a-duplicate"],
)
def test_a_duplicate_proves_our_earlier_refund_only_when_all_three_hold(
    unknown: bool, own: bool, text: str, sent: bool
) -> None:
    """An earlier unknown outcome, a refusal saying the number is taken, and a number only
    this message can have used."""
    rejection = ApiRejected(text, status_code=400)
    verdict = duplicate_means_sent(
        rejection, "RF1", earlier_outcome_unknown=unknown, own_number=own
    )
    assert verdict is sent


@pytest.mark.parametrize(
    ("held", "verdict"),
    [
        ("RMA-1", Authorization.OURS),
        (None, Authorization.NONE),
        ("", Authorization.NONE),
        ("X", Authorization.OTHER),
    ],
    ids=["ours", "none", "empty", "other"],
)
def test_what_a_read_back_return_says_about_our_authorization(
    held: Any, verdict: Authorization
) -> None:
    """Our number: applied; no number: not applied; another number: someone else's."""
    returned = {"id": "5001", "return_info": {"merchant_return_number": held}}
    assert authorization_read_back(returned, "RMA-1")[0] is verdict


def test_a_retried_authorization_already_in_feedamp_is_not_sent_again() -> None:
    """Our merchant_return_number on the return: sent, no second PUT."""
    fake = FakeClient(get_return={"id": "5001", "return_info": {"merchant_return_number": "RMA-1"}})
    plan = ReturnAuthorizationPlan("RMA-1")
    done = RETURN_AUTHORIZATION.deliver(client(fake), message("return_authorization", plan, 2))
    assert (fake.names(), done.reconciled) == (["get_return"], True)


def test_a_return_authorized_with_another_number_is_a_conflict() -> None:
    """Authorizing again with our number would be a second, different action: dead instead."""
    fake = FakeClient(get_return={"id": "5001", "return_info": {"merchant_return_number": "X"}})
    plan = ReturnAuthorizationPlan("RMA-1")
    with pytest.raises(ActionConflict, match="already authorized in FeedAMP"):
        RETURN_AUTHORIZATION.deliver(client(fake), message("return_authorization", plan, 2))


def test_a_first_authorization_sends_our_number() -> None:
    """Attempt 1 authorizes with the planned number."""
    fake = FakeClient()
    plan = ReturnAuthorizationPlan("RMA-1")
    RETURN_AUTHORIZATION.deliver(client(fake), message("return_authorization", plan))
    assert fake.calls == [("authorize_return", "RMA-1")]


LINE_1 = StoredReturnLine("111-1", "1")
LINE_2 = StoredReturnLine("111-2", "2")
EVERY_LINE = ReturnRefundPlan((LINE_1, LINE_2), every_line=True)
LINE_2_ALONE = ReturnRefundPlan((LINE_2,))


def returned(state: str, *refunded: str, ids: bool = True) -> dict[str, Any]:
    lines = [
        {
            "mp_return_line_number": line.mp_return_line_number,
            "merchant_refunded": line.key in refunded,
        }
        | ({"feedamp_return_line_id": line.key} if ids else {})
        for line in (LINE_1, LINE_2)
    ]
    return {"id": "5001", "state": state, "return_info": {"return_lines": lines}}


@pytest.mark.parametrize(
    ("shown", "done"),
    [
        (returned("Merchant Refunded"), True),
        (returned("Processing Refund"), True),
        (returned("Pending Refund", "1", "2"), True),
        (returned("Pending Refund", "1"), False),
        (returned("Pending Refund"), False),
        (returned("Pending Refund", "1", "2", ids=False), True),
    ],
    ids=["refunded", "processing", "every-line", "one-line-of-two", "nothing", "lines-without-ids"],
)
def test_what_a_read_back_return_says_about_our_refund(shown: dict[str, Any], done: bool) -> None:
    """A refund state, or every requested line refunded, means our refund applied."""
    assert return_refunded(shown, EVERY_LINE) is done


def test_a_refund_state_says_nothing_of_one_line_among_others() -> None:
    """Processing Refund because line 1 was refunded before: line 2's refund is not shown."""
    assert return_refunded(returned("Processing Refund", "1"), LINE_2_ALONE) is False


def test_a_refund_state_counts_for_every_line_the_return_shows() -> None:
    """Refunding both lines, by name: the state covers them."""
    assert return_refunded(returned("Processing Refund"), ReturnRefundPlan((LINE_1, LINE_2)))


def test_a_line_marked_refunded_counts_for_a_refund_of_that_line() -> None:
    """Line 2 marked refunded: a retried refund of line 2 alone took effect."""
    assert return_refunded(returned("Processing Refund", "1", "2"), LINE_2_ALONE) is True


def test_a_retried_return_refund_already_applied_is_not_sent_again() -> None:
    """After an unknown outcome, a return already refunded is sent without a second PUT."""
    fake = FakeClient(get_return=returned("Merchant Refunded"))
    done = RETURN_REFUND.deliver(client(fake), message("return_refund", EVERY_LINE, 2))
    assert (fake.names(), done.reconciled) == (["get_return"], True)


def test_already_refunded_after_an_unknown_outcome_counts_as_sent() -> None:
    """A 409 "already refunded" on a retry of a one-line refund is the earlier attempt's."""
    fake = FakeClient(
        get_return=returned("Pending Refund"),
        refund_return=ApiRejected("return line already refunded", status_code=409),
    )
    plan = ReturnRefundPlan((LINE_1,))
    retried = message("return_refund", plan, 2, earlier_outcome_unknown=True)
    done = RETURN_REFUND.deliver(client(fake), retried)
    assert done.reconciled


def test_already_refunded_for_one_of_several_lines_is_not_taken_as_ours() -> None:
    """The refusal does not say which line it means: dead, saying what to check."""
    fake = FakeClient(
        get_return=returned("Pending Refund", "1"),
        refund_return=ApiRejected("return line already refunded", status_code=409),
    )
    retried = message("return_refund", EVERY_LINE, 2, earlier_outcome_unknown=True)
    with pytest.raises(ApiRejected, match="does not say which of lines 1, 2 are refunded"):
        RETURN_REFUND.deliver(client(fake), retried)


@pytest.mark.parametrize(
    ("status", "text", "unknown", "lines", "sent"),
    [
        (409, "conflict", True, 1, True),
        (400, "Line already refunded", True, 1, True),
        (400, "return is Pending Shipping", True, 1, False),
        (409, "return line already refunded", False, 1, False),
        (409, "return line already refunded", True, 2, False),
    ],
    ids=["409", "400-says-so", "other-400", "outcome-known", "two-lines"],
)
def test_which_refusals_prove_an_earlier_return_refund_applied(
    status: int, text: str, unknown: bool, lines: int, sent: bool
) -> None:
    """A 409 or a 4xx saying "already refunded", after an unknown outcome, of one line."""
    rejection = ApiRejected(text, status_code=status)
    verdict = already_refunded(rejection, earlier_outcome_unknown=unknown, lines=lines)
    assert verdict is sent


def test_a_return_refund_sends_every_planned_line_in_full() -> None:
    """The body lists the planned lines by their keys, each merchant_full_refund: true."""
    fake = FakeClient()
    plan = ReturnRefundPlan((LINE_1, StoredReturnLine("111-3")))
    RETURN_REFUND.deliver(client(fake), message("return_refund", plan))
    assert fake.calls == [
        (
            "refund_return",
            {
                "merchant_refund_lines": [
                    {"feedamp_return_line_id": "1", "merchant_full_refund": True},
                    {"feedamp_return_line_id": "111-3", "merchant_full_refund": True},
                ]
            },
        )
    ]


def test_a_duplicate_refusal_in_other_words_after_an_unknown_outcome_is_sent() -> None:
    """A 400 saying the number "has been used before" is the earlier attempt's success."""
    refused = ApiRejected("cp_refund_number has been used before", status_code=400)
    fake = FakeClient(create_refund=refused)
    done = REFUND_KIND.deliver(client(fake), retried_refund())
    assert done.reconciled


def test_another_refusal_after_an_unknown_outcome_says_the_refund_may_exist() -> None:
    """Not a duplicate, but the first attempt may have worked: dead, telling what to check."""
    fake = FakeClient(create_refund=ApiRejected("refund exceeds the line", status_code=400))
    with pytest.raises(ApiRejected, match="check in the marketplace whether refund RF1 exists"):
        REFUND_KIND.deliver(client(fake), retried_refund())


def test_a_plain_refusal_after_known_outcomes_is_passed_on_as_it_is() -> None:
    """Nothing can exist: FeedAMP's reason alone."""
    refused = ApiRejected("refund exceeds the line", status_code=400)
    fake = FakeClient(create_refund=refused)
    with pytest.raises(ApiRejected) as raised:
        REFUND_KIND.deliver(client(fake), retried_refund(unknown=False))
    assert raised.value is refused


def cancelled_on_the_marketplace() -> dict[str, Any]:
    return order_holding() | {"state": "PLACED", "marketplace_state": "CANCELLED"}


def test_a_fulfillment_for_an_order_cancelled_on_the_marketplace_is_not_sent() -> None:
    """FeedAMP's fresh copy shows the order cancelled: dead with that reason, no PUT."""
    fake = FakeClient(get_order=cancelled_on_the_marketplace())
    with pytest.raises(ActionConflict, match="cancelled on the marketplace"):
        FULFILLMENT.deliver(client(fake), message("fulfillment", FulfillmentPlan((), NEW)))
    assert fake.names() == ["get_order"]


def test_an_operator_retry_sends_a_fulfillment_for_a_cancelled_order() -> None:
    """Once an operator has put the message back in the queue, it is sent as asked."""
    fake = FakeClient(get_order=cancelled_on_the_marketplace())
    retried = dataclasses.replace(
        message("fulfillment", FulfillmentPlan((), NEW), 2), attempts_budget_start=1
    )
    FULFILLMENT.deliver(client(fake), retried)
    assert put_shipments(fake) == ["A"]
