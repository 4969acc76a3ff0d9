"""Tolerant parsing of FeedAMP objects into the typed columns."""

from __future__ import annotations

from datetime import UTC, datetime

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
