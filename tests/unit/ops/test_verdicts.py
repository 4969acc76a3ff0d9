"""Pure liveness and readiness decisions: stalls, stale jobs, refused accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedamp_sync.ops.activity import PASSWORD_REFUSED, AccountActivity
from feedamp_sync.ops.ticks import JobTicks
from feedamp_sync.ops.verdicts import (
    OK,
    Verdict,
    job_accounts,
    liveness,
    quarantine_note,
    readiness,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ALLOWANCE = 10.0


def alive(
    jobs: dict[str, JobTicks], activity: dict[str, AccountActivity] | None = None, now: float = 100
) -> dict[str, str]:
    verdict = liveness(
        jobs, activity or {}, now=now, scheduler_running=True, call_allowance=ALLOWANCE
    )
    return dict(verdict.checks)


def ready(
    jobs: dict[str, JobTicks],
    last_success: dict[str, datetime | None],
    activity: dict[str, AccountActivity] | None = None,
) -> dict[str, str]:
    verdict = readiness(jobs, activity or {}, last_success, now=NOW, database_error=None)
    return dict(verdict.checks)


def test_a_job_account_comes_from_its_id() -> None:
    """``orders:main`` works for main; a job without an account works for all of them."""
    assert job_accounts("orders:main", ["main", "eu"]) == ["main"]
    assert job_accounts("outbox", ["main", "eu"]) == ["main", "eu"]


def test_an_idle_job_that_ticked_within_its_bound_is_alive() -> None:
    """Three intervals plus the call allowance have not passed since the last tick ended."""
    checks = alive({"orders:main": JobTicks(interval=5, last_finished=100 - 24.9)})
    assert checks["job orders:main"] == "ok"


def test_an_idle_job_past_its_bound_is_stalled() -> None:
    """No tick ended for longer than 3 x 5 s + 10 s: the scheduler no longer runs it."""
    checks = alive({"orders:main": JobTicks(interval=5, last_finished=100 - 25.1)})
    assert checks["job orders:main"].startswith("no tick has finished for 25.1 s")


def test_a_long_tick_that_keeps_making_requests_is_alive() -> None:
    """A backlog drained for minutes is work, not a hang, while API attempts keep ending."""
    jobs = {"outbox": JobTicks(interval=1, last_finished=0, running_since=10)}
    activity = {"main": AccountActivity(last_attempt=99)}
    assert alive(jobs, activity)["job outbox"] == "ok"


def test_a_tick_with_no_request_ending_past_its_bound_is_stalled() -> None:
    """A tick stuck on a lock or a dead connection stops the watchdog pings."""
    jobs = {"outbox": JobTicks(interval=1, last_finished=0, running_since=10)}
    activity = {"main": AccountActivity(last_attempt=50)}
    assert "no API request has ended for 50.0 s" in alive(jobs, activity)["job outbox"]


def test_another_account_requests_do_not_keep_a_stuck_tick_alive() -> None:
    """An account's poller is judged by its own account's traffic only."""
    jobs = {"orders:main": JobTicks(interval=1, last_finished=0, running_since=10)}
    activity = {"eu": AccountActivity(last_attempt=99)}
    assert alive(jobs, activity)["job orders:main"] != "ok"


def test_a_stopped_scheduler_is_not_alive() -> None:
    """With the scheduler stopped nothing will tick again."""
    verdict = liveness({}, {}, now=0, scheduler_running=False, call_allowance=ALLOWANCE)
    assert (verdict.ok, verdict.checks["scheduler"]) == (False, "not running")


def test_a_job_that_succeeded_within_three_intervals_is_ready() -> None:
    """Last success 2.9 s ago with a 1 s interval."""
    jobs = {"orders:main": JobTicks(interval=1, last_finished=0)}
    checks = ready(jobs, {"orders:main": NOW - timedelta(seconds=2.9)})
    assert checks["job orders:main"] == "ok"


def test_a_job_whose_last_success_is_older_than_three_intervals_is_unready() -> None:
    """The failed check names the job, the age and the window."""
    jobs = {"orders:main": JobTicks(interval=1, last_finished=0)}
    checks = ready(jobs, {"orders:main": NOW - timedelta(seconds=3.5)})
    assert checks["job orders:main"] == "last success 3.5 s ago, more than 3 intervals (3 s)"


def test_a_job_that_never_succeeded_is_unready() -> None:
    """No row in the sync state yet: the daemon has not proven it works."""
    jobs = {"outbox": JobTicks(interval=1, last_finished=0)}
    assert ready(jobs, {})["job outbox"] == "has not succeeded yet"


def test_a_running_tick_answered_by_feedamp_counts_as_fresh() -> None:
    """A long drain whose requests succeed keeps the outbox ready."""
    jobs = {"outbox": JobTicks(interval=1, last_finished=0, running_since=1)}
    activity = {"main": AccountActivity(last_success_at=NOW - timedelta(seconds=1))}
    checks = ready(jobs, {"outbox": NOW - timedelta(minutes=5)}, activity)
    assert checks["job outbox"] == "ok"


def test_a_running_tick_without_successful_answers_is_stale() -> None:
    """A poller retrying against a FeedAMP that is down does not count as succeeding."""
    jobs = {"orders:main": JobTicks(interval=1, last_finished=0, running_since=1)}
    activity = {"main": AccountActivity(last_success_at=NOW - timedelta(seconds=30))}
    checks = ready(jobs, {"orders:main": NOW - timedelta(seconds=30)}, activity)
    assert checks["job orders:main"].startswith("last success 30.0 s ago")


def test_an_account_refused_by_feedamp_is_unready() -> None:
    """The refused account is named with the reason."""
    activity = {"main": AccountActivity(auth_problem=PASSWORD_REFUSED)}
    assert ready({}, {}, activity)["account main"] == PASSWORD_REFUSED


def test_an_unreachable_database_is_unready_with_the_reason() -> None:
    """The database check carries the driver's first line."""
    verdict = readiness({}, {}, {}, now=NOW, database_error="connection refused")
    assert verdict.as_json() == {
        "ok": False,
        "failed": {"database": "unreachable: connection refused"},
        "checks": {"database": "unreachable: connection refused"},
    }


def test_the_json_lists_only_failed_checks_under_failed() -> None:
    """A consumer reads ``failed`` to see what to fix."""
    jobs = {"outbox": JobTicks(interval=1, last_finished=0)}
    verdict = readiness(jobs, {}, {}, now=NOW, database_error=None)
    assert verdict.as_json()["failed"] == {"job outbox": "has not succeeded yet"}


def test_held_objects_make_a_note_not_a_failure() -> None:
    """Orders in quarantine are named in the notes; ok stays true."""
    verdict = Verdict({"database": OK}, notes=quarantine_note({"order": 2, "return": 1}))
    assert verdict.as_json() == {
        "ok": True,
        "failed": {},
        "checks": {"database": OK},
        "notes": {"quarantine": "2 orders, 1 return held: see `feedamp-sync quarantine list`"},
    }


def test_nothing_held_makes_no_note() -> None:
    """An empty quarantine adds nothing to the answer."""
    assert quarantine_note({"order": 0, "return": 0}) == {}
