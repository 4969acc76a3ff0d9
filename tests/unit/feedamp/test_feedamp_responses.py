"""Tolerant body parsing: every documented shape accepted, unusable ones named precisely."""

from __future__ import annotations

import json
from typing import Any

import pytest

from feedamp_sync.errors import ApiResponseInvalid
from feedamp_sync.feedamp import responses
from feedamp_sync.feedamp.nesting import Unreadable

ORDER = {"id": "123", "state": "ORDERED", "order_info": {"mp_order_number": "111-9"}}


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def nested(levels: int) -> str:
    """JSON lists nested ``levels`` deep: past a thousand, more than ``json.loads`` can read."""
    return "[" * levels + "]" * levels


DEEP_ORDER = '{"id": "124", "gift": ' + nested(5000) + "}"


def test_page_returns_items_and_next_cursor() -> None:
    """A list page gives its orders and the cursor of the next page."""
    items, cursor = responses.page(
        "new_orders", raw({"orders": [ORDER], "next_cursor": "c2"}), "orders"
    )
    assert (items, cursor) == ([ORDER], "c2")


@pytest.mark.parametrize(
    "body",
    [
        {"orders": [ORDER], "next_cursor": None},
        {"orders": [ORDER]},
        {"orders": [ORDER], "next_cursor": ""},
        {"orders": [], "next_cursor": "c2"},
    ],
    ids=["null", "absent", "empty", "empty-page"],
)
def test_page_end_is_recognised_in_every_form(body: dict[str, Any]) -> None:
    """A null, absent or empty next_cursor, or an empty page, ends the list."""
    assert responses.page("new_orders", raw(body), "orders")[1] is None


def test_unknown_fields_are_kept_untouched() -> None:
    """Fields the docs don't list survive parsing, nested or not."""
    order = {**ORDER, "brand_new": {"x": [1, 2]}, "order_info": {"surprise": True}}
    items, _ = responses.page("new_orders", raw({"orders": [order], "extra": 1}), "orders")
    assert items == [order]


def test_items_are_handed_on_unchecked_for_the_caller_to_set_aside() -> None:
    """An item without a usable id does not fail its page: the poller quarantines it."""
    items, _ = responses.page("new_orders", raw({"orders": ["x", {"id": ""}, ORDER]}), "orders")
    assert items == ["x", {"id": ""}, ORDER]


def test_integer_cursor_is_normalised_to_a_string() -> None:
    """A numeric next_cursor (an offset, perhaps) is followed as a string."""
    assert (
        responses.page("new_orders", raw({"orders": [ORDER], "next_cursor": 200}), "orders")[1]
        == "200"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<html>busy</html>", "new_orders: the body is not JSON"),
        (b'{"orders": [{"id": "1", "total": NaN}]}', "new_orders: the body is not JSON"),
        (raw([ORDER]), "new_orders: expected an object with 'orders'"),
        (raw({"orders": {"id": "1"}}), "new_orders: 'orders' is a dict, not a list"),
        (raw({"orders": [ORDER], "next_cursor": ["a"]}), "next_cursor is a list"),
    ],
    ids=[
        "not-json",
        "nan",
        "no-key",
        "not-list",
        "bad-cursor",
    ],
)
def test_unusable_list_bodies_are_refused_with_the_problem(content: bytes, problem: str) -> None:
    """A list body that is not the documented shape raises ApiResponseInvalid naming the fault."""
    with pytest.raises(ApiResponseInvalid, match=problem):
        responses.page("new_orders", content, "orders")


@pytest.mark.parametrize("body", [{"order": [ORDER]}, {"order": ORDER}], ids=["array", "object"])
def test_get_order_accepts_an_array_or_an_object(body: dict[str, Any]) -> None:
    """GET order's ``order`` may be the documented one-element array or a plain object."""
    assert responses.wrapped_record("get_order", raw(body), "order") == ORDER


def test_get_order_with_several_orders_is_refused() -> None:
    """An ``order`` array with two orders is ambiguous, so it is refused."""
    with pytest.raises(ApiResponseInvalid, match="expected one order in the array, got 2"):
        responses.wrapped_record("get_order", raw({"order": [ORDER, ORDER]}), "order")


def test_single_return_is_read_from_its_wrapper() -> None:
    """GET return, authorize and return refund answer ``{"return": {...}}``."""
    ret = {"id": 9, "state": "Pending Refund"}
    assert responses.wrapped_record("get_return", raw({"return": ret}), "return") == {
        "id": "9",
        "state": "Pending Refund",
    }


@pytest.mark.parametrize(
    "body",
    [{"order": {"id": "123", "state": "PLACED"}}, [{"id": "123", "state": "PLACED"}]],
    ids=["object", "bare-array"],
)
def test_confirm_response_may_be_wrapped_or_a_bare_array(body: Any) -> None:
    """The confirmed order is found in ``{"order": ...}`` or in a bare array."""
    assert responses.confirmed_order(raw(body)) == {"id": "123", "state": "PLACED"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"order": {"id": "1"}}, {"id": "1"}), ([{"id": "1"}], [{"id": "1"}]), ({"ok": 1}, {"ok": 1})],
    ids=["object", "bare-array", "other"],
)
def test_fulfill_response_is_accepted_in_any_json_shape(body: Any, expected: Any) -> None:
    """Fulfill succeeds by status: its ``order`` is unwrapped, any other JSON returned as is."""
    assert responses.fulfill_result(raw(body)) == expected


