"""Listings as tables: a header row, then one line per row, each column as wide as its widest
cell and two spaces from the next, as ``kubectl get`` and ``docker ps`` print them.

The last column is not padded, so no line ends in spaces, and a cell's line breaks become
spaces, so each row stays one line for ``grep`` and ``sort``. ``--json`` is the format for
programs; this one is for people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

GAP: Final = "  "
MISSING: Final = "-"


def table(columns: Mapping[str, str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows' values under ``columns`` (header → key), aligned; no final newline."""
    lines = [list(columns), *([cell(row[key]) for key in columns.values()] for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(columns))]
    return "\n".join(
        GAP.join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def cell(value: object) -> str:
    """One value on one line: a time in ISO 8601, ``-`` when there is nothing to show."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, datetime):
        return value.isoformat()
    return " ".join(str(value).splitlines())
