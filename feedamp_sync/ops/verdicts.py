"""Pure decisions: is the daemon alive (``/healthz``, the systemd watchdog), is it ready
(``/readyz``, the container healthcheck)?

*Alive* means every scheduled job still ticks: an idle job has finished a tick recently, and
a running tick keeps making API requests. A job waiting for a worker of the accounts' bounded
pool is alive: it waits for the running ticks, each of which is judged on its own, so a
hung pool shows as its hung ticks. The bound is ``STALL_INTERVALS`` intervals plus an
allowance for one slow API call (the time a healthy tick may spend in a single call without
any attempt ending), so a long backlog drained page by page or message by message is never
mistaken for a hang, while a tick stuck on a lock or a dead connection is.

*Ready* means the daemon is doing its job: the database answers, every job's last success is
younger than ``READY_INTERVALS`` of its intervals (or its tick is running and FeedAMP has
answered it successfully within that time), and no account is refused by FeedAMP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from feedamp_sync.ops.activity import AccountActivity
from feedamp_sync.ops.ticks import JobTicks

STALL_INTERVALS: Final = 3
READY_INTERVALS: Final = 3
OK: Final = "ok"


@dataclass(frozen=True)
class Verdict:
    """Every check by name, with ``"ok"`` or what is wrong; ``notes`` are things an operator
    should look at that do not make the daemon unready (orders held in quarantine)."""

    checks: Mapping[str, str]
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(result == OK for result in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        failed = {name: result for name, result in self.checks.items() if result != OK}
        shown: dict[str, Any] = {"ok": self.ok, "failed": failed, "checks": dict(self.checks)}
        return shown | ({"notes": dict(self.notes)} if self.notes else {})


def quarantine_note(open_counts: Mapping[str, int]) -> dict[str, str]:
    """The note on objects held in quarantine, or none when nothing is held."""
    held = {kind: count for kind, count in open_counts.items() if count}
    if not held:
        return {}
    listed = ", ".join(f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in held.items())
    return {"quarantine": f"{listed} held: see `feedamp-sync quarantine list`"}


def cancellation_note(cancelled: Mapping[str, int]) -> dict[str, str]:
    """The note on confirmed orders cancelled since, or none when there is none."""
    total = sum(cancelled.values())
    if not total:
        return {}
    return {
        "cancelled_after_confirm": f"{total} confirmed order(s) cancelled since: "
        "see `feedamp-sync orders list --state CANCELLED`"
    }


def job_accounts(job_id: str, accounts: Iterable[str]) -> list[str]:
    """The accounts a job works for: ``orders:main`` for ``main``; ``outbox`` for all."""
    _, sep, account = job_id.partition(":")
    return [account] if sep else list(accounts)


def stall_seconds(interval: float, call_allowance: float) -> float:
    return STALL_INTERVALS * interval + call_allowance


def liveness(
    jobs: Mapping[str, JobTicks],
    activity: Mapping[str, AccountActivity],
    *,
    now: float,
    scheduler_running: bool,
    call_allowance: float,
) -> Verdict:
    """Alive: the scheduler runs and no job is stalled (``now`` is ``time.monotonic()``)."""
    checks = {"scheduler": OK if scheduler_running else "not running"}
    for job_id, ticks in jobs.items():
        bound = stall_seconds(ticks.interval, call_allowance)
        if ticks.running_since is None and ticks.waiting_since is not None:
            checks[f"job {job_id}"] = OK
            continue
        if ticks.running_since is None:
            idle = now - ticks.last_finished
            checks[f"job {job_id}"] = (
                OK
                if idle <= bound
                else f"no tick has finished for {idle:.1f} s (bound {bound:g} s)"
            )
            continue
        signs = [ticks.running_since]
        for account in job_accounts(job_id, activity):
            if (seen := activity.get(account)) is not None and seen.last_attempt is not None:
                signs.append(seen.last_attempt)
        quiet = now - max(signs)
        checks[f"job {job_id}"] = (
            OK
            if quiet <= bound
            else f"tick running {now - ticks.running_since:.1f} s, no API request has ended "
            f"for {quiet:.1f} s (bound {bound:g} s)"
        )
    return Verdict(checks)


def readiness(
    jobs: Mapping[str, JobTicks],
    activity: Mapping[str, AccountActivity],
    last_success: Mapping[str, datetime | None],
    *,
    now: datetime,
    database_error: str | None,
) -> Verdict:
    """Ready: database reachable, every job recently successful, no account refused.

    ``last_success`` is each job's last recorded success (the sync-state table, shared by
    every instance on the database); ``now`` is aware UTC.
    """
    if database_error is not None:
        return Verdict({"database": f"unreachable: {database_error}"})
    checks = {"database": OK}
    for job_id, ticks in jobs.items():
        window = READY_INTERVALS * ticks.interval
        success = last_success.get(job_id)
        if ticks.running_since is not None:
            answered = [
                seen.last_success_at
                for account in job_accounts(job_id, activity)
                if (seen := activity.get(account)) is not None and seen.last_success_at
            ]
            success = max([*answered, success] if success else answered, default=None)
        if success is None:
            checks[f"job {job_id}"] = "has not succeeded yet"
            continue
        age = (now - success).total_seconds()
        checks[f"job {job_id}"] = (
            OK
            if age <= window
            else f"last success {age:.1f} s ago, more than {READY_INTERVALS} intervals "
            f"({window:g} s)"
        )
    for account, seen in sorted(activity.items()):
        checks[f"account {account}"] = seen.auth_problem or OK
    return Verdict(checks)