def test_empty_fulfill_response_gives_none() -> None:
    """An empty 2xx fulfill body (e.g. 204) is a success with nothing to report."""
    assert responses.fulfill_result(b"") is None


def test_refund_response_is_the_refund_object() -> None:
    """Create refund answers the refund itself, with its id."""
    refund = {"id": 5, "order_id": "1234", "state": "CREATED", "refund_info": {"x": 1}}
    assert responses.refund(raw(refund)) == {**refund, "id": "5"}


def test_token_is_read_from_get_token() -> None:
    """get_token answers ``{"token": "..."}``."""
    assert responses.token(raw({"token": "abc"})) == "abc"


def test_an_unusable_get_token_body_is_never_quoted() -> None:
    """A get_token body without a usable token is refused without repeating the body."""
    with pytest.raises(ApiResponseInvalid) as caught:
        responses.token(raw({"token": "", "hint": "secret-ish"}))
    assert "secret-ish" not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (raw({"error": "duplicate cp_order_number"}), "duplicate cp_order_number"),
        (raw({"message": "Not Found"}), "Not Found"),
        (raw({"errors": ["bad sku", "bad qty"]}), "bad sku; bad qty"),
        (raw({"errors": {"sku": ["required"]}}), "sku: required"),
        (raw({"error": True, "message": "nope"}), "nope"),
        (raw("plain json string"), "plain json string"),
        (b"Bad Gateway from proxy", "Bad Gateway from proxy"),
        (b"", ""),
    ],
    ids=[
        "error",
        "message",
        "errors-list",
        "errors-dict",
        "bool-error",
        "json-string",
        "text",
        "empty",
    ],
)
def test_error_message_is_taken_from_any_body_shape(content: bytes, message: str) -> None:
    """The API's reason comes from ``error``, ``message`` or ``errors``, else the body text."""
    assert responses.error_message(content) == message


def test_long_error_text_is_truncated_to_300_characters() -> None:
    """An HTML error page does not flood the outbox row."""
    message = responses.error_message(b"x" * 5000)
    assert len(message) == 300
    assert message.endswith("...")


def test_an_order_too_deep_to_read_is_handed_on_as_its_text_beside_the_others() -> None:
    """One order nested 5,000 deep does not cost its page: the others are read, and it comes
    as the text FeedAMP sent, with its depth and id, for the poller to quarantine."""
    other = {**ORDER, "id": "125", "note": "Grüße [{"}
    content = (
        '{"orders": [' + json.dumps(ORDER) + ", " + DEEP_ORDER + ", " + json.dumps(other) + "],"
        ' "next_cursor": "c2"}'
    ).encode()
    items, cursor = responses.page("new_orders", content, "orders")
    assert (items[0], items[2], cursor) == (ORDER, other, "c2")
    assert items[1] == Unreadable(DEEP_ORDER, 5001, "124")


def test_an_item_too_deep_to_read_without_an_object_around_it_has_no_id() -> None:
    """A bare list nested too deep is held too, with no id to show."""
    content = ('{"orders": [' + nested(3000) + "]}").encode()
    [item], _ = responses.page("new_orders", content, "orders")
    assert item == Unreadable(nested(3000), 3000, None)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"orders": [], "extra": ' + nested(3000) + "}", "nested too deep to be read"),
        ('{"orders": [' + DEEP_ORDER + ", NaN]}", "the body is not JSON"),
        ('{"orders": [' + DEEP_ORDER + "]", "the body is not JSON"),
        ('{"orders": [' + DEEP_ORDER + "]} x", "the body is not JSON"),
    ],
    ids=["deep-elsewhere", "bad-item-beside", "unclosed", "trailing-text"],
)
def test_a_deep_body_read_item_by_item_is_still_checked(content: str, problem: str) -> None:
    """Read item by item, the body is as strict as when read whole; what is too deep outside
    the list of orders cannot be set aside, so the page is refused."""
    with pytest.raises(ApiResponseInvalid, match=problem):
        responses.page("new_orders", content.encode(), "orders")


@pytest.mark.parametrize(
    "read",
    [
        lambda content: responses.wrapped_record("get_order", content, "order"),
        lambda content: responses.confirmed_order(content),
        lambda content: responses.refund(content),
    ],
    ids=["get-order", "confirm", "refund"],
)
def test_a_single_object_too_deep_to_read_is_an_unusable_answer(read: Any) -> None:
    """GET order, confirm and refund answers nested too deep raise ApiResponseInvalid (the
    refresh job logs it and goes on), not RecursionError."""
    with pytest.raises(ApiResponseInvalid, match="nested too deep to be read"):
        read(('{"order": [' + DEEP_ORDER + "]}").encode())


def test_an_error_body_too_deep_to_read_is_told_by_its_text() -> None:
    """An error body nested too deep gives its first 300 characters, as text that is not
    JSON does."""
    message = responses.error_message(nested(5000).encode())
    assert message == "[" * 297 + "..."
