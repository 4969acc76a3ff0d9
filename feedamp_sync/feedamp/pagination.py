"""Following FeedAMP's ``next_cursor`` through one pass of a list endpoint.

The end of the list is signalled in ways the docs leave open (null, absent or empty cursor, or
an empty page), and a misbehaving server could hand back a cursor already followed; that would
loop forever, so a pass stops at the first repeated cursor with a warning, and its last page
says so: the pages after that cursor were never read. For new orders that only delays them to
the next pass; a returns poll must not move its checkpoint past them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    """One list response: its orders or returns as received, and the cursor to the next page."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    """None on the last page of the pass."""
    cut_short: bool = False
    """The pass ended here at a repeated cursor, not at the end of the list."""


FetchPage = Callable[[str | None], tuple[list[dict[str, Any]], str | None]]


def follow_cursor(fetch: FetchPage, *, on_repeat: Callable[[str], None]) -> Iterator[Page]:
    """Yield one page per ``fetch(cursor)``, starting without a cursor, until the last page.

    ``fetch`` returns ``(items, next_cursor)`` with ``next_cursor`` already None at the end.
    A failing fetch raises out of the iterator; pages already yielded stay yielded.
    """
    followed: set[str] = set()
    cursor: str | None = None
    while True:
        items, next_cursor = fetch(cursor)
        if next_cursor is not None and next_cursor in followed:
            on_repeat(next_cursor)
            yield Page(items, None, cut_short=True)
            return
        yield Page(items, next_cursor)
        if next_cursor is None:
            return
        followed.add(next_cursor)
        cursor = next_cursor
