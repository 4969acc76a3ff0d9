"""Run scenarios on backends, collect their results, write the report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from bench import machine, report
from bench.context import Bench
from bench.results import Result
from bench.scales import Scale
from bench.scenarios import (
    accounts,
    idle,
    ingest,
    memory,
    refresh,
    retention,
    round_trip,
    starvation,
    throughput,
    wakeup,
)

Scenario = Callable[[Bench], list[Result]]

SCENARIOS: Final[dict[str, Scenario]] = {
    "ingest": ingest.run,
    "throughput": throughput.run,
    "round-trip": round_trip.run,
    "memory": memory.run,
    "idle": idle.run,
    "wakeup": wakeup.run,
    "starvation": starvation.run,
    "retention": retention.run,
    "refresh": refresh.run,
    "accounts": accounts.run,
}
ROOT: Final = Path(__file__).resolve().parent.parent


def run_suite(
    names: Sequence[str],
    scale: Scale,
    backends: Sequence[str],
    *,
    workdir: Path,
    postgres_url: str,
    command: str,
    output: Path | None,
    progress: Callable[[str], None],
) -> list[Result]:
    """Every named scenario on every backend, in that order; the report written to ``output``."""
    facts = machine.describe(postgres_url if "postgresql" in backends else None)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results: list[Result] = []
    for backend in backends:
        for name in names:
            progress(f"running {name} on {backend} ({scale.name} scale)")
            bench = Bench(
                scale=scale,
                backend=backend,
                root=ROOT,
                workdir=workdir,
                postgres_url=postgres_url,
                command=f"python -m bench {name} --scale {scale.name} --backend {backend}",
            )
            for result in SCENARIOS[name](bench):
                results.append(result)
                progress(report.render_result(result) + "\n")
    facts["load average at end (1/5/15 min)"] = machine.load_average()
    if output is not None:
        report.write(output, report.render(results, facts, command, started))
        progress(f"wrote {output}")
    return results
