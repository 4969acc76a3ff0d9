"""What every scenario is given: the scale, the backend, and where to put its files."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.database import scratch_database
from bench.scales import Scale


@dataclass(frozen=True)
class Bench:
    scale: Scale
    backend: str
    root: Path
    """The repository: child processes run from here, so ``bench`` imports."""
    workdir: Path
    postgres_url: str
    command: str
    """How this scenario alone is run, for the report."""

    def directory(self, name: str) -> Path:
        path = self.workdir / self.backend / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def database(self, directory: Path) -> Iterator[str]:
        with scratch_database(self.backend, directory, self.postgres_url) as url:
            yield url


def span(entries: Sequence[dict[str, Any]]) -> float:
    """Seconds from the first to the last request of sandbox ledger entries."""
    times = [float(entry["at"]) for entry in entries]
    return max(times) - min(times)


def between(entries: Sequence[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    """The ledger entries of requests that arrived between two epoch times."""
    return [entry for entry in entries if start <= float(entry["at"]) <= end]
