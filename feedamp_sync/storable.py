"""What every supported database can store: one policy for JSON from FeedAMP and from sellers.

The three backends refuse different things: PostgreSQL a NUL character in text or JSON,
PostgreSQL and MariaDB a lone UTF-16 surrogate (which is not UTF-8 at all), MariaDB JSON nested
deeper than 32 levels; integers past 64 bits fit no column. A value one backend stores and
another refuses would let a database move (or a second instance on another backend) fail for
ever on one order, so the limits here are the same everywhere and checked at the edges, where
the value's path can still be named: a seller's payload at enqueue or claim, an order or return
as FeedAMP sent it before it is stored. Pure and iterative: a value nested thousands deep is
reported, not a ``RecursionError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

MAX_DEPTH: Final = 32
"""The deepest nesting of objects and lists accepted (MariaDB's limit for a JSON column)."""
MAX_INTEGER: Final = 2**63 - 1
"""The largest magnitude of an integer accepted (a signed 64-bit column)."""
MAX_PROBLEMS: Final = 20
"""Problems reported at most for one value; a value broken everywhere needs no longer list."""


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored everywhere, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which PostgreSQL cannot store"
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return f"contains an unpaired surrogate (\\u{ord(char):04x}), which is not UTF-8"
    return None


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
