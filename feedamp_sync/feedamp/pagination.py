"""Following FeedAMP's ``next_cursor`` through one pass of a list endpoint.

The end of the list is signalled in ways the docs leave open (null, absent or empty cursor, or
an empty page), and a misbehaving server could hand back a cursor already followed; that would
loop forever, so a pass stops at the first repeated cursor with a warning, and its last page
says so: the pages after that cursor were never read. For new orders that only delays them to
the next pass; a returns poll must not move its checkpoint past them.
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from feedamp_sync.feedamp.nesting import Unreadable


@dataclass(frozen=True)
class Page:
    """One list response: its orders or returns as received, and the cursor to the next page.

    Items are not checked here: one that cannot be used (no id, not an object) is the caller's
    to set aside, so it never costs the rest of its page.
    """

    items: list[Any]
    next_cursor: str | None
    """None on the last page of the pass."""
    cut_short: bool = False
    """The pass ended here at a repeated cursor, not at the end of the list."""
    cursor: str | None = None
    """The cursor this page was asked for with (None for the first page)."""


FetchPage = Callable[[str | None], tuple[list[Any], str | None]]


def follow_cursor(
    fetch: FetchPage,
    *,
    on_repeat: Callable[[str], None],
    on_no_progress: Callable[[str | None], None],
) -> Iterator[Page]:
    """Yield one page per ``fetch(cursor)``, starting without a cursor, until the last page.

    ``fetch`` returns ``(items, next_cursor)`` with ``next_cursor`` already None at the end.
    A failing fetch raises out of the iterator; pages already yielded stay yielded. The pass
    ends early, with the page marked ``cut_short``, at a cursor already followed
    (``on_repeat``) or at a page holding only items this pass has already seen
    (``on_no_progress``): a server handing back the same items under ever new cursors would
    otherwise keep a pass going for ever.
    """
    followed: set[str] = set()
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        items, next_cursor = fetch(cursor)
        keys = {_item_key(item) for item in items}
        if next_cursor is not None and next_cursor in followed:
            on_repeat(next_cursor)
            yield Page(items, None, cut_short=True, cursor=cursor)
            return
        if keys and keys <= seen:
            on_no_progress(cursor)
            yield Page(items, None, cut_short=True, cursor=cursor)
            return
        yield Page(items, next_cursor, cursor=cursor)
        if next_cursor is None:
            return
        seen |= keys
        followed.add(next_cursor)
        cursor = next_cursor


def _item_key(item: Any) -> str:
    """What tells one listed item from another: its id, or its whole text without one (as
    sent, for an item too deep to be read). Writing an item out again cannot go deeper than
    reading it did: ``json.loads`` read it, from deeper in this thread's stack."""
    if isinstance(item, Unreadable):
        identifier = item.id
    else:
        identifier = item.get("id") if isinstance(item, dict) else None
    if isinstance(identifier, str | int) and not isinstance(identifier, bool):
        return f"id:{identifier}"
    if isinstance(item, Unreadable):
        return f"text:{item.text}"
    return f"item:{json.dumps(item, sort_keys=True, default=repr)}"


READ_AHEAD_THREAD: Final = "read-ahead"


def read_ahead(pages: Iterator[Page], stop: threading.Event) -> Iterator[Page]:
    """Yield ``pages``, requesting each next page while the caller stores the one it holds.

    Taken in turn, a page costs its request plus its storing, and a pass at FeedAMP's list
    limit (two requests a second) falls behind as soon as the two together take longer than
    half a second: a slow answer, a slow disk. Overlapped, it falls behind only when one of
    them alone does. One page ahead at most, so memory stays flat; a failed request raises
    when the caller asks for that page, after every earlier page was handed over. The request
    runs on a daemon thread in the caller's context (its log fields go along). Once ``stop``
    is set nothing more is requested ahead (a stopping caller asks for no further page), and
    a request already on its way is left behind: a stop never waits for FeedAMP.
    """
    upcoming = _in_background(pages)
    while (page := upcoming()) is not None:
        upcoming = partial(next, pages, None) if stop.is_set() else _in_background(pages)
        yield page


def _in_background(pages: Iterator[Page]) -> Callable[[], Page | None]:
    """Start ``next(pages)`` on a thread of its own; the callable waits for its page (None
    once they are exhausted) or raises its error."""
    future: Future[Page | None] = Future()
    context = contextvars.copy_context()

    def fetch() -> None:
        try:
            future.set_result(context.run(next, pages, None))
        except BaseException as error:  # handed to the caller, who raises it
            future.set_exception(error)

    threading.Thread(target=fetch, name=READ_AHEAD_THREAD, daemon=True).start()
    return future.result
