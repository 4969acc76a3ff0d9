"""Scenario 8: the refresh job's traffic while a backlog is ingested, at the default limits.

Thousands of confirmed orders are open and due for a refresh (their copies aged two hours)
when a backlog of new orders arrives. ``feedamp-sync run`` with the default configuration
ingests the backlog while the refresh job re-reads open orders on its own budget
(``refresh.rate_per_second = 1``). Measured from the sandbox's ledger: the ingest rate (timed
as scenario 1: first list request to the ``orders_pulled`` event), which must stay at least
95 % of the 400 orders/s the list limit allows, and the refresh reads per second meanwhile,
which must stay within their budget.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import update

from bench.context import Bench
from bench.daemon_process import LIFTED, log_path, start_daemon, write_config
from bench.measure import run_once
from bench.processes import BenchError
from bench.results import Result, Row, Target
from bench.sandbox_process import SandboxProcess
from bench.scenarios.ingest import API_LIMIT_ORDERS_PER_SECOND, TARGET_SHARE, wait_pulled
from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.settings import RefreshSettings

AGED: Final = timedelta(hours=2)
"""How old the open orders' copies are made: past ``refresh.every_seconds`` (one hour)."""


def _age_copies(url: str) -> int:
    """Date every stored order's copy two hours back, so each is due for a refresh."""
    engine = create_engine_for(url, pool_size=1)
    try:
        with engine.begin() as conn:
            aged = datetime.now(UTC) - AGED
            return conn.execute(update(t.orders).values(refreshed_at=aged)).rowcount
    finally:
        engine.dispose()


def _rate(starts: list[float]) -> float:
    """Requests per second between the first and the last: n starts span n - 1 intervals."""
    if len(starts) < 2:
        return 0.0
    return (len(starts) - 1) / (max(starts) - min(starts))


def run(bench: Bench) -> list[Result]:
    directory = bench.directory("refresh")
    open_orders, backlog = bench.scale.refresh_open_orders, bench.scale.refresh_backlog
    budget = RefreshSettings().rate_per_second
    with (
        SandboxProcess(open_orders, directory, bench.root, name="sandbox") as sandbox,
        bench.database(directory) as url,
    ):
        setup = write_config(
            directory,
            url,
            sandbox.base_url,
            {**LIFTED, "refresh": {"enabled": False}},
            name="setup",
        )
        run_once(sandbox, setup, directory, bench.root, "setup", 120 + open_orders / 50)
        aged = _age_copies(url)
        sandbox.add_orders(backlog)
        started = datetime.now(UTC).timestamp()
        config = write_config(directory, url, sandbox.base_url, {})
        daemon = start_daemon(config, directory, bench.root, "run", name="daemon")
        try:
            expected = backlog / API_LIMIT_ORDERS_PER_SECOND
            pulled, _ = wait_pulled(log_path(directory, "daemon"), daemon, 60 + 3 * expected)
            usage = daemon.stop(timeout=60)
        finally:
            daemon.kill_quietly()
        ledger = [entry for entry in sandbox.ledger() if float(entry["at"]) >= started]
    if pulled["new"] != backlog:
        raise BenchError(f"the ingest stored {pulled['new']} new orders, expected {backlog}")
    listed = [float(e["at"]) for e in ledger if e["endpoint"] == "new_orders"]
    first, stored = min(listed), datetime.fromisoformat(str(pulled["timestamp"])).timestamp()
    seconds = stored - first
    reads = [
        float(e["at"]) for e in ledger if e["endpoint"] == "get_order" and float(e["at"]) <= stored
    ]
    ingest_target = Target(
        TARGET_SHARE * API_LIMIT_ORDERS_PER_SECOND,
        "at_least",
        f"≥ {TARGET_SHARE * API_LIMIT_ORDERS_PER_SECOND:.0f} orders/s (95 % of 2 x 200)",
    )
    busiest = max((sum(1 for r in reads if s <= r < s + 1.0) for s in reads), default=0)
    return [
        Result(
            scenario="refresh",
            title="8. Refreshing open orders while a backlog is ingested, default limits",
            backend=bench.backend,
            command=bench.command,
            rows=[
                Row("open orders due for a refresh", aged, "", digits=0),
                Row("new orders ingested", backlog, "", digits=0),
                Row("first list request → last page stored", seconds, "s"),
                Row("ingest rate", backlog / seconds, "orders/s", ingest_target),
                Row("refresh reads meanwhile", len(reads), "", digits=0),
                Row(
                    "refresh reads per second meanwhile (first → last read)",
                    _rate(reads),
                    "requests/s",
                    Target(budget, "at_most", f"≤ {budget:g} (refresh.rate_per_second)"),
                ),
                Row("refresh reads arriving within one second, at most", busiest, "", digits=0),
                Row("daemon CPU, whole process", usage.cpu_seconds, "s"),
            ],
            notes=[
                "Default configuration; the open orders were stored and confirmed by a "
                "setup run with the limits lifted and refresh off, then their copies dated "
                "two hours back (`refresh.every_seconds` is one hour).",
                "`feedamp-sync run` is stopped with SIGTERM once every page is stored.",
                "Read rates are the sandbox's arrival times: a request held up on its way "
                "(a busy core) arrives closer to the next one than it was sent.",
            ],
        )
    ]
