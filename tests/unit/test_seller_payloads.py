"""The shape checks of seller payloads: strict types, exact enums, every problem by its path."""

from __future__ import annotations

from typing import Any

import pytest

from feedamp_sync.errors import InvalidPayload
from feedamp_sync.model import Undecodable
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.payloads import Checked, check_payload


def shipment(**fields: Any) -> dict[str, Any]:
    return {
        "quantity_shipped": 1,
        "shipped_date": "2026-05-01T10:00:00Z",
        "carrier": "UPS",
        "tracking_number": "1Z",
        **fields,
    }


def fulfillment(**fields: Any) -> dict[str, Any]:
    return {"order_lines": [{"mp_line_number": "L1", "fulfillments": [shipment(**fields)]}]}


def refund(**fields: Any) -> dict[str, Any]:
    return {"mp_line_number": "L1", "refund_reason": "customer_return", "currency": "USD", **fields}


def problems(kind: str, payload: Any) -> list[str]:
    with pytest.raises(InvalidPayload) as refused:
        check_payload(KINDS.seller_kind(kind), payload)
    return refused.value.problems


def test_a_valid_fulfillment_is_accepted_with_both_lists_present() -> None:
    """Absent cancellations become an empty list, so every line has the same shape."""
    checked = check_payload(KINDS["fulfillment"], fulfillment())
    assert checked == Checked(
        "fulfillment",
        {
            "order_lines": [
                {"mp_line_number": "L1", "fulfillments": [shipment()], "cancellations": []}
            ]
        },
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (-1, "-1"), (1.5, "1.5"), ("2", '"2"'), (True, "true"), (None, None)],
    ids=["zero", "negative", "fraction", "text", "true", "null"],
)
def test_a_quantity_must_be_a_positive_integer(value: Any, shown: str | None) -> None:
    """Zero, negatives, fractions, strings and booleans are refused, showing what was given."""
    path = "order_lines[0].fulfillments[0].quantity_shipped"
    expected = (
        f"{path}: required" if shown is None else f"{path}: must be a positive integer, got {shown}"
    )
    assert problems("fulfillment", fulfillment(quantity_shipped=value)) == [expected]


def test_an_unknown_field_is_refused_with_the_closest_known_name() -> None:
    """A misspelt optional field is an error that suggests the field meant."""
    assert problems("fulfillment", fulfillment(tracking_ulr="https://x")) == [
        'order_lines[0].fulfillments[0].tracking_ulr: unknown field (did you mean "tracking_url"?)'
    ]


def test_an_unknown_field_unlike_any_lists_the_allowed_ones() -> None:
    """Without a close match, the message lists the fields the object may have."""
    assert problems("return_authorization", {"zzz": 1}) == [
        "zzz: unknown field; allowed: merchant_return_number"
    ]


def test_every_problem_is_reported_at_once() -> None:
    """Three mistakes in one payload give three problems, in the payload's order."""
    payload = refund(refund_reason="nope", currency="usd", item_refund=-1)
    assert [p.split(":")[0] for p in problems("refund", payload)] == [
        "refund_reason",
        "currency",
        "item_refund",
    ]


def test_a_date_time_without_offset_is_taken_as_utc_with_a_warning() -> None:
    """A naive date-time is sent with +00:00 and the seller is told."""
    checked = check_payload(KINDS["fulfillment"], fulfillment(shipped_date="2026-05-01T10:00:00"))
    sent = checked.payload["order_lines"][0]["fulfillments"][0]["shipped_date"]
    assert sent == "2026-05-01T10:00:00+00:00"
    assert checked.warnings == (
        'order_lines[0].fulfillments[0].shipped_date: "2026-05-01T10:00:00" has no UTC offset; '
        "taken as UTC",
    )


@pytest.mark.parametrize(
    "value", ["2026-05-01", "2026-05-01T10:00Z", "2026-05-01T10:00:00.123+02:00"]
)
def test_a_date_or_a_date_time_with_offset_is_kept_as_given(value: str) -> None:
    """Dates and offset date-times are valid ISO 8601 and are sent unchanged, without warning."""
    checked = check_payload(KINDS["fulfillment"], fulfillment(shipped_date=value))
    assert checked.payload["order_lines"][0]["fulfillments"][0]["shipped_date"] == value
    assert checked.warnings == ()


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-02-30", "2026-05-01 10:00", "01/05/2026", "2026-W18-5", 20260501]
)
def test_a_shipped_date_that_is_not_iso_8601_is_refused(value: Any) -> None:
    """Words, impossible dates, a space separator, local formats and numbers are refused."""
    [problem] = problems("fulfillment", fulfillment(shipped_date=value))
    assert problem.startswith("order_lines[0].fulfillments[0].shipped_date: must be an ISO 8601")


