"""How a payload model reports: pydantic's findings in the project's words, in reading order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import Field, ValidationError

from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.fields import Problem, Quantity, Shape, Text, problem_text, problems
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.payloads import check_payload


class Parcel(Shape):
    weight: Quantity
    label: Text | None = None


class Pallet(Shape):
    name: Text
    parcels: list[Parcel] = Field(default_factory=list)
    count: int = 0

    @classmethod
    def object_problems(cls, given: Mapping[str, Any]) -> list[Problem]:
        if given.get("name") == "twice":
            return [Problem(("parcels", 0), "is listed after every parcel", ("parcels", 99))]
        return []


def refused(payload: Any) -> list[str]:
    with pytest.raises(ValidationError) as error:
        Pallet.model_validate(payload)
    return problems(error.value)


def entry(kind: str, loc: tuple[str | int, ...] = ("x",), **fields: Any) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": "pydantic's words", "input": None, **fields}


def test_a_validators_refusal_keeps_its_own_words() -> None:
    """A field type's message is passed on as written."""
    assert problem_text(entry("problem", ctx={"problem": "must be odd"}), ()) == "must be odd"


def test_a_missing_field_is_required() -> None:
    """pydantic's "missing" is the project's "required"."""
    assert problem_text(entry("missing"), ("x",)) == "required"


def test_an_extra_field_names_the_closest_allowed_one() -> None:
    """A misspelt key is told the field it was probably meant to be."""
    text = problem_text(entry("extra_forbidden", ("lable",)), ("weight", "label"))
    assert text == 'unknown field (did you mean "label"?)'


def test_an_extra_field_like_none_lists_the_allowed_ones() -> None:
    """Without a close name, the allowed names are listed in the model's order."""
    text = problem_text(entry("extra_forbidden", ("zzz",)), ("weight", "label"))
    assert text == "unknown field; allowed: weight, label"


def test_a_list_that_is_not_a_list_shows_what_was_given() -> None:
    """A list field given an object says so, showing the value as JSON."""
    text = problem_text(entry("list_type", input={"a": 1}), ())
    assert text == 'must be a list of objects, got {"a": 1}'


def test_a_list_too_short_must_not_be_empty() -> None:
    """A list that needs an element says it must not be empty."""
    assert problem_text(entry("too_short"), ()) == "must not be empty"


def test_a_plain_field_type_is_refused_in_pydantics_words() -> None:
    """A plain field type (not one of the project's) is refused in pydantic's own message."""
    assert refused({"name": "P", "count": "3"}) == ["count: Input should be a valid integer"]


def test_unknown_fields_come_first_then_fields_in_declared_order() -> None:
    """The likeliest mistake, a misspelt name, is listed before what it made missing."""
    assert refused({"count": "3", "nmae": "P"}) == [
        'nmae: unknown field (did you mean "name"?)',
        "name: required",
        "count: Input should be a valid integer",
    ]


def test_a_lists_non_objects_are_listed_before_its_objects_problems() -> None:
    """An element that is not an object is named before the mistakes inside the others."""
    assert refused({"name": "P", "parcels": [{"weight": 0}, "x"]}) == [
        'parcels[1]: must be an object, got "x"',
        "parcels[0].weight: must be a positive integer, got 0",
    ]


def test_a_whole_object_check_is_listed_where_it_says_beside_field_problems() -> None:
    """An object's own finding comes after the problems of the part it names, and is found
    even when a field beside it is wrong."""
    assert refused({"name": "twice", "parcels": [{"weight": 0}], "count": "3"}) == [
        "parcels[0].weight: must be a positive integer, got 0",
        "parcels[0]: is listed after every parcel",
        "count: Input should be a valid integer",
    ]


def test_a_null_field_is_an_absent_one() -> None:
    """null for a required field is "required"; for an optional one, its default."""
    assert refused({"name": None}) == ["name: required"]
    assert Pallet.model_validate({"name": "P", "parcels": None}).parcels == []


def test_a_null_unknown_field_is_still_unknown() -> None:
    """Only the model's own fields may be null: a misspelt key with null is refused."""
    assert refused({"name": "P", "lable": None}) == [
        "lable: unknown field; allowed: name, parcels, count"
    ]


def test_the_valid_part_of_an_object_leaves_its_mistakes_out() -> None:
    """Objects with mistakes are compared by what of them would be sent."""
    assert Parcel.valid_part({"weight": 0, "label": "L", "zzz": 1}) == {"label": "L"}


def test_warnings_are_placed_under_their_object() -> None:
    """A nested object's warning carries the path from the payload's top."""
    shipment = {
        "quantity_shipped": 1,
        "shipped_date": "2026-05-01T10:00",
        "carrier": "UPS",
        "tracking_number": "1Z",
    }
    payload = {"order_lines": [{"mp_line_number": "L1", "fulfillments": [shipment]}]}
    [warning] = check_payload(KINDS["fulfillment"], payload).warnings
    assert warning.startswith("order_lines[0].fulfillments[0].shipped_date: ")


def test_a_copied_shipment_after_a_non_object_names_both_real_positions() -> None:
    """The repeated shipment and the one it copies are named by their places in the list."""
    shipment = {
        "quantity_shipped": 1,
        "shipped_date": "2026-05-01",
        "carrier": "UPS",
        "tracking_number": "1Z",
    }
    payload = {"order_lines": [{"mp_line_number": "L1", "fulfillments": ["x", shipment, shipment]}]}
    with pytest.raises(InvalidPayload) as refusal:
        check_payload(KINDS["fulfillment"], payload)
    assert refusal.value.problems == [
        'order_lines[0].fulfillments[0]: must be an object, got "x"',
        "order_lines[0].fulfillments[2]: is identical to fulfillments[1]",
    ]


def test_copies_with_the_same_mistake_are_still_copies() -> None:
    """A copy-pasted shipment is named as a copy even when both copies share a mistake."""
    shipment = {"quantity_shipped": 1, "carrier": "UPS", "tracking_number": "1Z"}
    payload = {"order_lines": [{"mp_line_number": "L1", "fulfillments": [shipment, shipment]}]}
    with pytest.raises(InvalidPayload) as refusal:
        check_payload(KINDS["fulfillment"], payload)
    assert refusal.value.problems == [
        "order_lines[0].fulfillments[0].shipped_date: required",
        "order_lines[0].fulfillments[1].shipped_date: required",
        "order_lines[0].fulfillments[1]: is identical to fulfillments[0]",
    ]


def test_a_null_refund_wrapper_is_not_an_object() -> None:
    """{"refund_info": null} is the wrapper without its refund, not a bare refund."""
    with pytest.raises(InvalidPayload) as refusal:
        check_payload(KINDS["refund"], {"refund_info": None})
    assert refusal.value.problems == ["refund_info: must be an object, got null"]


def test_a_line_named_twice_is_listed_after_that_lines_own_problems() -> None:
    """The repeated line's mistakes come first, then that it repeats an earlier line."""
    bad = {"mp_line_number": "L1", "cancellations": [{"quantity_cancelled": 0}]}
    good = {"mp_line_number": "L1", "withdrawn": [{"tracking_number": "1Z", "quantity_shipped": 1}]}
    with pytest.raises(InvalidPayload) as refusal:
        check_payload(KINDS["fulfillment"], {"order_lines": [good, bad]})
    assert refusal.value.problems == [
        "order_lines[1].cancellations[0].quantity_cancelled: must be a positive integer, got 0",
        "order_lines[1].cancellations[0].cancellation_reason: required",
        'order_lines[1].mp_line_number: "L1" is named twice (also order_lines[0]); '
        "put all of a line's entries in one element",
    ]
