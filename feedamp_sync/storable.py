"""What every supported database can store: one policy for JSON from FeedAMP and from sellers.

The three backends refuse different things: PostgreSQL a NUL character in text or JSON,
PostgreSQL and MariaDB a lone UTF-16 surrogate (which is not UTF-8 at all), MariaDB JSON nested
32 levels deep or more; integers past 64 bits fit no column. A value one backend stores and
another refuses would let a database move (or a second instance on another backend) fail for
ever on one order, so the limits here are the same everywhere and checked at the edges, where
the value's path can still be named: a seller's payload at enqueue or claim, an order or return
as FeedAMP sent it before it is stored. Pure and iterative: a value nested thousands deep is
reported, not a ``RecursionError``.

What is only recorded, never acted on (FeedAMP's answer to an action, a webhook sink's, an
error quoting either), is not refused but made storable (:func:`storable_json`,
:func:`storable_text`): refusing it would lose the fact that the action was done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

MAX_DEPTH: Final = 31
"""The deepest nesting of objects and lists accepted: MariaDB's ``JSON_VALID``, which checks its
JSON columns, refuses a document whose objects and lists nest 32 deep (its depth limit of 32
is reached, not passed)."""
MAX_INTEGER: Final = 2**63 - 1
"""The largest magnitude of an integer accepted (a signed 64-bit column)."""
MAX_PROBLEMS: Final = 20
"""Problems reported at most for one value; a value broken everywhere needs no longer list."""
NESTED_KEPT_CHARS: Final = 10_000
"""How much of the JSON text of an object or list nested too deep is kept in its place."""

_UNSTORABLE_CHARS: Final = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored everywhere, or None."""
    found = _UNSTORABLE_CHARS.search(text)
    if found is None:
        return None
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which PostgreSQL cannot store"
    return f"contains an unpaired surrogate (\\u{ord(found.group()):04x}), which is not UTF-8"


def storable_text(text: str) -> str:
    """``text`` with each character some backend cannot store written as its JSON escape: a
    NUL as ``\\u0000``, a lone surrogate (half an emoji, or a byte of text that was not UTF-8)
    as ``\\ud83d``. Every other character is kept, so the text still reads as it was sent."""
    if _UNSTORABLE_CHARS.search(text) is None:
        return text
    return _UNSTORABLE_CHARS.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def storable_json(value: Any) -> Any:
    """``value`` as every backend can store it: itself when it has no :func:`json_problems`,
    else a copy with each text and key passed through :func:`storable_text`, each integer
    beyond 64 bits written as its digits, and each object or list nested deeper than
    :data:`MAX_DEPTH` written as its JSON text (escaped, cut to :data:`NESTED_KEPT_CHARS`).
    The shape above that depth is kept, so what reads the value (an order's lines in
    FeedAMP's answer) still finds its fields."""
    if next(_walk(value, ""), None) is None:
        return value
    return _storable_copy(value, 1)


def _storable_copy(value: Any, depth: int) -> Any:
    """Recursive, but never deeper than :data:`MAX_DEPTH` + 1 calls."""
    if isinstance(value, dict | list) and depth > MAX_DEPTH:
        return _nested_text(value)
    if isinstance(value, dict):
        return {
            storable_text(key) if isinstance(key, str) else key: _storable_copy(child, depth + 1)
            for key, child in value.items()
        }
    if isinstance(value, list):
        return [_storable_copy(child, depth + 1) for child in value]
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        return str(value)
    return value


def _nested_text(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=True)  # ASCII: no NUL, no surrogate
    except (RecursionError, TypeError, ValueError):
        return f"(nested deeper than {MAX_DEPTH} levels, too deep to write out)"
    return text[:NESTED_KEPT_CHARS]


def json_problems(value: Any, path: str = "") -> list[str]:
    """Everything in a decoded JSON value that some backend cannot store, by JSON path."""
    problems: list[str] = []
    for where, problem in _walk(value, path):
        problems.append(f"{where or 'payload'}: {problem}")
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, dict | list) and depth > MAX_DEPTH:
            yield where, f"nested deeper than {MAX_DEPTH} levels"
            continue
        if isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                child_path = f"{where}.{key}" if where else str(key)
                problem = text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    yield where or "payload", f"a key {problem}"
                    continue
                stack.append((child, child_path, depth + 1))
        elif isinstance(item, list):
            for index in reversed(range(len(item))):
                stack.append((item[index], f"{where}[{index}]", depth + 1))
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                yield where, problem
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INTEGER:
            yield where, f"an integer beyond 64 bits ({str(item)[:20]}...)"