def test_a_cancellation_reason_must_be_one_of_the_api_enum() -> None:
    """Cancellation reasons are FeedAMP's exact strings."""
    payload = {
        "order_lines": [
            {
                "mp_line_number": "L1",
                "cancellations": [{"quantity_cancelled": 1, "cancellation_reason": "Out of stock"}],
            }
        ]
    }
    [problem] = problems("fulfillment", payload)
    assert problem.startswith("order_lines[0].cancellations[0].cancellation_reason: must be one of")
    assert problem.endswith('got "Out of stock"')


def test_a_line_with_no_entries_is_refused() -> None:
    """A line that ships and cancels nothing would change nothing: it is a mistake."""
    payload: dict[str, Any] = {
        "order_lines": [{"mp_line_number": "L1", "fulfillments": [], "cancellations": None}]
    }
    assert problems("fulfillment", payload) == [
        "order_lines[0]: needs at least one fulfillment, cancellation or withdrawal"
    ]


def test_a_line_named_twice_is_refused() -> None:
    """All of a line's entries belong in one element, so a repeated line number is refused."""
    line = fulfillment()["order_lines"][0]
    [problem] = problems("fulfillment", {"order_lines": [line, line]})
    assert problem.startswith(
        'order_lines[1].mp_line_number: "L1" is named twice (also order_lines[0])'
    )


def test_the_same_shipment_twice_in_one_message_is_refused() -> None:
    """Two identical shipments in one line are a copy-paste mistake, not two parcels."""
    payload = {"order_lines": [{"mp_line_number": "L1", "fulfillments": [shipment(), shipment()]}]}
    assert problems("fulfillment", payload) == [
        "order_lines[0].fulfillments[1]: is identical to fulfillments[0]"
    ]


def test_the_refund_wrapper_is_accepted_and_unwrapped() -> None:
    """{"refund_info": {...}} is the API's body; it is stored as its inner fields."""
    checked = check_payload(KINDS["refund"], {"refund_info": refund(item_refund=2)})
    assert checked.payload == refund(item_refund=2)


def test_problems_inside_the_refund_wrapper_carry_its_path() -> None:
    """A field inside refund_info is named with its full path."""
    assert problems("refund", {"refund_info": refund(refund_quantity=0)}) == [
        "refund_info.refund_quantity: must be a positive integer, got 0"
    ]


def test_a_refund_reason_must_be_one_of_the_api_enum() -> None:
    """Refund reasons are FeedAMP's exact strings."""
    [problem] = problems("refund", refund(refund_reason="refunded"))
    assert problem.startswith("refund_reason: must be one of abandoned, accidental_order,")


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "XCG", "ZWG"])
def test_an_active_currency_is_accepted(code: str) -> None:
    """Active ISO 4217 codes, including the 2024-2025 additions, pass."""
    assert check_payload(KINDS["refund"], refund(currency=code)).payload["currency"] == code


@pytest.mark.parametrize("code", ["HRK", "ZWL", "ANG", "XXX", "XYZ", "US", "usd ", 840])
def test_a_withdrawn_made_up_or_malformed_currency_is_refused(code: Any) -> None:
    """Withdrawn codes, 'no currency', unknown and malformed codes are refused."""
    [problem] = problems("refund", refund(currency=code))
    assert problem.startswith("currency: must be an active ISO 4217 currency code")


def test_a_lower_case_currency_suggests_the_code() -> None:
    """usd is refused with a hint, not silently upper-cased."""
    assert problems("refund", refund(currency="usd")) == [
        'currency: must be an active ISO 4217 currency code such as USD, got "usd" '
        '(did you mean "USD"?)'
    ]


@pytest.mark.parametrize("value", [-0.01, "1.50", True, float("inf")])
def test_an_amount_must_be_a_non_negative_number(value: Any) -> None:
    """Negative, textual, boolean and infinite amounts are refused."""
    [problem] = problems("refund", refund(item_refund=value))
    assert problem.startswith("item_refund: must be a non-negative number")


