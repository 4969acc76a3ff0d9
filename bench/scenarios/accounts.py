"""Scenario 9: many accounts in one daemon, each at its own default limits.

One sandbox process serves ``accounts`` accounts (``/accounts/shop-000``..., client ids 1
to ``accounts``), each with ``accounts_orders`` new orders. One ``feedamp-sync run``, every
setting at its default, reads the accounts from an ``accounts_file`` and stores and
confirms every order. Timed from the first request the sandbox saw to the last confirm it
accepted, against the ideal the per-account limits allow: the accounts run side by side,
and one account needs a token and one confirm per order on its ``api.rate_per_second``
limiter (5/s), the last of them starting ``orders / rate`` seconds after the first (its one
list page, on the other limiter, goes between). The daemon's CPU and threads are sampled
while it works.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.context import Bench
from bench.daemon_process import log_path, require_success, start_daemon, write_accounts_config
from bench.processes import BenchError, Child, cpu_seconds
from bench.results import Result, Row, Target
from bench.sandbox_process import SandboxProcess
from bench.scenarios.ingest import CpuSamples, cpu_between
from bench.workload import Database
from feedamp_sync.sandbox.tenants import account_name
from feedamp_sync.settings import ApiSettings, JobSettings, OutboxSettings

TARGET_RATIO: Final = 0.9
_SAMPLE_SECONDS: Final = 0.1


@dataclass(frozen=True)
class Sampled:
    daemon_cpu: CpuSamples
    sandbox_cpu: CpuSamples
    threads: int
    """The most threads the daemon had at once."""


def _threads(pid: int) -> int:
    """The process's threads now (0 once it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def _wait_confirmed(
    database: Database, total: int, daemon: Child, sandbox: SandboxProcess, timeout: float
) -> Sampled:
    """Wait until every order is confirmed, sampling CPU and threads meanwhile."""
    daemon_cpu: CpuSamples = []
    sandbox_cpu: CpuSamples = []
    threads = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not daemon.exited():
        now = time.time()
        daemon_cpu.append((now, cpu_seconds(daemon.pid)))
        sandbox_cpu.append((now, sandbox.cpu_seconds()))
        threads = max(threads, _threads(daemon.pid))
        if database.confirmed() == total:
            return Sampled(daemon_cpu, sandbox_cpu, threads)
        time.sleep(_SAMPLE_SECONDS)
    raise BenchError(f"{database.confirmed()} of {total} orders confirmed in {timeout:.0f} s")


def run(bench: Bench) -> list[Result]:
    directory = bench.directory("accounts")
    count, orders = bench.scale.accounts, bench.scale.accounts_orders
    total = count * orders
    names = [account_name(index) for index in range(count)]
    rate = ApiSettings().rate_per_second
    ideal = orders / rate
    with (
        SandboxProcess(orders, directory, bench.root, name="sandbox", accounts=count) as sandbox,
        bench.database(directory) as url,
        Database(url) as database,
    ):
        config = write_accounts_config(
            directory, url, {name: sandbox.account_url(name) for name in names}, {}
        )
        daemon = start_daemon(config, directory, bench.root, "run", name="daemon")
        try:
            # Bounded by one account's rate for the whole run: the least many accounts get.
            sampled = _wait_confirmed(database, total, daemon, sandbox, 120 + total / rate)
            usage = daemon.stop(timeout=60)
        finally:
            daemon.kill_quietly()
        require_success(usage.exit_code, log_path(directory, "daemon"), "daemon")
        ledgers = {name: sandbox.ledger(account=name) for name in names}
    firsts = {name: min(float(e["at"]) for e in entries) for name, entries in ledgers.items()}
    lasts = {
        name: max(float(e["at"]) for e in entries if e["endpoint"] == "confirm")
        for name, entries in ledgers.items()
    }
    confirms = sum(1 for entries in ledgers.values() for e in entries if e["endpoint"] == "confirm")
    if confirms != total:
        raise BenchError(f"the sandbox saw {confirms} confirms for {total} orders")
    first, last = min(firsts.values()), max(lasts.values())
    seconds = last - first
    spans = [lasts[name] - firsts[name] for name in names]
    cpu = cpu_between(sampled.daemon_cpu, first, last)
    sandbox_cpu = cpu_between(sampled.sandbox_cpu, first, last)
    target = Target(TARGET_RATIO, "at_least", f"≥ {TARGET_RATIO} x ideal")
    return [
        Result(
            scenario="accounts",
            title="9. Many accounts, each at its own default limits",
            backend=bench.backend,
            command=bench.command,
            rows=[
                Row("accounts", count, "", digits=0),
                Row("new orders per account", orders, "", digits=0),
                Row("orders stored and confirmed", total, "", digits=0),
                Row("ideal at the per-account limits", ideal, "s"),
                Row("first request → last confirm", seconds, "s"),
                Row("ideal / measured", ideal / seconds, "x", target),
                Row(
                    "one account, first request → last confirm, median",
                    statistics.median(spans),
                    "s",
                ),
                Row("one account, first request → last confirm, slowest", max(spans), "s"),
                Row("orders stored and confirmed per second", total / seconds, "orders/s"),
                Row("daemon CPU, first request → last confirm", cpu, "s"),
                Row("daemon CPU per order (stored and confirmed)", 1000 * cpu / total, "ms"),
                Row("daemon CPU busy", cpu / seconds, "cores"),
                Row("sandbox CPU busy", sandbox_cpu / seconds, "cores"),
                Row("daemon threads, most at once", sampled.threads, "", digits=0),
                Row("daemon peak RSS", usage.max_rss_mib, "MiB", digits=0),
            ],
            notes=[
                "Every setting at its default: `api.rate_per_second` "
                f"{rate:g}, `jobs.poll_concurrency` {JobSettings().poll_concurrency}, "
                f"`outbox.concurrency` {OutboxSettings().concurrency}; the accounts come "
                "from an `accounts_file`.",
                f"The ideal: an account's token and {orders} confirms on its own limiter at "
                f"{rate:g} requests/s, the last starting {orders} / {rate:g} = {ideal:g} s "
                "after the first; the accounts run side by side, so that is the whole run's "
                "ideal too.",
                "Both processes share the machine's cores: the daemon's CPU per order, and "
                "the sandbox's, bound the rate once the per-account limits no longer do.",
            ],
        )
    ]
