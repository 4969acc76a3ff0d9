"""Orders and returns set aside because they cannot be stored as received.

A page of new orders or returns is stored object by object in effect: each object the typed
parsing refuses (:class:`~feedamp_sync.errors.Unstorable`) is *held* instead, with the reason
and its raw text, and the rest of the page is stored (and confirmed) as usual. A held order is
never confirmed, so FeedAMP keeps listing it and every poll looks at it again: once its data
can be stored (FeedAMP corrected it, or a release accepts it), it is stored and confirmed like
any other and its quarantine entry is marked resolved. An object nested too deep to be read at
all (``feedamp/nesting``) is held as the text FeedAMP sent. Whatever an entry says of the object
(its id, the reason, its page's cursor) is text every backend stores, escaped where it holds a
NUL or a lone surrogate. Pure; the rows are in ``db/quarantine``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from feedamp_sync.errors import Unstorable
from feedamp_sync.feedamp.nesting import Unreadable
from feedamp_sync.storable import MAX_DEPTH, storable_text

R = TypeVar("R")

ID_MAX_CHARS: Final = 64


@dataclass(frozen=True)
class Held:
    """One object set aside: what could be read of its id, why, and the object as text."""

    feedamp_id: str
    """FeedAMP's id as far as it can be shown (escaped, shortened), or empty."""
    reason: str
    raw: str
    """The object as JSON with every non-ASCII character escaped: storable everywhere."""
    fingerprint: str
    """sha256 of ``raw``: the same object seen on the next poll is the same entry."""


def held(obj: Any, reason: str) -> Held:
    """The quarantine entry of ``obj``, refused for ``reason``."""
    if isinstance(obj, Unreadable):
        shown_id = _shown_id(obj.id)
        raw = _ascii(obj.text)
    else:
        shown_id = _shown_id(obj.get("id") if isinstance(obj, Mapping) else None)
        raw = _raw(obj, shown_id)
    return Held(shown_id, storable_text(reason), raw, hashlib.sha256(raw.encode()).hexdigest())


def split(items: Iterable[Any], parse: Callable[[Any], R]) -> tuple[list[R], list[Held]]:
    """Each item parsed for storing, or held with the reason it cannot be stored."""
    records: list[R] = []
    set_aside: list[Held] = []
    for item in items:
        if isinstance(item, Unreadable):
            set_aside.append(held(item, _unreadable_reason(item)))
            continue
        try:
            records.append(parse(item))
        except Unstorable as refused:
            set_aside.append(held(item, str(refused)))
    return records, set_aside


def _unreadable_reason(item: Unreadable) -> str:
    """Why an object too deep to be read at all is held."""
    return f"nested {item.depth} levels deep, too deep to be read (at most {MAX_DEPTH} are stored)"


def _raw(obj: Any, shown_id: str) -> str:
    """``obj`` as ASCII JSON. An object nested too deep to be written out again (it was read
    deeper in another thread's stack) is held as its id and why, with FeedAMP's copy as the
    one to look at; one that is no JSON value, as its ``repr``."""
    try:
        return json.dumps(obj, ensure_ascii=True)
    except RecursionError:
        pass
    except (TypeError, ValueError):
        try:
            return json.dumps(repr(obj)[:10_000], ensure_ascii=True)
        except RecursionError:
            pass
    return json.dumps({"id": shown_id, "unwritable": "nested too deep to be written out"})


def _ascii(text: str) -> str:
    """JSON text with every character past ASCII, and any NUL, written as its escape."""
    return "".join(
        char if " " <= char < "\x7f" or char in "\t\n\r" else json.dumps(char)[1:-1]
        for char in text
    )


def _shown_id(identifier: Any) -> str:
    if isinstance(identifier, bool) or not isinstance(identifier, str | int):
        return ""
    return storable_text(str(identifier))[:ID_MAX_CHARS]
