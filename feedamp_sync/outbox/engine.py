"""The outbox engine: claim due messages, deliver them on worker threads, record results.

Database work is batched (one claim for many messages, one transaction for many results)
so the engine is limited by FeedAMP rather than by the database. Leases of messages still
being delivered are extended while they run; at shutdown, unfinished claims are handed
back so another worker (or the next start) picks them up and reconciles their outcome.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import structlog

from feedamp_sync.core.attempts import AttemptResult, Notice
from feedamp_sync.core.fairness import Waiting
from feedamp_sync.db.errors import logged_traceback
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.errors import ActionConflict, ApiError, InvalidPayload, LeaseExpired
from feedamp_sync.feedamp.ratelimit import Availability
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered, conclude
from feedamp_sync.outbox.kind import planned_request
from feedamp_sync.outbox.kinds import Kinds
from feedamp_sync.outbox.prepare import Preparation
from feedamp_sync.retries import RetryPolicy

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


class Budget(Protocol):
    """An account's rate budget, as :class:`~feedamp_sync.feedamp.ratelimit.RateLimiter`."""

    @property
    def burst(self) -> int: ...

    def available(self) -> Availability: ...


UNLIMITED: Final = Availability(free=1_000_000, opens_in=0.0)
Prepare = Callable[[str, list[OutboxMessage]], Preparation]
"""Readies claimed messages for their handlers from stored data (``outbox/prepare.py``)."""
FLUSH_SECONDS = 0.05


CLAIM_EVERY_SECONDS = 1.0
"""How often a drain busy with a backlog looks for newly due lanes (another account's
messages, a shipment enqueued mid-backlog) when nothing it finished prompted a claim."""


def claim_window(settings: EngineSettings) -> int:
    """How many messages one drain holds claimed at most: enough to keep every worker busy
    between claims, and to claim in batches of at least half of it."""
    return max(settings.batch_size, 2 * settings.concurrency)


def account_window(burst: int, window: int) -> int:
    """How many messages of one account a drain holds at most: two rounds of its budget's
    burst (one sending, one ready), so a backlog never fills the window others need."""
    return min(window, max(2, 2 * burst))


def _collect(
    completed: queue.SimpleQueue[Future[AttemptResult]], wait_seconds: float
) -> list[Future[AttemptResult]]:
    """Deliveries that ended: waits up to ``wait_seconds`` for the first, takes the rest."""
    try:
        done = [completed.get(timeout=wait_seconds) if wait_seconds > 0 else completed.get_nowait()]
    except queue.Empty:
        return []
    while True:
        try:
            done.append(completed.get_nowait())
        except queue.Empty:
            return done


def collect_wait_seconds(
    in_flight: int,
    finished: int,
    *,
    batch_size: int,
    last_flush: float,
    now: float,
    budget_opens_in: float | None = None,
) -> float:
    """How long the drain may sleep for the next delivery to end.

    With results waiting, only until they are due to be recorded; with messages waiting for
    their account's rate budget, only until it opens. A drain that polled here instead would
    spin, and every spin takes the interpreter lock from the workers.
    """
    if finished >= batch_size:
        return 0.0
    if not in_flight:
        return 0.0 if finished or budget_opens_in is None else budget_opens_in
    wait = FLUSH_SECONDS if not finished else max(0.0, last_flush + FLUSH_SECONDS - now)
    return wait if budget_opens_in is None else min(wait, budget_opens_in)


@dataclass
class DrainSummary:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0
    lease_lost: int = 0
    released: int = 0
    notices: dict[Notice, set[str]] = field(default_factory=dict)
    """The notices deliveries raised, with the accounts they concern."""

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in _COUNTED}

    def count(self, result: AttemptResult) -> None:
        if result.notice is not None:
            self.notices.setdefault(result.notice, set()).add(result.message.account)
        if result.outcome == "sent":
            self.sent += 1
        elif result.outcome == "retry":
            self.retried += 1
        elif result.outcome == "dead":
            self.dead += 1
        else:
            self.deferred += 1


_COUNTED: Final = ("sent", "retried", "dead", "deferred", "lease_lost", "released")


