"""The accounts' periodic jobs on a bounded pool of threads.

Each (account, job) pair, such as ``orders:main``, is one :class:`Periodic`: its own interval,
never two passes at once. A daemon with 200 accounts has 400 of them; giving each a thread
(as one APScheduler job per pair on an executor sized to the accounts did) grows threads,
database connections held by job locks and memory with the accounts. Here one dispatcher
thread keeps the pairs in order of their next due time and hands a due pair to a pool of
``concurrency`` workers; a pair whose time comes while every worker is busy waits, in due
order, and runs as soon as one is free. A pair due again while it waits or runs is
coalesced into that one pass, never dropped: when a pass ends after its next due time, the
next one is due at once.

This replaces APScheduler for these jobs (it still runs the global ones, the outbox with its
wake-ups), because on a capped executor APScheduler counts a run from its submission, not its
start: a run waiting for a worker makes every later due time a skipped run
(``max_instances``) logged as a warning, or a missed one once it waits past the misfire
grace, and its events may arrive before or after the run itself, so the health supervisor
could not tell waiting from hung. Here the dispatcher marks a pair as waiting before it hands
it over, in order, and a worker marks its start and end (:class:`JobMonitor`).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from feedamp_sync.ops.ticks import JobMonitor

POLLER_THREAD = "poller"
"""The name prefix of the pool's worker threads."""


@dataclass(frozen=True)
class Periodic:
    """One job of one account: its name as health and ``status`` show it, its tick, and the
    seconds from one pass's due time to the next's."""

    name: str
    tick: Callable[[], object]
    interval: float


def next_due(due: float, interval: float, ended: float) -> float:
    """When a pass that was due at ``due`` and ended at ``ended`` is due again (pure).

    One interval after it was due, as a fixed schedule has it; once that moment has passed
    (the pass, or its wait for a worker, took longer than the interval), at once: the
    missed due times are coalesced into that one pass.
    """
    return max(due + interval, ended)


class Pollers:
    """Runs every :class:`Periodic` on its interval on at most ``concurrency`` threads.

    :meth:`start` dispatches every pair at once (as a daemon start polls every account),
    :meth:`close` stops dispatching and drops passes still waiting for a worker, and
    :meth:`join` waits for the idle workers to exit. A pass already running is not
    interrupted: the ticks themselves watch the daemon's stop event.
    """

    def __init__(
        self,
        entries: Sequence[Periodic],
        concurrency: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._entries = list(entries)
        self._runs: list[Callable[[], object]] = [entry.tick for entry in self._entries]
        self._monotonic = monotonic
        self._monitor: JobMonitor | None = None
        self._workers = ThreadPoolExecutor(concurrency, thread_name_prefix=POLLER_THREAD)
        self._changed = threading.Condition()
        self._due: list[tuple[float, int]] = []
        """(due time, entry index) of every pair neither waiting nor running: a heap."""
        self._closed = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="poll-dispatcher")

    def watch(self, monitor: JobMonitor) -> None:
        """Record every pair's passes in ``monitor``: due and waiting, running, finished."""
        self._monitor = monitor
        for index, entry in enumerate(self._entries):
            monitor.register(entry.name, entry.interval)
            self._runs[index] = monitor.wrap(entry.name, entry.tick)

    def start(self) -> None:
        now = self._monotonic()
        with self._changed:
            self._due = [(now, index) for index in range(len(self._entries))]
            heapq.heapify(self._due)
        self._dispatcher.start()

    @property
    def running(self) -> bool:
        """Dispatching: started, not closed, and its thread alive."""
        return self._dispatcher.is_alive() and not self._closed

    def close(self) -> None:
        """Dispatch nothing more; passes waiting for a worker never start."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._dispatcher.is_alive():
            self._dispatcher.join()
        self._workers.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        """Wait for the workers to exit: call once no pass is running any more."""
        self._workers.shutdown(wait=True)

    def _dispatch(self) -> None:
        with self._changed:
            while not self._closed:
                now = self._monotonic()
                if self._due and self._due[0][0] <= now:
                    due, index = heapq.heappop(self._due)
                    if self._monitor is not None:
                        self._monitor.waiting(self._entries[index].name)
                    self._workers.submit(self._run, index, due)
                    continue
                self._changed.wait(self._due[0][0] - now if self._due else None)

    def _run(self, index: int, due: float) -> None:
        try:
            self._runs[index]()
        finally:
            ended = self._monotonic()
            with self._changed:
                again = next_due(due, self._entries[index].interval, ended)
                heapq.heappush(self._due, (again, index))
                self._changed.notify_all()
