"""Returns and their lines."""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine, case, func, select

from feedamp_sync.db import tables as t

CLOSED_RETURN_STATES: Final = ("Merchant Refunded", "Merchant Rejected", "Customer Cancelled")


class ReturnStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def counts(self) -> dict[str, int]:
        closed = case((t.returns.c.state.in_(CLOSED_RETURN_STATES), 1), else_=0)
        with self._engine.connect() as conn:
            total, closed_count = conn.execute(
                select(func.count(), func.coalesce(func.sum(closed), 0))
            ).one()
        return {"total": int(total), "open": int(total) - int(closed_count)}
