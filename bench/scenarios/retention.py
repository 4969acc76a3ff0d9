"""Scenario 7: pruning a large outbox while the daemon keeps pushing.

A database holds many sent messages from two months ago, each with its attempt, beside the
daemon's recent work. The daemon (``run --once``, rate limits lifted, its own retention off)
pushes a set of fulfillments alone, then as many again while ``feedamp-sync db prune`` runs
in a second process at the default settings, as another instance's prune job would. Push
throughput is compared between the two runs (first to last request, the work itself), and
the prune's longest batch transaction is the longest any row lock it took was held: the
longest a claim or a result of the daemon could have waited for it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Final

from bench.context import Bench
from bench.daemon_process import (
    LIFTED,
    events,
    log_path,
    require_success,
    start_daemon,
    timestamp,
    write_config,
)
from bench.measure import Measured, run_once
from bench.processes import BenchError
from bench.results import Result, Row, Target
from bench.sandbox_process import SandboxProcess
from bench.workload import Database
from feedamp_sync.settings import RetentionSettings

TARGET_RATIO: Final = 0.9
OUTBOX_TABLES: Final = ("feedamp_outbox", "feedamp_outbox_attempts")
"""The tables whose old rows the scenario plants (its messages make no events)."""
LONGEST_BATCH_SECONDS: Final = 1.0
AGE_DAYS: Final = 60
_MIN_RATE: Final = 50.0
"""Items per second below which a run is declared stuck (bounds every wait)."""


def run(bench: Bench) -> list[Result]:
    scale = bench.scale
    pushes, old = scale.retention_pushes, scale.retention_messages
    directory = bench.directory("retention")
    timeout = 120 + (2 * pushes + old) / _MIN_RATE
    with (
        SandboxProcess(2 * pushes, directory, bench.root, name="sandbox") as sandbox,
        bench.database(directory) as url,
        Database(url) as database,
    ):
        config = write_config(
            directory, url, sandbox.base_url, {**LIFTED, "retention": {"enabled": False}}
        )
        # First the months-old messages (their ids before today's, as they would be), then
        # today's orders and confirms.
        database.old_sent(old, datetime.now(UTC) - timedelta(days=AGE_DAYS))
        ingest = start_daemon(config, directory, bench.root, "run", "--once", name="ingest")
        require_success(ingest.wait(timeout).exit_code, log_path(directory, "ingest"), "ingest")
        actions = database.shipments(2 * pushes)
        database.insert(actions[:pushes])
        alone = run_once(sandbox, config, directory, bench.root, "push-alone", timeout)
        database.insert(actions[pushes:])
        prune_started = time.time()
        pruner = start_daemon(config, directory, bench.root, "db", "prune", "--json", name="prune")
        push_started = time.time()
        during = run_once(sandbox, config, directory, bench.root, "push-while-pruning", timeout)
        push_ended = time.time()
        prune_log = log_path(directory, "prune")
        require_success(pruner.wait(timeout).exit_code, prune_log, "db prune")
        [pruned] = events(prune_log, "pruned")
        if database.statuses("fulfillment") != {"sent": 2 * pushes}:
            raise BenchError(f"pushes not all sent: {database.statuses('fulfillment')}")
        outbox = {name: pruned["deleted"].get(name) for name in OUTBOX_TABLES}
        if outbox != dict.fromkeys(OUTBOX_TABLES, old):
            raise BenchError(f"db prune deleted {pruned['deleted']}, expected {old} of each")
    prune_ended = timestamp(pruned)
    overlap = min(prune_ended, push_ended) - max(prune_started, push_started)
    share = max(0.0, overlap) / (push_ended - push_started)
    return [_result(bench, pushes, old, alone, during, pruned, prune_ended - prune_started, share)]


def _result(
    bench: Bench,
    pushes: int,
    old: int,
    alone: Measured,
    during: Measured,
    pruned: dict[str, object],
    prune_seconds: float,
    share: float,
) -> Result:
    ratio = during.per_span_second(pushes) / alone.per_span_second(pushes)
    whole = during.per_second(pushes) / alone.per_second(pushes)
    longest = float(str(pruned["longest_batch_seconds"]))
    batch_size = RetentionSettings().batch_size
    return Result(
        scenario="retention",
        title="7. Pruning a large outbox while pushing",
        backend=bench.backend,
        command=bench.command,
        rows=[
            Row("old sent messages, each with one attempt", old, "", digits=0),
            Row("fulfillments pushed in each run", pushes, "", digits=0),
            Row("push alone, first → last request", alone.per_span_second(pushes), "messages/s"),
            Row(
                "push while pruning, first → last request",
                during.per_span_second(pushes),
                "messages/s",
            ),
            Row(
                "ratio, first → last request",
                ratio,
                "x",
                Target(TARGET_RATIO, "at_least", f"≥ {TARGET_RATIO} x pushing alone"),
            ),
            Row("ratio, whole process", whole, "x"),
            Row("share of the pushing run with the prune running", 100 * share, "%", digits=0),
            Row("db prune, whole process", prune_seconds, "s"),
            Row("messages pruned per second", old / prune_seconds, "messages/s", digits=0),
            Row("prune batches", float(str(pruned["batches"])), "", digits=0),
            Row(
                "longest prune batch transaction",
                longest,
                "s",
                Target(LONGEST_BATCH_SECONDS, "at_most", f"≤ {LONGEST_BATCH_SECONDS:g} s"),
            ),
        ],
        notes=[
            f"`db prune` at the default `retention.batch_size` ({batch_size}) and 30 days, "
            f"on messages {AGE_DAYS} days old, started with the second push; the daemon with "
            "its rate limits lifted and its own retention off.",
            "The longest batch transaction is timed around the whole transaction (its "
            "connection, the select that locks the batch, both deletes, the commit): no row "
            "lock of the prune is held longer, so no claim or result of the daemon waits "
            "longer on it.",
        ],
    )
