"""Counting the daemon's SQL per tick: which job a tick is, and which ticks a window holds."""

from __future__ import annotations

from bench.counted import job_of
from bench.scenarios.idle import per_tick


def test_job_is_the_last_positional_parameter() -> None:
    """SQLite's positional parameters end with the job of the tick-start update."""
    assert job_of(("2026-01-01", "2026-01-01", "*", "outbox")) == "outbox"


def test_job_is_the_named_job_parameter() -> None:
    """psycopg's named parameters carry the job under a ``job_N`` name."""
    assert job_of({"last_started_at": 1, "account_1": "main", "job_1": "orders"}) == "orders"


def test_window_keeps_the_ticks_that_started_inside_it() -> None:
    """Ticks before or after the window are left out; the rest are grouped by job."""
    ticks = [
        {"job": "outbox", "started": 9.0, "statements": 7},
        {"job": "outbox", "started": 10.0, "statements": 8},
        {"job": "orders", "started": 15.0, "statements": 11},
        {"job": "outbox", "started": 21.0, "statements": 8},
    ]
    assert per_tick(ticks, 10.0, 20.0) == {"outbox": [8], "orders": [11]}