def test_a_zero_amount_is_accepted() -> None:
    """Refunding nothing of one component (e.g. shipping) is allowed."""
    assert check_payload(KINDS["refund"], refund(shipping_refund=0)).payload["shipping_refund"] == 0


def test_the_reason_other_without_notes_is_accepted_with_a_warning() -> None:
    """FeedAMP advises against 'other' and asks for notes; the seller is warned, not refused."""
    checked = check_payload(KINDS["refund"], refund(refund_reason="other"))
    [warning] = checked.warnings
    assert warning.startswith("refund_reason: 'other' is refused by some marketplaces")


def test_required_refund_fields_are_named() -> None:
    """A refund without a line, a reason and a currency lists all three as required."""
    assert problems("refund", {}) == [
        "mp_line_number: required",
        "refund_reason: required",
        "currency: required",
    ]


def test_an_empty_return_authorization_is_valid() -> None:
    """The merchant_return_number is optional (the template makes one)."""
    assert check_payload(KINDS["return_authorization"], {}).payload == {}


def test_an_empty_return_refund_means_every_line() -> None:
    """No lines, or an empty list, is stored as no lines: every line of the return, in full."""
    assert check_payload(KINDS["return_refund"], {"merchant_refund_lines": []}).payload == {}


def test_a_return_refund_line_must_be_a_full_refund() -> None:
    """Only merchant_full_refund: true exists in v1."""
    payload = {
        "merchant_refund_lines": [{"feedamp_return_line_id": "9", "merchant_full_refund": False}]
    }
    assert problems("return_refund", payload) == [
        "merchant_refund_lines[0].merchant_full_refund: must be true (only full refunds exist), "
        "got false"
    ]


def test_a_return_refund_line_is_named_by_its_id_or_its_marketplace_number() -> None:
    """Either name is kept as given; preparation maps it to what the refund sends."""
    payload = {
        "merchant_refund_lines": [
            {"mp_return_line_number": "123-456", "merchant_full_refund": True}
        ]
    }
    assert check_payload(KINDS["return_refund"], payload).payload == payload


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ({}, "name the line by feedamp_return_line_id or mp_return_line_number"),
        (
            {"feedamp_return_line_id": "9", "mp_return_line_number": "123-456"},
            "give feedamp_return_line_id or mp_return_line_number, not both",
        ),
    ],
    ids=["neither", "both"],
)
def test_a_return_refund_line_has_exactly_one_name(line: dict[str, Any], problem: str) -> None:
    """A line named twice over could name two lines."""
    payload = {"merchant_refund_lines": [line | {"merchant_full_refund": True}]}
    assert problems("return_refund", payload) == [f"merchant_refund_lines[0]: {problem}"]


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    """A JSON array, string or null is not a payload."""
    assert problems("refund", "refund") == ['payload: must be a JSON object, got "refund"']


def test_an_unknown_kind_is_refused() -> None:
    """Only the four seller kinds can be checked (confirm is the daemon's own)."""
    assert problems("confirm", {}) == [
        "kind: must be one of fulfillment, refund, return_authorization, return_refund, "
        'got "confirm"'
    ]


def test_an_over_long_number_is_refused() -> None:
    """Numbers fit the 128-character columns they are indexed in."""
    assert problems("refund", refund(cp_refund_number="R" * 129)) == [
        "cp_refund_number: must be at most 128 characters, got 129"
    ]


def test_text_no_database_can_store_is_refused_naming_the_field() -> None:
    """A NUL in a tracking number is refused before it reaches a table or FeedAMP."""
    payload = fulfillment(tracking_number="1Z\x00X")
    [problem] = problems("fulfillment", payload)
    assert problem.startswith("order_lines[0].fulfillments[0].tracking_number: contains a NUL")


@pytest.mark.parametrize("value", [1_000_000.01, 1e308, 1e-7, 0.12345])
def test_an_absurd_amount_is_refused(value: float) -> None:
    """Amounts are at most 1,000,000 with at most four decimal places."""
    [problem] = problems("refund", refund(item_refund=value))
    assert problem.startswith("item_refund: must be at most 1,000,000 with at most 4 decimal")