class Leases:
    """When each of this engine's claims runs out, by the local monotonic clock.

    The database fences a late worker's *writes*, but not its HTTP call: a process frozen
    (SIGSTOP, a stalled VM) between claim and send would, once resumed, send an action another
    instance may already have sent. A worker therefore checks its claim is still alive right
    before sending. Deadlines are taken before the database grants or renews a lease, so the
    local view never outlives the database's.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._until: dict[int, float] = {}

    def granted(self, messages: list[OutboxMessage], asked_at: float) -> None:
        for message in messages:
            self._until[message.id] = asked_at + self._seconds

    def held(self, message: OutboxMessage) -> bool:
        return time.monotonic() < self._until.get(message.id, 0.0)

    def forget(self, message: OutboxMessage) -> None:
        self._until.pop(message.id, None)


@dataclass(frozen=True)
class EngineSettings:
    owner: str
    concurrency: int
    batch_size: int
    lease_seconds: float
    drain_seconds: float = 10.0


class OutboxEngine:
    def __init__(
        self,
        store: OutboxStore,
        channels: Mapping[str, object],
        kinds: Kinds,
        settings: EngineSettings,
        policy: RetryPolicy,
        *,
        clock: Clock,
        rng: random.Random | None = None,
        prepare: Prepare | None = None,
        budgets: Mapping[str, Budget] | None = None,
    ) -> None:
        """``channels`` are what each lane (a message's ``account``) is delivered through: a
        FeedAMP account's client, a webhook sink's channel; ``budgets`` are the lanes' rate
        budgets (a lane without one is not held back: its channel's own limiter, if any,
        paces it)."""
        self._store = store
        self._channels = channels
        self._kinds = kinds
        self._settings = settings
        self._policy = policy
        self._clock = clock
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._prepare = prepare
        self._budgets = budgets or {}

    def drain(self, stop: threading.Event) -> DrainSummary:
        """Deliver every message that is due (or becomes due by a predecessor's success).

        Claims are dealt fairly between accounts and kinds (:mod:`feedamp_sync.core.fairness`)
        and a claimed message waits, without a worker, until its account's rate budget admits
        it: a rate-limited account never holds a worker another account could use.

        Returns when nothing is due and nothing is in flight, or when ``stop`` is set; in the
        latter case deliveries already sending get ``drain_seconds`` to finish, and the
        claims of the rest are released.
        """
        summary = DrainSummary()
        self._store.release_expired(self._clock())
        pool = ThreadPoolExecutor(self._settings.concurrency, thread_name_prefix="outbox")
        completed: queue.SimpleQueue[Future[AttemptResult]] = queue.SimpleQueue()
        in_flight: dict[Future[AttemptResult], OutboxMessage] = {}
        sending: Counter[str] = Counter()
        waiting: Waiting[OutboxMessage] = Waiting(self._kinds.turn_order)
        finished: list[AttemptResult] = []
        window = claim_window(self._settings)
        more_may_be_due = True
        last_flush = last_renewal = time.monotonic()
        last_claim = last_flush - CLAIM_EVERY_SECONDS
        leases = Leases(self._settings.lease_seconds)

        def room(account: str) -> int:
            held = sending[account] + waiting.count(account)
            return account_window(self._burst(account), window) - held

        def submit(message: OutboxMessage) -> None:
            future = pool.submit(self._attempt, message, leases)
            in_flight[future] = message
            sending[message.account] += 1
            future.add_done_callback(completed.put)

        try:
            while not stop.is_set():
                held = len(in_flight) + len(waiting)
                if window - held >= window // 2 and (
                    more_may_be_due or time.monotonic() - last_claim >= CLAIM_EVERY_SECONDS
                ):
                    limit = min(window - held, self._settings.batch_size)
                    last_claim = asked_at = time.monotonic()
                    claimed = self._claim(limit, room)
                    leases.granted(claimed, asked_at)
                    more_may_be_due = len(claimed) == limit
                    waiting.add(self._ready(claimed, finished))
                opens_in = self._hand_out(waiting, len(in_flight), submit)
                if not in_flight and not finished and not waiting:
                    if not more_may_be_due:
                        break
                    continue
                wait_seconds = collect_wait_seconds(
                    len(in_flight),
                    len(finished),
                    batch_size=self._settings.batch_size,
                    last_flush=last_flush,
                    now=time.monotonic(),
                    budget_opens_in=opens_in,
                )
                for future in _collect(completed, wait_seconds):
                    message = in_flight.pop(future)
                    sending[message.account] -= 1
                    leases.forget(message)
                    finished.append(future.result())
                # Freed workers get their next message before this thread records results or
                # claims more: both take a few milliseconds, which a worker would sit out.
                self._hand_out(waiting, len(in_flight), submit)
                now = time.monotonic()
                if finished and (
                    now - last_flush >= FLUSH_SECONDS
                    or not in_flight
                    or len(finished) >= self._settings.batch_size
                ):
                    self._flush(finished, summary)
                    finished = []
                    last_flush = now
                    more_may_be_due = True  # a success may unblock the next message of a target
                if now - last_renewal >= self._settings.lease_seconds / 3:
                    self._renew([*in_flight.values(), *waiting.all()], leases, now)
                    # Claims of an instance that died or froze go back to the queue during
                    # a long drain too, not only when the next one starts.
                    if self._store.release_expired(self._clock()):
                        more_may_be_due = True
                    last_renewal = now
            self._stop(in_flight, waiting.take_all(), finished, summary)
        finally:
            _close(pool, in_flight)
        return summary

    def _hand_out(
        self,
        waiting: Waiting[OutboxMessage],
        busy_workers: int,
        submit: Callable[[OutboxMessage], None],
    ) -> float | None:
        """Give free workers waiting messages, accounts in rotation, each only while its
        budget admits one more request now.

        Returns how long until a budget that held messages back opens, or None when nothing
        waits for a budget (no message, or no free worker).
        """
        free_workers = self._settings.concurrency - busy_workers
        slots: dict[str, int] = {}
        opens_in: float | None = None
        while free_workers > 0 and waiting:
            served = False
            for account in waiting.accounts():
                if account not in slots:
                    budget = self._budget(account)
                    slots[account] = budget.free
                    if not budget.free:
                        opens_in = (
                            budget.opens_in if opens_in is None else min(opens_in, budget.opens_in)
                        )
                if slots[account] == 0:
                    continue
                slots[account] -= 1
                submit(waiting.take(account))
                served = True
                free_workers -= 1
                if free_workers == 0:
                    break
            if not served:
                break
        return opens_in if waiting and free_workers > 0 else None

    def _budget(self, account: str) -> Availability:
        budget = self._budgets.get(account)
        return UNLIMITED if budget is None else budget.available()

    def _burst(self, account: str) -> int:
        budget = self._budgets.get(account)
        return claim_window(self._settings) if budget is None else budget.burst

    def _claim(self, limit: int, room: Callable[[str], int]) -> list[OutboxMessage]:
        return self._store.claim(
            self._settings.owner,
            self._clock(),
            limit=limit,
            lease_seconds=self._settings.lease_seconds,
            room=room,
            turn_order=self._kinds.turn_order,
        )

    def _ready(
        self, claimed: list[OutboxMessage], finished: list[AttemptResult]
    ) -> list[OutboxMessage]:
        """Claimed messages made ready for their handlers; refused ones join ``finished``."""
        if self._prepare is None or not claimed:
            return claimed
        preparation = self._prepare(self._settings.owner, claimed)
        finished += [self._conclude(message, error) for message, error in preparation.refused]
        return preparation.ready

    def _renew(self, messages: list[OutboxMessage], leases: Leases, asked_at: float) -> None:
        """Extend the claims still held, here and in the database; a claim found taken over
        (this process was frozen past its lease) is forgotten, so it is never sent."""
        until = self._clock() + timedelta(seconds=self._settings.lease_seconds)
        kept = self._store.extend_leases(self._settings.owner, messages, until)
        leases.granted(kept, asked_at)
        kept_ids = {message.id for message in kept}
        for message in messages:
            if message.id not in kept_ids:
                leases.forget(message)

    def _flush(self, finished: list[AttemptResult], summary: DrainSummary) -> None:
        lost = self._store.finish(self._settings.owner, finished)
        lost_ids = {result.message.id for result in lost}
        for result in finished:
            if result.message.id in lost_ids:
                summary.lease_lost += 1
                log.warning("outbox_lease_lost", **_context(result.message), outcome=result.outcome)
                continue
            summary.count(result)
            _log_result(result)

    def _stop(
        self,
        in_flight: dict[Future[AttemptResult], OutboxMessage],
        waiting: list[OutboxMessage],
        finished: list[AttemptResult],
        summary: DrainSummary,
    ) -> None:
        """Let deliveries already sending finish for a while, record them, release the rest.

        Claimed messages still waiting for a worker or their budget, or queued for a worker
        that never took them, are not started: nothing of theirs has reached FeedAMP, so
        they are handed back uncounted. Those still sending when the wait runs out are
        handed back as attempts whose outcome is unknown.
        """
        sending = [future for future in in_flight if not future.cancel()]
        wait(sending, timeout=self._settings.drain_seconds)
        for future in sending:
            if future.done():
                finished.append(future.result())
                del in_flight[future]
        self._flush(finished, summary)
        owner, now = self._settings.owner, self._clock()
        still_sending = [message for future, message in in_flight.items() if not future.cancelled()]
        unstarted = [
            *(message for future, message in in_flight.items() if future.cancelled()),
            *waiting,
        ]
        released = self._store.release(owner, still_sending, now, started=True)
        released += self._store.release(owner, unstarted, now, started=False)
        if released:
            summary.released = released
            log.info("outbox_claims_released", count=released)

    def _attempt(self, message: OutboxMessage, leases: Leases) -> AttemptResult:
        outcome: Delivered | BaseException
        try:
            if not leases.held(message):
                raise LeaseExpired(f"the claim on message {message.id} ran out before sending")
            outcome = self._deliver(message)
        except Exception as error:
            if not isinstance(error, ApiError | ActionConflict | InvalidPayload | LeaseExpired):
                log.error(
                    "outbox_delivery_crashed",
                    **_context(message),
                    exception=logged_traceback(error),
                )
            outcome = error
        sent = (
            None
            if isinstance(outcome, LeaseExpired)
            else planned_request(message.plan, message.payload)
        )
        return self._conclude(message, outcome, request=sent, delivering=True)

    def _conclude(
        self,
        message: OutboxMessage,
        outcome: Delivered | BaseException,
        request: Any = None,
        delivering: bool = False,
    ) -> AttemptResult:
        with self._rng_lock:
            return conclude(
                message,
                outcome,
                now=self._clock(),
                policy=self._policy,
                rng=self._rng.random,
                request=request,
                delivering=delivering,
            )

    def _deliver(self, message: OutboxMessage) -> Delivered:
        kind = self._kinds.get(message.kind)
        if kind is None:
            raise InvalidPayload([f"kind: unknown {message.kind!r}; known: {sorted(self._kinds)}"])
        channel = self._channels.get(message.account)
        if channel is None:
            raise InvalidPayload(
                [f"account: {message.account!r} is not configured; known: {sorted(self._channels)}"]
            )
        with structlog.contextvars.bound_contextvars(**_context(message)):
            return kind.deliver(channel, message)


def _close(pool: ThreadPoolExecutor, in_flight: Iterable[Future[AttemptResult]]) -> None:
    """Shut the pool down, joining its workers unless a delivery is still sending.

    Without the join, idle workers are only woken to exit a moment later, and a daemon
    stopping right after this drain would take them for calls stuck on FeedAMP. A delivery
    that outlived the drain's grace (or a failed drain) is not waited for: its claim is
    fenced, so its answer could no longer be recorded.
    """
    pool.shutdown(wait=False, cancel_futures=True)  # what has not started never will
    if not any(future.running() for future in in_flight):
        pool.shutdown(wait=True)


def _context(message: OutboxMessage) -> dict[str, object]:
    return {
        "message_id": message.id,
        "kind": message.kind,
        "account": message.account,
        "target_id": message.target_id,
        "attempt": message.attempts,
    }


def _log_result(result: AttemptResult) -> None:
    context = _context(result.message)
    if result.outcome == "sent":
        log.info("outbox_sent", **context, status_code=result.status_code)
    elif result.outcome == "dead":
        log.error("outbox_dead", **context, status_code=result.status_code, error=result.error)
    else:
        log.info(
            f"outbox_{result.outcome}",
            **context,
            status_code=result.status_code,
            error=result.error,
            next_attempt_at=result.next_attempt_at,
        )
