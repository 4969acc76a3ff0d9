"""Orders and returns set aside because they cannot be stored as received.

A page of new orders or returns is stored object by object in effect: each object the typed
parsing refuses (:class:`~feedamp_sync.errors.Unstorable`) is *held* instead, with the reason
and its raw text, and the rest of the page is stored (and confirmed) as usual. A held order is
never confirmed, so FeedAMP keeps listing it and every poll looks at it again: once its data
can be stored (FeedAMP corrected it, or a release accepts it), it is stored and confirmed like
any other and its quarantine entry is marked resolved. Pure; the rows are in ``db/quarantine``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from feedamp_sync.errors import Unstorable
from feedamp_sync.storable import text_problem

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
    try:
        raw = json.dumps(obj, ensure_ascii=True)
    except (RecursionError, TypeError, ValueError):
        raw = json.dumps(repr(obj)[:10_000], ensure_ascii=True)
    return Held(_shown_id(obj), reason, raw, hashlib.sha256(raw.encode()).hexdigest())


def split(items: Iterable[Any], parse: Callable[[Any], R]) -> tuple[list[R], list[Held]]:
    """Each item parsed for storing, or held with the reason it cannot be stored."""
    records: list[R] = []
    set_aside: list[Held] = []
    for item in items:
        try:
            records.append(parse(item))
        except Unstorable as refused:
            set_aside.append(held(item, str(refused)))
    return records, set_aside


def _shown_id(obj: Any) -> str:
    identifier = obj.get("id") if isinstance(obj, Mapping) else None
    if isinstance(identifier, bool) or not isinstance(identifier, str | int):
        return ""
    text = str(identifier)
    if text_problem(text) is not None:
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    return text[:ID_MAX_CHARS]
