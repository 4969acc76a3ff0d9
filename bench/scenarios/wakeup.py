"""Scenario 5: how soon a message inserted into the outbox is sent, with a long interval.

The goal is PostgreSQL's: sent within 1 s even with ``outbox_interval = 30``. There the
insert's trigger (migration 0003) sends a notification, and the daemon's listener runs the
outbox job at once, or right after a drain already running; the interval is only the
fallback. SQLite has no LISTEN/NOTIFY, so there a message waits for the next tick. Measured:
``feedamp-sync run`` with that interval, a shipment inserted with plain SQL at a random
moment, and the time from the insert's commit to the message's ``sent_at``.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Final

from bench.context import Bench
from bench.daemon_process import (
    LIFTED,
    log_path,
    require_success,
    start_daemon,
    wait_for_event,
    write_config,
)
from bench.measure import run_once
from bench.processes import BenchError
from bench.results import Result, Row, Target
from bench.sandbox_process import SEED, SandboxProcess
from bench.workload import Database

TARGET_SECONDS: Final = 1.0
_POLL_SECONDS: Final = 0.02


def _wait_sent(database: Database, order_id: str, inserted: datetime, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = database.sent_at(order_id)
        if sent is not None:
            return (sent - inserted).total_seconds()
        time.sleep(_POLL_SECONDS)
    raise BenchError(f"the shipment of order {order_id} was not sent within {timeout:.0f} s")


def run(bench: Bench) -> list[Result]:
    directory = bench.directory("wakeup")
    samples, interval = bench.scale.wakeup_samples, bench.scale.wakeup_interval
    rng = random.Random(SEED)
    reactions: list[float] = []
    with (
        SandboxProcess(samples, directory, bench.root, name="sandbox") as sandbox,
        bench.database(directory) as url,
        Database(url) as database,
    ):
        setup = write_config(directory, url, sandbox.base_url, LIFTED, name="setup")
        run_once(sandbox, setup, directory, bench.root, "setup", 120)
        actions = database.shipments(samples)
        sections = {"jobs": {"outbox_interval": interval}}
        config = write_config(directory, url, sandbox.base_url, sections)
        daemon = start_daemon(config, directory, bench.root, "run", name="daemon")
        try:
            wait_for_event(log_path(directory, "daemon"), "daemon_started", daemon, 60)
            if bench.backend == "postgresql":
                wait_for_event(log_path(directory, "daemon"), "outbox_listening", daemon, 60)
            for order_id, body in actions:
                time.sleep(rng.uniform(0, interval))
                inserted = database.insert([(order_id, body)])
                reactions.append(_wait_sent(database, order_id, inserted, interval + 30))
            usage = daemon.stop(timeout=30)
        finally:
            daemon.kill_quietly()
        require_success(usage.exit_code, log_path(directory, "daemon"), "daemon")
    # The goal is PostgreSQL's (LISTEN/NOTIFY); SQLite has only polling, so no target there.
    listens = bench.backend == "postgresql"
    target = Target(TARGET_SECONDS, "at_most", "≤ 1 s") if listens else None
    return [
        Result(
            scenario="wakeup",
            title="5. Insert to send, `outbox_interval` long",
            backend=bench.backend,
            command=bench.command,
            rows=[
                Row("jobs.outbox_interval", interval, "s", digits=0),
                Row("messages inserted", len(reactions), "", digits=0),
                Row("insert → sent, mean", sum(reactions) / len(reactions), "s"),
                Row("insert → sent, slowest", max(reactions), "s", target),
            ],
            notes=[
                (
                    "Woken by LISTEN/NOTIFY: the insert's trigger notifies the daemon's "
                    "listener, which runs the outbox job at once; `outbox_interval` is only "
                    "the fallback."
                    if listens
                    else "Polling only (SQLite has no LISTEN/NOTIFY): a message waits for the "
                    "next outbox tick, so the delay is spread evenly between 0 and "
                    "`outbox_interval` (half of it on average)."
                ),
                "Each shipment is inserted at a random moment (0 to `outbox_interval` after "
                "the previous one was sent); the delay ends at the row's `sent_at`.",
            ],
        )
    ]
