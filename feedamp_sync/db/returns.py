"""Returns and their lines."""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine, func, select

from feedamp_sync.db import tables as t

CLOSED_RETURN_STATES: Final = ("Merchant Refunded", "Merchant Rejected", "Customer Cancelled")


class ReturnStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def counts(self) -> dict[str, int]:
        closed = t.returns.c.state.in_(CLOSED_RETURN_STATES)
        with self._engine.connect() as conn:
            total, closed_count = conn.execute(
                select(func.count(), func.count().filter(closed))
            ).one()
        return {"total": total, "open": total - closed_count}
