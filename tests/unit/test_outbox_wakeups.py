"""Outbox wake-ups: a queued message runs the outbox job now, or right after the running tick.

The state machine is driven by hand with a fake kick; the APScheduler tests run it on a real
scheduler, whose refusal of a second instance is what it works around, and the last one on a
stand-in that ends a run inside its own locked processing, as APScheduler can. No test waits
to see that something does not happen: the job's interval is an hour, so a run that is not
kicked cannot come, and the kicks are counted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from feedamp_sync.outbox.wakeups import OutboxWakeups, scheduler_wakeups

WAIT_SECONDS = 10.0


class Kicks:
    """A fake kick that counts how often the scheduler was asked to run the job."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def idle() -> tuple[OutboxWakeups, Kicks]:
    kicks = Kicks()
    return OutboxWakeups(kicks), kicks


def test_a_request_while_idle_kicks_the_job() -> None:
    """Nothing running: the job is asked to run now."""
    wakeups, kicks = idle()
    wakeups.requested()
    assert kicks.count == 1


def test_a_burst_of_requests_kicks_once() -> None:
    """Requests before the kicked tick starts are all served by that one tick."""
    wakeups, kicks = idle()
    for _ in range(50):
        wakeups.requested()
    assert kicks.count == 1


def test_the_kicked_tick_serves_the_requests_before_its_start() -> None:
    """Requests, then the tick starts and finishes: no further tick."""
    wakeups, kicks = idle()
    wakeups.requested()
    wakeups.requested()
    wakeups.started()
    wakeups.finished()
    assert kicks.count == 1


def test_a_request_during_a_tick_kicks_exactly_once_after_it() -> None:
    """A message queued while a tick drains gets one more tick when this one has finished."""
    wakeups, kicks = idle()
    wakeups.started()
    wakeups.requested()
    wakeups.requested()
    assert kicks.count == 0
    wakeups.finished()
    assert kicks.count == 1
    wakeups.started()
    wakeups.finished()
    assert kicks.count == 1


def test_an_interval_tick_without_requests_kicks_nothing() -> None:
    """The polling fallback alone: ticks start and finish, nobody is kicked."""
    wakeups, kicks = idle()
    for _ in range(3):
        wakeups.started()
        wakeups.finished()
    assert kicks.count == 0


def test_after_a_tick_finished_a_new_request_kicks_again() -> None:
    """Back to idle after a finish: the next request kicks at once."""
    wakeups, kicks = idle()
    wakeups.requested()
    wakeups.started()
    wakeups.finished()
    wakeups.requested()
    assert kicks.count == 2


def test_a_missed_run_with_a_request_waiting_kicks_again() -> None:
    """A kicked run that APScheduler reports missed (it never started) is kicked again."""
    wakeups, kicks = idle()
    wakeups.requested()
    wakeups.finished()  # EVENT_JOB_MISSED: no start came before it
    assert kicks.count == 2
    wakeups.started()
    wakeups.finished()
    assert kicks.count == 2


def test_a_request_before_a_scheduled_tick_starts_is_served_by_it() -> None:
    """The kick is refused (the interval tick was already submitted), but that tick starts
    after the request and drains the message: no kick is owed when it finishes."""
    wakeups, kicks = idle()
    wakeups.requested()  # refused by max_instances: a tick was submitted, not yet started
    wakeups.started()
    wakeups.finished()
    assert kicks.count == 1
    wakeups.requested()
    assert kicks.count == 2


def test_a_request_between_an_early_start_and_a_late_finish_event_is_not_lost() -> None:
    """The next tick may start before the previous tick's end is dispatched; a request in
    between still gets a tick that starts after it."""
    wakeups, kicks = idle()
    wakeups.started()  # tick 1
    wakeups.started()  # tick 2 starts before tick 1's end event arrives
    wakeups.finished()  # tick 1's end: nothing pending, so "not running" while tick 2 runs
    wakeups.requested()  # kicks; APScheduler refuses it, tick 2 still runs
    assert kicks.count == 1
    wakeups.finished()  # tick 2's end: the request is still pending
    assert kicks.count == 2
    wakeups.started()
    wakeups.finished()
    assert kicks.count == 2


def test_a_lost_end_event_is_put_right_by_the_next_interval_tick() -> None:
    """Were a run's end never dispatched, requests wait for the next interval tick, whose start
    and end restore the state: the request after it kicks at once."""
    wakeups, kicks = idle()
    wakeups.requested()  # the kicked run's end never comes
    wakeups.requested()
    assert kicks.count == 1
    wakeups.started()  # the interval tick
    wakeups.finished()
    assert kicks.count == 1
    wakeups.requested()
    assert kicks.count == 2


def test_tick_marks_the_start_before_running() -> None:
    """The wrapped job starts the tick first, so its drain sees everything requested before."""
    wakeups, kicks = idle()
    wakeups.requested()
    wakeups.tick(wakeups.requested)()  # a request during the tick...
    wakeups.finished()
    assert kicks.count == 2  # ...is owed one more tick


