"""One measured client run against a sandbox: the process, and what the sandbox saw of it."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.context import between, span
from bench.daemon_process import log_path, require_success, start_daemon, tail
from bench.processes import BenchError, Child, Usage, start
from bench.sandbox_process import SandboxProcess


@dataclass(frozen=True)
class Measured:
    usage: Usage
    """The client process: wall time from spawn to exit, CPU, peak RSS."""
    requests: int
    """API requests the sandbox received during the run."""
    span_seconds: float
    """From the sandbox's first to its last request arrival of the run."""
    sandbox_cpu_seconds: float

    def per_second(self, items: int) -> float:
        """Items per second of the whole process (start-up and shutdown included)."""
        return items / self.usage.wall_seconds

    def per_span_second(self, items: int) -> float:
        """Items per second while requests were arriving (the work itself)."""
        return items / self.span_seconds

    @property
    def sandbox_busy(self) -> float:
        """Cores the sandbox kept busy on average (1.0 = one core, its GIL-bound ceiling)."""
        return self.sandbox_cpu_seconds / self.usage.wall_seconds

    @property
    def client_busy(self) -> float:
        return self.usage.cpu_seconds / self.usage.wall_seconds


def run_once(
    sandbox: SandboxProcess, config: Path, directory: Path, root: Path, name: str, timeout: float
) -> Measured:
    """``feedamp-sync run --once``, which must succeed."""
    return _measure(
        sandbox,
        lambda: start_daemon(config, directory, root, "run", "--once", name=name),
        log_path(directory, name),
        timeout,
    )


def baseline(
    sandbox: SandboxProcess,
    directory: Path,
    root: Path,
    name: str,
    args: list[str],
    timeout: float,
) -> Measured:
    """``python -m bench.baseline ARGS``, which must succeed with no failed request."""
    log = log_path(directory, name)
    command = [sys.executable, "-m", "bench.baseline", *args, f"--base-url={sandbox.base_url}"]
    measured = _measure(sandbox, lambda: start(name, command, output=log, cwd=root), log, timeout)
    answer = json.loads(log.read_text().strip().splitlines()[-1])
    if answer["failed"]:
        raise BenchError(f"{name}: {answer['failed']} requests failed:\n{tail(log)}")
    return measured


def _measure(
    sandbox: SandboxProcess, launch: Callable[[], Child], log: Path, timeout: float
) -> Measured:
    started_at = time.time()
    cpu_before = sandbox.cpu_seconds()
    child = launch()
    try:
        usage = child.wait(timeout)
    finally:
        child.kill_quietly()
    sandbox_cpu = sandbox.cpu_seconds() - cpu_before
    require_success(usage.exit_code, log, child.name)
    seen = between(sandbox.ledger(), started_at, time.time())
    if len(seen) < 2:
        raise BenchError(f"{child.name}: the sandbox saw {len(seen)} requests")
    return Measured(usage, len(seen), span(seen), sandbox_cpu)
