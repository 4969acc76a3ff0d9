"""Scenario 4: an idle daemon costs next to nothing, and the same few queries every tick.

After a backlog is stored and confirmed, ``feedamp-sync run`` (default configuration) runs
under ``bench.counted``, which counts its SQL per tick without changing it. Once it has
settled, its CPU (``/proc/<pid>/stat``) and counts are read at the start and the end of the
idle window.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.context import Bench
from bench.counted import COUNTS_ENV
from bench.daemon_process import (
    LIFTED,
    log_path,
    require_success,
    start_daemon,
    wait_for_event,
    write_config,
)
from bench.measure import run_once
from bench.processes import BenchError, Child, cpu_seconds, rss_mib
from bench.results import Result, Row, Target
from bench.sandbox_process import SandboxProcess

CPU_TARGET_SECONDS_PER_MINUTE: Final = 0.5
JOBS: Final = ("outbox", "orders", "returns")


@dataclass(frozen=True)
class Snapshot:
    at: float
    statements: int
    transactions: int
    ticks: list[dict[str, Any]]
    cpu_seconds: float


def _snapshot(child: Child, counts: Path, timeout: float = 10.0) -> Snapshot:
    """Ask the counting wrapper for its counts (SIGUSR1) and read them with the CPU so far."""
    asked = time.time()
    cpu = cpu_seconds(child.pid)
    child.signal(signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if counts.exists():
            data = json.loads(counts.read_text())
            if data["at"] >= asked:
                return Snapshot(cpu_seconds=cpu, **data)
        time.sleep(0.02)
    raise BenchError(f"no counts from the daemon within {timeout:.0f} s")


def per_tick(ticks: list[dict[str, Any]], start: float, end: float) -> dict[str, list[int]]:
    """Statements of each tick that started in the window, by job."""
    found: dict[str, list[int]] = {}
    for tick in ticks:
        if start <= tick["started"] <= end:
            found.setdefault(tick["job"], []).append(int(tick["statements"]))
    return found


def run(bench: Bench) -> list[Result]:
    directory = bench.directory("idle")
    scale = bench.scale
    with (
        SandboxProcess(scale.idle_orders, directory, bench.root, name="sandbox") as sandbox,
        bench.database(directory) as url,
    ):
        if scale.idle_orders:
            setup = write_config(directory, url, sandbox.base_url, LIFTED, name="setup")
            run_once(sandbox, setup, directory, bench.root, "setup", 120 + scale.idle_orders / 50)
        config = write_config(directory, url, sandbox.base_url, {})
        counts = directory / "counts.json"
        daemon = start_daemon(
            config, directory, bench.root, "run",
            name="daemon", module="bench.counted", env={COUNTS_ENV: str(counts)},
        )  # fmt: skip
        try:
            wait_for_event(log_path(directory, "daemon"), "daemon_started", daemon, 60)
            time.sleep(scale.idle_settle_seconds)
            first = _snapshot(daemon, counts)
            time.sleep(scale.idle_seconds)
            last = _snapshot(daemon, counts)
            idle_rss = rss_mib(daemon.pid)
            usage = daemon.stop(timeout=30)
        finally:
            daemon.kill_quietly()
        require_success(usage.exit_code, log_path(directory, "daemon"), "idle daemon")
    return [_result(bench, first, last, idle_rss)]


def _result(bench: Bench, first: Snapshot, last: Snapshot, idle_rss: float) -> Result:
    window = last.at - first.at
    cpu = last.cpu_seconds - first.cpu_seconds
    ticks = per_tick(last.ticks, first.at, last.at)
    if "outbox" not in ticks:
        raise BenchError(f"no outbox tick in the {window:.1f} s idle window")
    statements = last.statements - first.statements
    transactions = last.transactions - first.transactions
    tick_count = sum(len(counted) for counted in ticks.values())
    rows = [
        Row("idle window", window, "s", digits=1),
        Row("daemon CPU in the window", cpu, "s"),
        Row(
            "daemon CPU per 60 s idle",
            cpu * 60 / window,
            "s",
            Target(CPU_TARGET_SECONDS_PER_MINUTE, "at_most", "< 0.5 s per 60 s"),
        ),
        Row("ticks in the window", tick_count, "", digits=0),
        Row("statements in the window", statements, "", digits=0),
        Row("transactions in the window", transactions, "", digits=0),
        Row("statements per tick, on average", statements / tick_count, ""),
    ]
    for job in JOBS:
        if job in ticks:
            rows += [
                Row(f"{job} ticks", len(ticks[job]), "", digits=0),
                Row(f"statements per {job} tick, fewest", min(ticks[job]), "", digits=0),
                Row(f"statements per {job} tick, most", max(ticks[job]), "", digits=0),
            ]
    rows.append(Row("daemon peak RSS", idle_rss, "MiB", digits=0))
    return Result(
        scenario="idle",
        title="4. An idle daemon",
        backend=bench.backend,
        command=bench.command,
        rows=rows,
        notes=[
            f"`feedamp-sync run` with the default configuration (outbox every 5 s, orders "
            f"every 60 s, returns every 300 s) after {bench.scale.idle_orders:,} orders were "
            "stored and confirmed; measured after it settled.",
            "Statements are counted by SQLAlchemy event listeners installed by the "
            "`bench.counted` wrapper around the unchanged CLI; SQLite's `BEGIN IMMEDIATE` "
            "counts as a statement, connection pings and commits do not. A tick counts from "
            "its start record to the next tick start on the same worker thread.",
            f"Timing resolution of the CPU figure: 1/{os.sysconf('SC_CLK_TCK')} s.",
        ],
    )
