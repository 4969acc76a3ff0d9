"""Scenario 1: ingest a backlog at the default list limit (2 requests/s, pages of 200).

``run --once`` with the default configuration stores every page of new orders, each new
order with its number and confirm message in the same transaction, all safety on. The
ingest is timed from the sandbox's arrival time of the first list request to the
``orders_pulled`` log event (every page stored); the process is then stopped with SIGTERM,
because draining the confirms is not what this measures. Nothing is lifted: the outbox
drains beside the pollers, as in the daemon, at the default 5 requests/s of the other
endpoints, so the confirms compete with the ingest as they would in production. The
daemon's CPU is sampled while waiting, so the CPU of the ingest itself is told apart from
the interpreter's start.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Final

from bench.context import Bench, span
from bench.daemon_process import events, log_path, start_daemon, tail, timestamp, write_config
from bench.processes import BenchError, Child, cpu_seconds
from bench.results import Result, Row, Target
from bench.sandbox_process import SandboxProcess

API_LIMIT_ORDERS_PER_SECOND: Final = 2 * 200
TARGET_SHARE: Final = 0.95

CpuSamples = list[tuple[float, float]]
"""(epoch seconds, CPU seconds used so far) of the daemon."""


def wait_pulled(log: Path, child: Child, timeout: float) -> tuple[dict[str, Any], CpuSamples]:
    """The ``orders_pulled`` event, and the daemon's CPU sampled until it came."""
    samples: CpuSamples = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not child.exited():
        samples.append((time.time(), cpu_seconds(child.pid)))
        found = events(log, "orders_pulled")
        if found:
            return found[0], samples
        time.sleep(0.05)
    raise BenchError(f"no 'orders_pulled' in {log} within {timeout:.0f} s:\n{tail(log)}")


def cpu_between(samples: CpuSamples, start: float, end: float) -> float:
    """CPU used from the last sample at or before ``start`` to the first at or after ``end``."""
    before = max((s for s in samples if s[0] <= start), default=samples[0])
    after = min((s for s in samples if s[0] >= end), default=samples[-1])
    return after[1] - before[1]


def run(bench: Bench) -> list[Result]:
    directory = bench.directory("ingest")
    orders = bench.scale.ingest_orders
    with (
        SandboxProcess(orders, directory, bench.root, name="sandbox") as sandbox,
        bench.database(directory) as url,
    ):
        config = write_config(directory, url, sandbox.base_url, {})
        daemon = start_daemon(config, directory, bench.root, "run", "--once", name="daemon")
        try:
            expected = orders / API_LIMIT_ORDERS_PER_SECOND
            log = log_path(directory, "daemon")
            pulled, samples = wait_pulled(log, daemon, timeout=60 + 3 * expected)
            usage = daemon.stop(timeout=60)
        finally:
            daemon.kill_quietly()
        listed = sandbox.ledger("new_orders")
    if pulled["new"] != orders:
        raise BenchError(f"ingest stored {pulled['new']} new orders, expected {orders}")
    first = min(float(entry["at"]) for entry in listed)
    stored = timestamp(pulled)
    seconds = stored - first
    rate = orders / seconds
    ingest_cpu = cpu_between(samples, first, stored)
    target = Target(
        TARGET_SHARE * API_LIMIT_ORDERS_PER_SECOND,
        "at_least",
        f"≥ {TARGET_SHARE * API_LIMIT_ORDERS_PER_SECOND:.0f} orders/s (95 % of 2 x 200)",
    )
    return [
        Result(
            scenario="ingest",
            title="1. Ingest a backlog at the default limits",
            backend=bench.backend,
            command=bench.command,
            rows=[
                Row("orders ingested", orders, "orders", digits=0),
                Row("list requests (pages)", len(listed), "", digits=0),
                Row("first list request → last page stored", seconds, "s"),
                Row("ingest rate", rate, "orders/s", target),
                Row("list request rate", (len(listed) - 1) / span(listed), "requests/s"),
                Row("daemon CPU during the ingest", ingest_cpu, "s"),
                Row("daemon CPU busy during the ingest", ingest_cpu / seconds, "cores"),
                Row("daemon CPU, whole process", usage.cpu_seconds, "s"),
                Row("daemon peak RSS", usage.max_rss_mib, "MiB", digits=0),
            ],
            notes=[
                "Default configuration (`api.list_rate_per_second = 2`, `api.page_size = 200`, "
                "confirms at `api.rate_per_second = 5` beside the ingest); "
                f"the sandbox generated {orders:,} orders in "
                f"{sandbox.ready.generate_seconds:.1f} s.",
                "The process is stopped with SIGTERM once every page is stored; its CPU "
                "includes interpreter start and the stop.",
            ],
        )
    ]
