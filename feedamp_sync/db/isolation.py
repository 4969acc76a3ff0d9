"""One record the database refuses never costs the rest of its page.

The records of a page are checked before they are stored (``model.require_storable`` and the
typed columns' ranges), so a refusal here is one nobody foresaw: a backend's limit, a driver's
encoding. The page is then stored record by record, each alone, and those the database still
refuses are handed back with its reason, to be quarantined. An outage is not a refusal: before
blaming the records, a trivial query proves the database answers, else the page's own error is
raised as it was and the tick fails as any tick does while the database is away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from feedamp_sync.db.errors import reason

R = TypeVar("R")
S = TypeVar("S")

REFUSALS: tuple[type[Exception], ...] = (SQLAlchemyError, ValueError, OverflowError)
"""What storing a record may raise for its data: the database's errors, and the driver's
or SQLAlchemy's own on a value they cannot convert (UnicodeEncodeError is a ValueError)."""


def save_isolated(
    engine: Engine, save: Callable[[Sequence[R]], S], records: Sequence[R]
) -> tuple[list[S], list[tuple[R, str]]]:
    """``save(records)`` at once; if that is refused, each record alone. Returns what each
    save returned, and the records refused with the reason."""
    try:
        return [save(records)], []
    except REFUSALS as error:
        if not _reachable(engine):
            raise
        if len(records) == 1:
            return [], [(records[0], _reason(error))]
    saved: list[S] = []
    refused: list[tuple[R, str]] = []
    for record in records:
        try:
            saved.append(save([record]))
        except REFUSALS as error:
            refused.append((record, _reason(error)))
    return saved, refused


def _reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def _reason(error: Exception) -> str:
    described = reason(error) if isinstance(error, SQLAlchemyError) else str(error)
    return f"the database refused it: {described}"
