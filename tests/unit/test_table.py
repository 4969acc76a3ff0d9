"""The listings' table: a header, aligned columns, one line per row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedamp_sync.cli.table import table

COLUMNS = {"ID": "id", "STATE": "state", "NUMBER": "number"}


def test_columns_are_as_wide_as_their_widest_cell_two_spaces_apart() -> None:
    """Every cell of a column starts where its header starts."""
    rows = [
        {"id": 7, "state": "ORDERED", "number": "FA00000007"},
        {"id": 12345, "state": "PLACED", "number": "X"},
    ]
    assert table(COLUMNS, rows).splitlines() == [
        "ID     STATE    NUMBER",
        "7      ORDERED  FA00000007",
        "12345  PLACED   X",
    ]


def test_columns_follow_the_headers_and_other_keys_are_left_out() -> None:
    """A row's keys are picked, in the headers' order; keys without a column are not shown."""
    row = {"number": "N1", "hidden": "secret", "state": "S", "id": 1}
    assert table(COLUMNS, [row]).splitlines()[1] == "1   S      N1"


def test_no_line_ends_in_spaces() -> None:
    """The last column is not padded, even when a longer cell sits above a short one."""
    rows = [{"a": "x", "b": "a long last cell"}, {"a": "y", "b": "z"}]
    assert all(line == line.rstrip() for line in table({"A": "a", "B": "b"}, rows).splitlines())


@pytest.mark.parametrize("nothing", [None, ""], ids=["none", "empty"])
def test_a_missing_value_shows_as_a_dash(nothing: object) -> None:
    """None and the empty string read as "-", so no column looks shifted."""
    row = {"id": "x", "state": nothing, "number": "z"}
    assert table(COLUMNS, [row]).splitlines()[1] == "x   -      z"


def test_a_time_shows_in_iso_8601() -> None:
    """A datetime cell is its ISO 8601 text, offset included."""
    row = {"id": 1, "state": datetime(2026, 5, 1, 14, 30, tzinfo=UTC), "number": None}
    assert table(COLUMNS, [row]).splitlines()[1].split()[1] == "2026-05-01T14:30:00+00:00"


def test_a_line_break_in_a_cell_keeps_the_row_on_one_line() -> None:
    """Text with line breaks (an error message, a number as received) is joined with spaces."""
    text = table({"ID": "id", "ERROR": "error"}, [{"id": 1, "error": "HTTP 400\nbad\r\nrequest"}])
    assert text.splitlines() == ["ID  ERROR", "1   HTTP 400 bad request"]


def test_no_rows_is_the_header_alone() -> None:
    """An empty listing still says what its columns are."""
    assert table(COLUMNS, []) == "ID  STATE  NUMBER"
