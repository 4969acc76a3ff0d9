"""Scenario 3: peak memory must not grow with the backlog (flat memory).

Two fresh ``run --once`` processes, limits lifted, each ingesting a whole backlog: one ten
times the other. Each order is stored with its number as always, but ``confirm.enabled`` is
false: confirming 100,000 orders at the rate scenario 2 measures would take about ten
minutes per backend, and the outbox drain's memory is measured there (its claims are
bounded by ``outbox.batch_size`` whatever the backlog). The peak RSS of each comes from the
kernel (``wait4``'s ``ru_maxrss``, the same figure as ``VmHWM``).
"""

from __future__ import annotations

from typing import Final

from bench.context import Bench
from bench.daemon_process import LIFTED, Sections, write_config
from bench.measure import Measured, run_once
from bench.processes import BenchError
from bench.results import Result, Row, Target
from bench.sandbox_process import Ready, SandboxProcess
from bench.workload import Database

TARGET_RATIO: Final = 1.2
INGEST_ONLY: Final[Sections] = {**LIFTED, "confirm": {"enabled": False}}
_MIN_RATE: Final = 50.0


def _backlog(bench: Bench, orders: int) -> tuple[Measured, Ready]:
    directory = bench.directory(f"memory-{orders}")
    with (
        SandboxProcess(orders, directory, bench.root, name="sandbox") as sandbox,
        bench.database(directory) as url,
        Database(url) as database,
    ):
        config = write_config(directory, url, sandbox.base_url, INGEST_ONLY)
        measured = run_once(
            sandbox, config, directory, bench.root, "daemon", 120 + orders / _MIN_RATE
        )
        if database.stored() != orders:
            raise BenchError(f"{database.stored()} of {orders} orders stored")
        return measured, sandbox.ready


def run(bench: Bench) -> list[Result]:
    small, large = bench.scale.memory_small, bench.scale.memory_large
    measured_small, _ = _backlog(bench, small)
    measured_large, sandbox = _backlog(bench, large)
    rss_small, rss_large = measured_small.usage.max_rss_mib, measured_large.usage.max_rss_mib
    return [
        Result(
            scenario="memory",
            title="3. Peak memory against backlog size",
            backend=bench.backend,
            command=bench.command,
            rows=[
                Row(f"peak RSS, {small:,} orders", rss_small, "MiB", digits=0),
                Row(f"peak RSS, {large:,} orders", rss_large, "MiB", digits=0),
                Row(
                    f"ratio {large:,} / {small:,}",
                    rss_large / rss_small,
                    "x",
                    Target(TARGET_RATIO, "at_most", f"≤ {TARGET_RATIO}"),
                ),
                Row(f"throughput, {small:,} orders", measured_small.per_second(small), "orders/s"),
                Row(f"throughput, {large:,} orders", measured_large.per_second(large), "orders/s"),
                Row(f"sandbox: generating {large:,} orders", sandbox.generate_seconds, "s"),
                Row(f"sandbox: RSS holding {large:,} orders", sandbox.rss_mib, "MiB", digits=0),
            ],
            notes=[
                "Each run ingests its whole backlog with `run --once`, rate limits lifted, "
                "`confirm.enabled = false` (see the module docstring); throughput is per "
                "whole process, start-up included.",
            ],
        )
    ]
