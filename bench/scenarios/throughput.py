"""Scenario 2: with the rate limits lifted, the daemon against a bare httpx client.

Two sandboxes with the same seeded backlog: one for the bare client (``bench.baseline``),
one for ``feedamp-sync run --once``. Each lists every page and confirms every order at the
outbox's default concurrency; then each pushes the same shipments (one per order, the
daemon's inserted into its outbox with plain SQL). Each run is timed as a whole process
(spawn to exit) and by the sandbox's arrival times of its first and last request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from bench.context import Bench
from bench.daemon_process import LIFTED, write_config
from bench.measure import Measured, baseline, run_once
from bench.processes import BenchError
from bench.results import Result, Row, Target
from bench.sandbox_process import SandboxProcess
from bench.workload import Database
from feedamp_sync.settings import ApiSettings, OutboxSettings

TARGET_RATIO: Final = 0.9
_MIN_RATE: Final = 50.0
"""Items per second below which a run is declared stuck (bounds every wait)."""


@dataclass(frozen=True)
class Comparison:
    """The bare client and the daemon, each confirming a backlog and pushing shipments."""

    scenario: str
    concurrency: int
    orders: int
    pushes: int
    confirm_base: Measured
    confirm_daemon: Measured
    push_base: Measured
    push_daemon: Measured


def run(bench: Bench) -> list[Result]:
    compared = compare(
        bench, "throughput", bench.scale.throughput_orders, bench.scale.push_messages
    )
    target = Target(TARGET_RATIO, "at_least", f"≥ {TARGET_RATIO} x bare httpx")
    return results(bench, compared, "limits lifted", target)


def compare(
    bench: Bench, name: str, orders: int, pushes: int, faults: dict[str, Any] | None = None
) -> Comparison:
    """Both clients against sandboxes answering with ``faults`` (none: as fast as they can)."""
    directory = bench.directory(name)
    concurrency = OutboxSettings().concurrency
    timeout = 120 + max(orders, pushes) / _MIN_RATE
    common = [f"--concurrency={concurrency}"]
    with (
        SandboxProcess(orders, directory, bench.root, name="sandbox-httpx") as plain,
        SandboxProcess(orders, directory, bench.root, name="sandbox-daemon") as served,
        bench.database(directory) as url,
        Database(url) as database,
    ):
        if faults:
            plain.set_faults(faults)
            served.set_faults(faults)
        config = write_config(directory, url, served.base_url, LIFTED)
        confirm_base = baseline(
            plain,
            directory,
            bench.root,
            "httpx-confirm",
            ["confirm", *common, f"--page-size={ApiSettings().page_size}"],
            timeout,
        )
        confirm_daemon = run_once(served, config, directory, bench.root, "daemon-confirm", timeout)
        if database.confirmed() != orders or served.summary()["orders"]["confirmed"] != orders:
            raise BenchError(f"not every one of {orders} orders was confirmed once")
        actions = database.shipments(pushes)
        payloads = directory / "shipments.json"
        payloads.write_text(json.dumps(actions))
        push_base = baseline(
            plain,
            directory,
            bench.root,
            "httpx-push",
            ["fulfill", *common, f"--payloads={payloads}"],
            timeout,
        )
        database.insert(actions)
        push_daemon = run_once(served, config, directory, bench.root, "daemon-push", timeout)
        if database.statuses("fulfillment") != {"sent": pushes}:
            raise BenchError(f"pushes not all sent: {database.statuses('fulfillment')}")
    return Comparison(
        name, concurrency, orders, pushes, confirm_base, confirm_daemon, push_base, push_daemon
    )


def results(
    bench: Bench, compared: Comparison, condition: str, target: Target | None
) -> list[Result]:
    """The confirm (2a) and push (2b) tables, titled with the ``condition`` they ran under."""
    confirmed = _result(
        bench, compared, f"2a. Ingest and confirm, {condition}", compared.orders, "orders",
        compared.confirm_base, compared.confirm_daemon, target,
    )  # fmt: skip
    pushed = _result(
        bench, compared, f"2b. Push outbox messages (fulfillments), {condition}",
        compared.pushes, "messages", compared.push_base, compared.push_daemon, target,
    )  # fmt: skip
    return [confirmed, pushed]


def _result(
    bench: Bench,
    compared: Comparison,
    title: str,
    items: int,
    unit: str,
    base: Measured,
    daemon: Measured,
    target: Target | None,
) -> Result:
    whole = daemon.per_second(items) / base.per_second(items)
    working = daemon.per_span_second(items) / base.per_span_second(items)
    return Result(
        scenario=compared.scenario,
        title=title,
        backend=bench.backend,
        command=bench.command,
        rows=[
            Row(unit, items, "", digits=0),
            Row("bare httpx, whole process", base.per_second(items), f"{unit}/s"),
            Row("feedamp-sync run --once, whole process", daemon.per_second(items), f"{unit}/s"),
            Row("ratio, whole process", whole, "x", target),
            Row("bare httpx, first → last request", base.per_span_second(items), f"{unit}/s"),
            Row("run --once, first → last request", daemon.per_span_second(items), f"{unit}/s"),
            Row("ratio, first → last request", working, "x"),
            Row("requests the sandbox saw, bare httpx", base.requests, "", digits=0),
            Row("requests the sandbox saw, run --once", daemon.requests, "", digits=0),
            Row("daemon CPU busy", daemon.client_busy, "cores"),
            Row("bare httpx CPU busy", base.client_busy, "cores"),
            Row("sandbox CPU busy during the daemon's run", daemon.sandbox_busy, "cores"),
            Row("sandbox CPU busy during the httpx run", base.sandbox_busy, "cores"),
            Row("daemon peak RSS", daemon.usage.max_rss_mib, "MiB", digits=0),
        ],
        notes=[
            f"Both clients at concurrency {compared.concurrency} (the default "
            "`outbox.concurrency`); the daemon with `api.list_rate_per_second` and "
            "`api.rate_per_second` = 1e6.",
            "The sandbox is one Python process: at about 1.0 core busy it is the ceiling, "
            "for both clients alike.",
        ],
    )
