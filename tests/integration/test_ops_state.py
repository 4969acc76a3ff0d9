"""What the database tells /metrics and /readyz: job times, backlog, reachability."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from sqlalchemy import Engine

from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.sync_state import GLOBAL_ACCOUNT, SyncStateStore
from feedamp_sync.ops.activity import ApiActivity
from feedamp_sync.ops.health import Health
from feedamp_sync.ops.metrics import Metrics, StateCollector
from feedamp_sync.ops.ticks import JobMonitor
from feedamp_sync.quarantine import held

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def unreachable_engine(unreachable_database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(unreachable_database_url, pool_size=1)
    yield engine
    engine.dispose()


def metrics_on(engine: Engine) -> Metrics:
    metrics = Metrics()
    metrics.registry.register(StateCollector(engine, ApiActivity().snapshot, lambda: NOW))
    return metrics


def health_on(engine: Engine, jobs: dict[str, float]) -> Health:
    monitor = JobMonitor()
    for job_id, interval in jobs.items():
        monitor.register(job_id, interval)
    return Health(
        engine,
        monitor,
        ApiActivity(),
        scheduler_running=lambda: True,
        call_allowance=0,
        clock=lambda: NOW,
    )


def test_job_success_times_are_exported_per_job_and_account(engine: Engine) -> None:
    """The outbox (every account) has an empty account label."""
    state = SyncStateStore(engine)
    state.succeeded("main", "orders", NOW)
    state.succeeded(GLOBAL_ACCOUNT, "outbox", NOW - timedelta(seconds=10))
    registry = metrics_on(engine).registry
    name = "feedamp_sync_job_last_success_timestamp_seconds"
    assert registry.get_sample_value(name, {"job": "orders", "account": "main"}) == NOW.timestamp()
    assert registry.get_sample_value(name, {"job": "outbox", "account": ""}) == (
        NOW.timestamp() - 10
    )


def test_a_reachable_database_is_up(engine: Engine) -> None:
    """database_up is 1 when the scrape's queries succeed."""
    assert metrics_on(engine).registry.get_sample_value("feedamp_sync_database_up") == 1


def test_an_unreachable_database_is_down_and_the_scrape_still_answers(
    unreachable_engine: Engine,
) -> None:
    """A database that cannot be opened gives database_up 0, not a failed scrape."""
    metrics = metrics_on(unreachable_engine)
    assert metrics.registry.get_sample_value("feedamp_sync_database_up") == 0


def test_an_unreachable_database_is_logged_with_the_drivers_reason_on_one_line(
    unreachable_engine: Engine,
) -> None:
    """The scrape's warning carries the reason, never the statement or a second line."""
    with structlog.testing.capture_logs() as logs:
        metrics_on(unreachable_engine).render()
    [warning] = [e for e in logs if e["event"] == "metrics_database_unreachable"]
    assert warning["error"].startswith("(")
    assert "\n" not in warning["error"]


def test_readiness_reads_job_success_from_the_sync_state(engine: Engine) -> None:
    """Jobs recorded within three intervals are ready, under the names `status` uses."""
    state = SyncStateStore(engine)
    state.succeeded("main", "orders", NOW - timedelta(seconds=2))
    state.succeeded(GLOBAL_ACCOUNT, "outbox", NOW - timedelta(seconds=1))
    verdict = health_on(engine, {"orders:main": 1, "outbox": 1}).readiness()
    assert verdict.ok, verdict.checks


def test_readiness_names_a_stale_job(engine: Engine) -> None:
    """An orders poll last successful a minute ago with a 5 s interval is not ready."""
    SyncStateStore(engine).succeeded("main", "orders", NOW - timedelta(minutes=1))
    verdict = health_on(engine, {"orders:main": 5}).readiness()
    assert verdict.as_json()["failed"] == {
        "job orders:main": "last success 60.0 s ago, more than 3 intervals (15 s)"
    }


def test_readiness_fails_on_an_unreachable_database(unreachable_engine: Engine) -> None:
    """The database check fails with the driver's reason, on one line."""
    verdict = health_on(unreachable_engine, {"outbox": 1}).readiness()
    assert verdict.checks["database"].startswith("unreachable: (")
    assert "\n" not in verdict.checks["database"]


def hold_one_order(engine: Engine) -> None:
    QuarantineStore(engine).settle(
        "main",
        "order",
        [held({"id": ""}, "id: '' is not a usable id")],
        stored_ids=[],
        page_cursor=None,
        now=NOW,
    )


def test_held_orders_are_counted_by_kind_in_the_metrics(engine: Engine) -> None:
    """feedamp_sync_quarantined counts open entries per kind, zero included."""
    hold_one_order(engine)
    registry = metrics_on(engine).registry
    assert registry.get_sample_value("feedamp_sync_quarantined", {"kind": "order"}) == 1
    assert registry.get_sample_value("feedamp_sync_quarantined", {"kind": "return"}) == 0


def test_readiness_notes_held_orders_without_failing(engine: Engine) -> None:
    """A held order is for an operator to look at; the daemon itself is still ready."""
    SyncStateStore(engine).succeeded("main", "orders", NOW)
    hold_one_order(engine)
    verdict = health_on(engine, {"orders:main": 60}).readiness()
    assert verdict.ok
    assert verdict.as_json()["notes"] == {
        "quarantine": "1 order held: see `feedamp-sync quarantine list`"
    }
