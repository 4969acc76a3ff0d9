"""Cursor pagination, with the end-of-list forms the real API might use.

FeedAMP documents ``limit``/``cursor``/``next_cursor`` but not how the last page looks, nor what
a cursor encodes. The sandbox therefore makes both switchable so clients are tested against
every plausible answer:

* keyset cursors (the default) encode the last id served: confirming orders during a pass
  removes them from "new orders" without shifting later pages;
* offset cursors (``Faults(offset_cursor=True)``) encode a position in the *current* list, so
  confirms during a pass shift the list and the next page skips orders, as a real offset cursor
  would;
* the last page ends with ``next_cursor`` null, absent, or ``""``; or (``"empty_page"``) it still
  carries a cursor and the page after it is empty. A cursor that points past the end always
  yields an empty page with the configured end form.

Cursors are opaque base64 text carrying their own kind, so a mode switch mid-pass is harmless.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Literal, TypeVar

from feedamp_sync.sandbox.wire import JSON, Rejected

T = TypeVar("T")

EndOfPages = Literal["null", "absent", "empty", "empty_page"]
END_OF_PAGES_FORMS: Final = ("null", "absent", "empty", "empty_page")

_PREFIX: Final = "feedamp-sandbox"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page; ``next_cursor`` None means this is the end."""

    items: list[T]
    next_cursor: str | None


def _encode(kind: str, number: int) -> str:
    raw = f"{_PREFIX}:{kind}:{number}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, kind, number = raw.split(":")
        if prefix != _PREFIX or kind not in ("k", "o", "s"):
            raise ValueError(raw)
        return kind, int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Rejected(400, "invalid cursor") from exc


def paginate(
    items: Sequence[T],
    key: Callable[[T], int],
    *,
    limit: int,
    cursor: str | None,
    offset_mode: bool,
    end_of_pages: EndOfPages,
    stuck: bool = False,
) -> Page[T]:
    """The page of ``items`` (sorted by ``key``, ascending) that ``cursor`` designates.

    ``stuck``: every cursor leads back to the first page, handed out under a fresh cursor
    each time (a server whose cursors never move on).
    """
    start = 0
    if stuck:
        number = _decode(cursor)[1] + 1 if cursor else 1
        page = list(items[:limit])
        return Page(page, _encode("s", number) if page else None)
    if cursor:
        kind, number = _decode(cursor)
        start = number if kind == "o" else bisect.bisect_right(items, number, key=key)
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    if not more and not (end_of_pages == "empty_page" and page):
        return Page(page, None)
    if offset_mode:
        return Page(page, _encode("o", start + len(page)))
    return Page(page, _encode("k", key(page[-1])))


def cursor_field(next_cursor: str | None, end_of_pages: EndOfPages) -> JSON:
    """The ``next_cursor`` member of a list response, in the configured end-of-list form."""
    if next_cursor is not None:
        return {"next_cursor": next_cursor}
    if end_of_pages == "absent":
        return {}
    if end_of_pages == "empty":
        return {"next_cursor": ""}
    return {"next_cursor": None}