def test_a_quantity_has_an_upper_bound() -> None:
    """No shipment ships more than a million units."""
    [problem] = problems("fulfillment", fulfillment(quantity_shipped=3_000_000_000))
    assert problem.endswith("must be at most 1,000,000, got 3000000000")


@pytest.mark.parametrize("value", ["9999-12-31", "1999-12-31T10:00:00Z"])
def test_a_shipped_date_from_an_implausible_year_is_refused(value: str) -> None:
    """A typo in the year would be shown to the buyer."""
    [problem] = problems("fulfillment", fulfillment(shipped_date=value))
    assert "must be a date from 2000 to" in problem


@pytest.mark.parametrize("value", ["javascript:alert(1)", "ftp://x.example/t", "https://", "1Z"])
def test_a_tracking_url_must_be_http_or_https(value: str) -> None:
    """The marketplace shows the URL to the buyer as a link: only web addresses go."""
    [problem] = problems("fulfillment", fulfillment(tracking_url=value))
    assert "tracking_url: must be an http:// or https:// URL" in problem


def test_a_web_tracking_url_is_kept() -> None:
    """An ordinary carrier URL passes unchanged."""
    url = "https://www.ups.com/track?tracknum=1Z999"
    checked = check_payload(KINDS["fulfillment"], fulfillment(tracking_url=url))
    assert checked.payload["order_lines"][0]["fulfillments"][0]["tracking_url"] == url


def test_a_line_may_only_withdraw_an_earlier_shipment() -> None:
    """A correction's withdrawal alone is a valid line, kept as given."""
    withdrawal = {"tracking_number": "1Z-TYPO", "quantity_shipped": 1}
    payload = {"order_lines": [{"mp_line_number": "L1", "withdrawn": [withdrawal]}]}
    line = check_payload(KINDS["fulfillment"], payload).payload["order_lines"][0]
    assert line["withdrawn"] == [withdrawal]


def test_a_withdrawal_names_its_shipment_by_tracking_number_and_quantity() -> None:
    """Both are required; nothing else is allowed."""
    payload = {"order_lines": [{"mp_line_number": "L1", "withdrawn": [{"tracking_nr": "X"}]}]}
    assert problems("fulfillment", payload) == [
        'order_lines[0].withdrawn[0].tracking_nr: unknown field (did you mean "tracking_number"?)',
        "order_lines[0].withdrawn[0].tracking_number: required",
        "order_lines[0].withdrawn[0].quantity_shipped: required",
    ]


def test_a_tracking_number_is_kept_without_its_surrounding_spaces() -> None:
    """A tracking number read from a space-padded CHAR column is stored and sent trimmed, in
    a shipment and in a withdrawal alike."""
    line = fulfillment(tracking_number="  1Z-PAD   ")["order_lines"][0]
    line["withdrawn"] = [{"tracking_number": "1Z-TYPO ", "quantity_shipped": 1}]
    stored = check_payload(KINDS["fulfillment"], {"order_lines": [line]}).payload
    [shipped] = stored["order_lines"][0]["fulfillments"]
    [withdrawn] = stored["order_lines"][0]["withdrawn"]
    assert (shipped["tracking_number"], withdrawn["tracking_number"]) == ("1Z-PAD", "1Z-TYPO")


def test_a_tracking_number_of_spaces_only_is_refused() -> None:
    """Trimmed, nothing is left: refused as blank."""
    [problem] = problems("fulfillment", fulfillment(tracking_number="   "))
    assert problem == (
        'order_lines[0].fulfillments[0].tracking_number: must be a non-empty string, got "   "'
    )


def test_a_payload_no_one_can_read_is_refused_by_what_is_wrong_without_its_text() -> None:
    """The reason is logged with the message: it says what is wrong, not what the seller wrote."""
    unreadable = Undecodable("{'customer': 'Ann Smith'}", "not valid JSON (Expecting ...)")
    assert problems("refund", unreadable) == ["payload: not valid JSON (Expecting ...)"]


def test_a_row_whose_target_cannot_be_read_is_refused_naming_the_column() -> None:
    """An identifying column the database gave back as bytes that are not UTF-8 is named."""
    unreadable = Undecodable("", "is not UTF-8", where="target_id")
    assert problems("refund", unreadable) == ["target_id: is not UTF-8"]
