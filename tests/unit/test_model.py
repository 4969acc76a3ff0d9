"""Tolerant parsing of FeedAMP objects into the typed columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from feedamp_sync.errors import Unstorable
from feedamp_sync.model import order_record, parse_time

ORDER = {
    "id": "123",
    "state": "ORDERED",
    "marketplace_state": "AWAITING_SHIPMENT",
    "integration_name": "amazon",
    "brand_new_field": {"nested": [1, 2]},
    "order_info": {
        "mp_order_number": "111-99998888-55555",
        "marketplace_name": "amazon_uk",
        "purchase_date": "2018-05-01T23:52:01.000Z",
        "order_lines": [
            {
                "mp_line_number": "afdafasdgasdg",
                "sku": "1234-12353",
                "quantity": 2,
                "unit_price": 200,
                "sales_tax": "20.5",
                "extra": True,
            },
        ],
    },
}


def test_typed_fields_come_from_the_documented_places() -> None:
    """Order number, marketplace, states and purchase date are read from the order."""
    record = order_record(ORDER)
    assert (record.feedamp_id, record.mp_order_number, record.marketplace) == (
        "123",
        "111-99998888-55555",
        "amazon_uk",
    )
    assert (record.state, record.marketplace_state) == ("ORDERED", "AWAITING_SHIPMENT")
    assert record.purchase_date == datetime(2018, 5, 1, 23, 52, 1, tzinfo=UTC)


def test_the_whole_object_is_kept_with_unknown_fields() -> None:
    """Fields the docs do not list survive in the stored JSON."""
    record = order_record(ORDER)
    assert record.data["brand_new_field"] == {"nested": [1, 2]}
    assert record.lines[0].data["extra"] is True


def test_line_numbers_accept_numeric_strings() -> None:
    """Amounts sent as strings still fill the typed price columns."""
    line = order_record(ORDER).lines[0]
    assert (line.quantity, line.unit_price, line.sales_tax) == (2, 200.0, 20.5)


def test_a_line_without_number_is_skipped_and_counted() -> None:
    """A line lacking mp_line_number cannot be keyed; it is counted, not stored as a row."""
    order = {"id": 1, "order_info": {"order_lines": [{"sku": "x"}, {"mp_line_number": "a"}]}}
    record = order_record(order)
    assert [line.mp_line_number for line in record.lines] == ["a"]
    assert record.skipped_lines == 1


def test_wrong_types_become_none_in_typed_columns() -> None:
    """A malformed field never fails the order; its typed column is left empty."""
    order = {
        "id": 5,
        "state": {"odd": 1},
        "order_info": {"purchase_date": "yesterday", "order_lines": "nope"},
    }
    record = order_record(order)
    assert (record.feedamp_id, record.state, record.purchase_date, record.lines) == (
        "5",
        None,
        None,
        [],
    )


def test_parse_time_treats_naive_values_as_utc() -> None:
    """FeedAMP returns UTC; a value without offset is read as UTC."""
    assert parse_time("2020-01-01T00:00:00") == datetime(2020, 1, 1, tzinfo=UTC)


def test_parse_time_converts_offsets_to_utc() -> None:
    """An explicit offset is honoured and normalised to UTC."""
    assert parse_time("2020-01-01T01:00:00+01:00") == datetime(2020, 1, 1, tzinfo=UTC)


def with_line(**fields: Any) -> dict[str, Any]:
    line = {**ORDER["order_info"]["order_lines"][0], **fields}  # type: ignore[index]
    return {**ORDER, "order_info": {**ORDER["order_info"], "order_lines": [line]}}  # type: ignore[dict-item]


def with_info(**fields: Any) -> dict[str, Any]:
    return {**ORDER, "order_info": {**ORDER["order_info"], **fields}}  # type: ignore[dict-item]


def test_an_integer_id_is_stored_as_a_string() -> None:
    """An id sent as a JSON integer is the same id as text, in the column and the object."""
    record = order_record({**ORDER, "id": 7})
    assert (record.feedamp_id, record.data["id"]) == ("7", "7")


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        ({**ORDER, "id": None}, "id: None is not a usable id"),
        ({k: v for k, v in ORDER.items() if k != "id"}, "id: None is not a usable id"),
        ({**ORDER, "id": ""}, "id: '' is not a usable id"),
        ({**ORDER, "id": True}, "id: True is not a usable id"),
        ({**ORDER, "id": "9" * 65}, "is over 64 characters"),
        ({**ORDER, "id": 10**70}, "is over 64 characters"),
        ({**ORDER, "state": "A\x00B"}, "state: contains a NUL character"),
        (with_info(shipping_full_name="\ud800"), "shipping_full_name: contains an unpaired"),
        (with_line(quantity=3_000_000_000), ".quantity: 3000000000 does not fit an integer"),
        (with_line(quantity=1e300), ".quantity: 1e+300 does not fit an integer column"),
        (with_line(unit_price=1e15), ".unit_price: 1000000000000000.0 does not fit a money column"),
        (
            with_info(purchase_date="9999-12-31T23:59:59-14:00"),
            "order_info.purchase_date: '9999-12-31T23:59:59-14:00' is outside the years",
        ),
        (
            with_info(purchase_date="0001-01-01T00:00:00+14:00"),
            "order_info.purchase_date: '0001-01-01T00:00:00+14:00' is outside the years",
        ),
        ({**ORDER, "deep": json.loads("[" * 40 + "]" * 40)}, "nested deeper than 31 levels"),
    ],
    ids=[
        "null-id",
        "no-id",
        "empty-id",
        "bool-id",
        "long-id",
        "huge-int-id",
        "nul",
        "lone-surrogate",
        "quantity-out-of-range",
        "quantity-1e300",
        "price-1e15",
        "date-past-9999",
        "date-before-year-1",
        "deep",
    ],
)
def test_an_order_no_database_can_store_is_refused_naming_the_field(
    order: dict[str, Any], problem: str
) -> None:
    """What cannot be stored as received raises Unstorable with its path: it is quarantined."""
    with pytest.raises(Unstorable) as refused:
        order_record(order)
    assert problem in str(refused.value)


def test_an_object_that_is_not_an_object_is_unstorable() -> None:
    """A list item that is no JSON object cannot be an order."""
    with pytest.raises(Unstorable, match="order: is a str, not an object"):
        order_record("x")  # type: ignore[arg-type]


def test_a_fraction_in_an_integer_field_stays_tolerated() -> None:
    """A quantity of the wrong kind (1.5) is no storage problem: the column gets None."""
    assert order_record(with_line(quantity=1.5)).lines[0].quantity is None