class SlowJob:
    """A job that counts its runs and holds the first one until released."""

    def __init__(self) -> None:
        self.runs = 0
        self.first_running = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.runs += 1
        if self.runs == 1:
            self.first_running.set()
            self.release.wait(WAIT_SECONDS)


def wait_for(condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class CountedKicks:
    """A real scheduler as :func:`scheduler_wakeups` sees it, counting the kicks it gets, and
    telling when the wake-ups have handled a given number of the job's ends (listeners are
    called in the order they were added, on one thread, so this one runs after theirs)."""

    def __init__(self, scheduler: BackgroundScheduler) -> None:
        self.scheduler = scheduler
        self.kicks = 0
        self._ends = 0
        self._ended = threading.Condition()

    def add_listener(self, listener: Callable[[JobExecutionEvent], None], mask: int) -> None:
        self.scheduler.add_listener(listener, mask)
        self.scheduler.add_listener(self._count_end, mask)

    def modify_job(self, job_id: str, *, next_run_time: datetime) -> None:
        self.kicks += 1
        self.scheduler.modify_job(job_id, next_run_time=next_run_time)

    def _count_end(self, event: JobExecutionEvent) -> None:
        with self._ended:
            self._ends += 1
            self._ended.notify_all()

    def wait_for_ends(self, count: int) -> bool:
        """True once ``count`` ends were handled and every kick made by then has landed."""
        with self._ended:
            if not self._ended.wait_for(lambda: self._ends >= count, WAIT_SECONDS):
                return False
        for thread in threading.enumerate():
            if thread.name == "outbox-kick":
                thread.join(WAIT_SECONDS)
        return True


def scheduler_with(job: SlowJob) -> tuple[CountedKicks, OutboxWakeups]:
    scheduler = CountedKicks(
        BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    )
    wakeups = scheduler_wakeups(scheduler, "outbox")
    scheduler.scheduler.add_job(  # the daemon's misfire grace: a whole interval
        wakeups.tick(job), "interval", seconds=3600, misfire_grace_time=3600, id="outbox"
    )
    scheduler.scheduler.start()
    return scheduler, wakeups


def test_on_apscheduler_a_request_runs_the_job_at_once() -> None:
    """A kick makes a real scheduler run an interval job an hour early."""
    job = SlowJob()
    job.release.set()
    scheduler, wakeups = scheduler_with(job)
    try:
        wakeups.requested()
        assert wait_for(lambda: job.runs == 1)
    finally:
        scheduler.scheduler.shutdown(wait=True)


def test_on_apscheduler_a_request_during_a_run_gets_one_more_run() -> None:
    """A request while the job runs is not refused away: exactly one run follows it, and
    once that run has ended no kick is left to start a third."""
    job = SlowJob()
    scheduler, wakeups = scheduler_with(job)
    try:
        wakeups.requested()
        assert job.first_running.wait(WAIT_SECONDS)
        for _ in range(5):
            wakeups.requested()
        job.release.set()
        assert scheduler.wait_for_ends(2)
        assert (job.runs, scheduler.kicks) == (2, 2)
    finally:
        scheduler.scheduler.shutdown(wait=True)


def test_on_apscheduler_a_request_after_shutdown_is_ignored() -> None:
    """The listener may still wake the job while the daemon stops: no error."""
    job = SlowJob()
    scheduler, wakeups = scheduler_with(job)
    scheduler.scheduler.shutdown(wait=True)
    wakeups.requested()
    assert job.runs == 0


class ReentrantScheduler:
    """APScheduler 3 where it matters here: the end of a run that finished before its
    completion callback was attached is dispatched on the scheduler's own thread, inside its
    processing of due jobs, which holds the re-entrant job-store lock and then sets the job's
    next run time an interval ahead."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._listeners: list[Callable[[JobExecutionEvent], None]] = []
        self.next_run = "in an interval"
        self.moved = threading.Event()

    def add_listener(self, listener: Callable[[JobExecutionEvent], None], mask: int) -> None:
        self._listeners.append(listener)

    def modify_job(self, job_id: str, *, next_run_time: datetime) -> None:
        with self._lock:
            self.next_run = "now"
            self.moved.set()

    def process_due_jobs_ending_one_inline(self) -> None:
        with self._lock:
            ended = JobExecutionEvent(EVENT_JOB_EXECUTED, "outbox", "default", datetime.now(UTC))
            for listener in self._listeners:
                listener(ended)
            self.next_run = "in an interval"


def test_a_kick_made_while_the_scheduler_processes_jobs_lands_after_its_processing() -> None:
    """A request during a run that ends inside the scheduler's own processing still gets its
    run: the kick is not overwritten by the next run time the processing sets."""
    scheduler = ReentrantScheduler()
    wakeups = scheduler_wakeups(scheduler, "outbox")
    wakeups.requested()
    assert scheduler.moved.wait(WAIT_SECONDS)
    scheduler.moved.clear()
    wakeups.started()
    wakeups.requested()  # during the run
    scheduler.process_due_jobs_ending_one_inline()
    assert scheduler.moved.wait(WAIT_SECONDS)
    assert scheduler.next_run == "now"
