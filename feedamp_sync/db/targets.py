"""Targets (an order or a return of one account) grouped for queries by account."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

Key = tuple[str, str]
"""(account, FeedAMP id) of a stored order or return."""


def by_account(keys: Iterable[Key]) -> dict[str, list[str]]:
    """The ids of each account, sorted and without repeats: one ``IN`` list per account lets
    the ``(account, id)`` indexes serve the query."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for account, target_id in sorted(set(keys)):
        grouped[account].append(target_id)
    return dict(grouped)
