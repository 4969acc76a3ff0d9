"""What a scenario reports: rows of figures, each against its target where it has one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["at_least", "at_most"]


@dataclass(frozen=True)
class Target:
    """A goal: the measured value must be at least (or at most) ``value``."""

    value: float
    direction: Direction
    text: str
    """How the goal reads in the table, e.g. "≥ 380 orders/s (95 % of 400)"."""

    def ratio(self, measured: float) -> float:
        """measured / target: above 1 is better for "at least", below 1 for "at most"."""
        return measured / self.value

    def met(self, measured: float) -> bool:
        if self.direction == "at_least":
            return measured >= self.value
        return measured <= self.value


@dataclass(frozen=True)
class Row:
    measure: str
    value: float
    unit: str
    target: Target | None = None
    digits: int = 2

    @property
    def shown(self) -> str:
        number = f"{self.value:,.{self.digits}f}"
        return f"{number} {self.unit}".strip()


@dataclass(frozen=True)
class Result:
    """One scenario on one backend: its rows, the facts behind them, and the command."""

    scenario: str
    title: str
    backend: str
    command: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def missed(self) -> list[Row]:
        return [r for r in self.rows if r.target is not None and not r.target.met(r.value)]
