"""Reading a list page whose body is nested too deep for Python's JSON reader, item by item.

``json.loads`` descends one level of the interpreter's stack per level of nesting and gives up
with RecursionError past about a thousand. One order nested that deep would leave its whole
page unreadable, on every pass, and hold up every order listed after it; so a page that cannot
be read whole is read again in parts: each member of the body, and each item of its list,
alone. An item still too deep is kept as the text FeedAMP sent (:class:`Unreadable`), to be
quarantined, and the other items are read as usual.

Finding where a value ends takes no recursion: a scan over the text that skips strings and
counts brackets. Only the parts are read as JSON, so the body is still checked as strictly as
a whole one, except inside an unreadable item, which is never read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

Loads = Callable[[str], Any]

_SPACE: Final = " \t\n\r"
_STRING: Final = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_KEY: Final = re.compile(_STRING, re.DOTALL)
_MARKS: Final = re.compile(rf"{_STRING}|[\[\]{{}}]", re.DOTALL)
"""A whole string (whose brackets are text) or one bracket."""
_OPENING: Final = ("[", "{")


@dataclass(frozen=True)
class Unreadable:
    """A listed object nested too deep to be read, as FeedAMP sent it."""

    text: str
    depth: int
    """How many levels of objects and lists it nests."""
    id: str | int | None
    """Its ``id`` when that could be read from its top level."""


def read_by_item(text: str, key: str, loads: Loads) -> dict[str, Any]:
    """The JSON object ``text``, each member read alone, and each item of the list under
    ``key`` alone: an item too deep to be read is an :class:`Unreadable`.

    ValueError when ``text`` is not a JSON object; RecursionError when something other than
    an item of that list is too deep.
    """
    members, end = _parts(text, 0, keyed=True)
    if _space(text, end) != len(text):
        raise ValueError(f"extra data at character {end}")
    body: dict[str, Any] = {}
    for name, start, stop in members:
        if name == key and text.startswith("[", start):
            items, _ = _parts(text, start, keyed=False)
            body[name] = [_item(text, s, e, loads) for _, s, e in items]
        else:
            body[name] = loads(text[start:stop])
    return body


def _item(text: str, start: int, stop: int, loads: Loads) -> Any:
    piece = text[start:stop]
    try:
        return loads(piece)
    except RecursionError:
        return Unreadable(piece, _extent(text, start)[1], _top_level_id(text, start, loads))


def _top_level_id(text: str, start: int, loads: Loads) -> str | int | None:
    """The ``id`` member of the object at ``start`` when it can be read; None otherwise."""
    if not text.startswith("{", start):
        return None
    members, _ = _parts(text, start, keyed=True)
    for name, begin, stop in reversed(members):  # the last of repeated keys counts, as in JSON
        if name == "id":
            try:
                identifier = loads(text[begin:stop])
            except (RecursionError, ValueError):
                return None
            if isinstance(identifier, str | int) and not isinstance(identifier, bool):
                return identifier
            return None
    return None


def _parts(text: str, start: int, *, keyed: bool) -> tuple[list[tuple[str, int, int]], int]:
    """The members of the object (``keyed``) or the items of the list at ``start``: each
    one's key (empty for an item) and where its value starts and stops; and where the object
    or list stops."""
    opening, closing = ("{", "}") if keyed else ("[", "]")
    pos = _space(text, start)
    if not text.startswith(opening, pos):
        raise ValueError(f"expected {opening!r} at character {pos}")
    pos = _space(text, pos + 1)
    parts: list[tuple[str, int, int]] = []
    if text.startswith(closing, pos):
        return parts, pos + 1
    while True:
        name = ""
        if keyed:
            match = _KEY.match(text, pos)
            if match is None:
                raise ValueError(f"expected a key at character {pos}")
            name = json.loads(match.group())
            pos = _space(text, match.end())
            if not text.startswith(":", pos):
                raise ValueError(f"expected ':' at character {pos}")
            pos = _space(text, pos + 1)
        stop = _extent(text, pos)[0]
        parts.append((name, pos, stop))
        pos = _space(text, stop)
        if text.startswith(",", pos):
            pos = _space(text, pos + 1)
        elif text.startswith(closing, pos):
            return parts, pos + 1
        else:
            raise ValueError(f"expected ',' or {closing!r} at character {pos}")


def _extent(text: str, start: int) -> tuple[int, int]:
    """Where the value at ``start`` stops, and how deep it nests, without reading it."""
    if not text.startswith(_OPENING, start):
        match = _KEY.match(text, start)
        if match is not None:
            return match.end(), 0
        stop = start
        while stop < len(text) and text[stop] not in _SPACE and text[stop] not in ",]}":
            stop += 1
        if stop == start:
            raise ValueError(f"expected a value at character {start}")
        return stop, 0
    depth = deepest = 0
    for mark in _MARKS.finditer(text, start):
        token = mark.group()
        if token in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
            if depth == 0:
                return mark.end(), deepest
    raise ValueError(f"the value at character {start} is never closed")


def _space(text: str, pos: int) -> int:
    """The first position from ``pos`` that is not JSON whitespace."""
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos
