"""Tolerant parsing of FeedAMP returns into the typed columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from feedamp_sync.model import return_record

RETURN: dict[str, Any] = {
    "id": "5003",
    "state": "Pending Refund",
    "integration_name": "amazon",
    "order_id": "10042",
    "undocumented": {"kept": True},
    "return_info": {
        "mp_return_number": "123-4567RT",
        "mp_order_number": "111-99998888-55555",
        "merchant_return_number": "RMA-1234",
        "request_date": "2018-05-01T23:52:01.000Z",
        "respond_by_date": "2018-05-03T23:52:01.000Z",
        "return_lines": [
            {
                "feedamp_return_line_id": "900001",
                "mp_return_line_number": "111-222-333",
                "mp_order_line_number": "afdafasdgasdg",
                "sku": "1234-12353",
                "product_name": "Mug",
                "quantity": "2",
                "reason": "wrong_item_received",
                "extra": 1,
            },
        ],
    },
}


def test_typed_fields_come_from_the_documented_places() -> None:
    """Numbers, state, order id and dates are read from the return and its return_info."""
    record = return_record(RETURN)
    assert (
        record.feedamp_id,
        record.order_feedamp_id,
        record.mp_return_number,
        record.mp_order_number,
        record.merchant_return_number,
        record.state,
    ) == ("5003", "10042", "123-4567RT", "111-99998888-55555", "RMA-1234", "Pending Refund")
    assert record.request_date == datetime(2018, 5, 1, 23, 52, 1, tzinfo=UTC)
    assert record.respond_by_date == datetime(2018, 5, 3, 23, 52, 1, tzinfo=UTC)


def test_lines_are_keyed_by_their_return_line_number() -> None:
    """Each line's typed fields are read, quantities given as strings included."""
    [line] = return_record(RETURN).lines
    assert (
        line.mp_return_line_number,
        line.feedamp_return_line_id,
        line.mp_order_line_number,
        line.sku,
        line.product_name,
        line.quantity,
        line.reason,
    ) == ("111-222-333", "900001", "afdafasdgasdg", "1234-12353", "Mug", 2, "wrong_item_received")


def test_the_line_id_falls_back_to_the_lines_own_id() -> None:
    """Without feedamp_return_line_id, the line's id is the FeedAMP line id."""
    obj = {"id": 1, "return_info": {"return_lines": [{"mp_return_line_number": "a", "id": 77}]}}
    assert return_record(obj).lines[0].feedamp_return_line_id == "77"


def test_the_whole_object_is_kept_with_unknown_fields() -> None:
    """Fields the docs do not list survive in the stored JSON of the return and its lines."""
    record = return_record(RETURN)
    assert record.data == RETURN
    assert record.lines[0].data["extra"] == 1


def test_a_line_without_number_or_repeated_is_skipped_and_counted() -> None:
    """Lines that cannot be keyed (no number, or a number seen before) are counted, not stored."""
    lines = [{"sku": "x"}, {"mp_return_line_number": "a"}, {"mp_return_line_number": "a"}, 3]
    record = return_record({"id": 1, "return_info": {"return_lines": lines}})
    assert ([line.mp_return_line_number for line in record.lines], record.skipped_lines) == (
        ["a"],
        3,
    )


def test_wrong_types_become_none_in_typed_columns() -> None:
    """A malformed field never fails the return; its typed column is left empty."""
    obj = {"id": 9, "state": ["odd"], "return_info": {"request_date": "soon", "return_lines": {}}}
    record = return_record(obj)
    assert (record.feedamp_id, record.state, record.request_date, record.lines) == (
        "9",
        None,
        None,
        [],
    )
