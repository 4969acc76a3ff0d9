"""Composition: build the database engine, stores, API clients and outbox engine from the
settings, run the jobs, and close everything. Nothing is created at import time.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Final, TypeVar

import httpx
import structlog
from sqlalchemy import Engine

from feedamp_sync.clients import client_config
from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.errors import logged_traceback, message
from feedamp_sync.db.instance import held_open, single_instance_guard
from feedamp_sync.db.locks import job_lock
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.retention import RetentionStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.sync_state import GLOBAL_ACCOUNT, SyncStateStore
from feedamp_sync.db.webhooks import FanOutStore
from feedamp_sync.errors import is_expected_failure
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.feedamp.transport import tls_context
from feedamp_sync.jobs import (
    ORDERS_JOB,
    OUTBOX_JOB,
    PRUNE_JOB,
    RETURNS_JOB,
    prune,
    pull_orders,
    pull_returns,
    record_tick,
)
from feedamp_sync.logs import register_secret
from feedamp_sync.ops.telemetry import Telemetry
from feedamp_sync.outbox.engine import DrainSummary, EngineSettings, OutboxEngine
from feedamp_sync.outbox.kinds import KINDS, Kinds
from feedamp_sync.outbox.numbers import nonce_warning
from feedamp_sync.outbox.prepare import Preparer
from feedamp_sync.outbox.webhook import WebhookChannel
from feedamp_sync.refresh import REFRESH_JOB, pass_size, refresh_orders
from feedamp_sync.retention import Pruned, prunable
from feedamp_sync.retries import Backoff, Jitter, RetryPolicy
from feedamp_sync.settings import RetentionSettings, Settings, webhook_secret_key

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Pulled = TypeVar("Pulled")

RUN_ONCE_DRAIN_PAUSE_SECONDS = 0.2
"""In ``run --once``, how long the outbox rests after draining while the pollers still run."""
STOP_SECONDS = 15.0
"""How long a graceful stop waits for the work under way, from the moment it is asked for:
the daemon's running ticks, or ``run --once``'s pollers and drain."""
WEBHOOKS_JOB = "webhooks"
"""The fan-out of new events to the webhook sinks (one job for every sink)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Stop(threading.Event):
    """A request to stop that knows when it was made, so every part of a stop takes its wait
    out of one grace period rather than each having a grace of its own."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._monotonic = monotonic
        self._asked_at: float | None = None

    def set(self) -> None:
        if self._asked_at is None:
            self._asked_at = self._monotonic()
        super().set()

    def seconds_left(self, grace: float) -> float:
        """What is left of ``grace`` since the stop was asked for (all of it before)."""
        if self._asked_at is None:
            return grace
        return max(0.0, self._asked_at + grace - self._monotonic())


def instance_name() -> str:
    """Who holds a lease: readable in the outbox table, unique per process start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class App:
    settings: Settings
    engine: Engine
    orders: OrderStore
    returns: ReturnStore
    quarantine: QuarantineStore
    outbox: OutboxStore
    sync_state: SyncStateStore
    retention: RetentionStore
    clients: Mapping[str, FeedampClient]
    outbox_engine: OutboxEngine
    fan_outs: FanOutStore
    clock: Clock
    telemetry: Telemetry
    confirms_queued: Callable[[], None] = lambda: None
    """Called after an orders pass queued confirms: the daemon runs its outbox job at once
    then, rather than at its next interval (PostgreSQL's notifications would wake it as
    well; SQLite and MariaDB have none)."""

    def pull_orders(self, account: str, stop: threading.Event) -> None:
        client = self.clients[account]
        pulled = self._poll(
            account,
            ORDERS_JOB,
            "orders_pulled",
            lambda: pull_orders(
                client,
                self.orders,
                self.quarantine,
                self.settings.confirm,
                clock=self.clock,
                stop=stop,
            ),
        )
        if pulled is not None:
            self.telemetry.orders_pulled(account, pulled)
            if pulled.confirms_enqueued:
                self.confirms_queued()

    def pull_returns(self, account: str, stop: threading.Event) -> None:
        client = self.clients[account]
        overlap = timedelta(seconds=self.settings.jobs.returns_overlap_seconds)
        self._poll(
            account,
            RETURNS_JOB,
            "returns_pulled",
            lambda: pull_returns(
                client,
                self.returns,
                self.quarantine,
                self.sync_state,
                overlap=overlap,
                clock=self.clock,
                stop=stop,
            ),
        )

    def refresh_orders(self, account: str, stop: threading.Event) -> None:
        client = self.clients[account]
        refresh = self.settings.refresh
        self._poll(
            account,
            REFRESH_JOB,
            "orders_refreshed",
            lambda: refresh_orders(
                client,
                self.orders,
                self.quarantine,
                refresh,
                limit=pass_size(refresh, self.settings.jobs.orders_interval),
                clock=self.clock,
                stop=stop,
            ),
        )

    def _poll(
        self, account: str, job: str, event: str, tick: Callable[[], Pulled]
    ) -> Pulled | None:
        """One account's poller tick, with the account and job bound to its log lines: None
        while another instance holds the job's lock, else the summary, recorded in the sync
        state and logged as ``event``."""
        with (
            structlog.contextvars.bound_contextvars(account=account, job=job),
            job_lock(self.engine, account, job) as held,
        ):
            if not held:
                log.info("job_skipped", reason="another instance is running this job")
                return None
            pulled = record_tick(self.sync_state, account, job, self.clock, tick)
            log.info(event, **vars(pulled))
            return pulled

    def push_outbox(self, stop: threading.Event) -> DrainSummary:
        with structlog.contextvars.bound_contextvars(job=OUTBOX_JOB):
            summary = record_tick(
                self.sync_state,
                GLOBAL_ACCOUNT,
                OUTBOX_JOB,
                self.clock,
                lambda: self.outbox_engine.drain(stop),
            )
            self.telemetry.outbox_drained(summary)
            if summary.sent or summary.retried or summary.dead or summary.lease_lost:
                log.info("outbox_drained", **summary.counts())
            for notice, accounts in summary.notices.items():
                for account in sorted(accounts):
                    self.sync_state.failed(account, notice.name, self.clock(), notice.text)
            return summary

    def fan_out_events(self, stop: threading.Event) -> int:
        """Enqueue each sink's new events for delivery (``db/webhooks.py``); how many."""
        with structlog.contextvars.bound_contextvars(job=WEBHOOKS_JOB):

            def tick() -> int:
                enqueued = 0
                for sink in self.settings.sinks:
                    if stop.is_set():
                        break
                    enqueued += self.fan_outs.fan_out(
                        sink.name, sink.lane, sink.types, now=self.clock()
                    )
                return enqueued

            enqueued = record_tick(self.sync_state, GLOBAL_ACCOUNT, WEBHOOKS_JOB, self.clock, tick)
            if enqueued:
                log.info("webhooks_enqueued", messages=enqueued)
            return enqueued

    def prune(self, stop: threading.Event) -> Pruned | None:
        return locked_prune(
            self.engine,
            self.retention,
            self.sync_state,
            self.settings.retention,
            keep_days=self.settings.retention.keep_days,
            clock=self.clock,
            stop=stop,
        )

    def run_once(self, stop: Stop) -> bool:
        """One full pass of every job; False if any job failed (it has been logged) or the
        pass was stopped.

        The retention pass (when ``retention.enabled``) comes last, after the last drain.
        With webhook sinks, each drain is preceded by a fan-out of the events recorded so far.

        The outbox drains while the pollers run, as it does in the daemon, so the confirms of
        a backlog's first pages go out while later pages are fetched; a last drain after the
        pollers sends what they queued at the end. Once ``stop`` is set, the drain's
        deliveries under way and the pollers' pages finish within ``STOP_SECONDS`` of it, as
        the daemon's ticks do; a poller still in a call after that is left behind (it holds no
        claim, and its thread does not hold up the exit).
        """
        polled: list[bool] = []
        pollers = threading.Thread(
            target=lambda: polled.append(self._poll_all(stop)), name="pollers", daemon=True
        )
        pollers.start()
        drained = True
        while drained and pollers.is_alive() and not stop.is_set():
            drained = self._fan_out_and_drain(stop)
            pollers.join(RUN_ONCE_DRAIN_PAUSE_SECONDS)
        while pollers.is_alive() and not stop.is_set():
            pollers.join(RUN_ONCE_DRAIN_PAUSE_SECONDS)
        pollers.join(stop.seconds_left(STOP_SECONDS))
        drained = self._fan_out_and_drain(stop) and drained
        if self.settings.sinks:  # the last drain's own results are events too
            drained = self._fan_out_and_drain(stop) and drained
        pruned = not self.settings.retention.enabled or guarded(
            partial(self.prune, stop), PRUNE_JOB
        )
        return drained and pruned and polled == [True] and not stop.is_set()

    def _fan_out_and_drain(self, stop: threading.Event) -> bool:
        fanned = not self.settings.sinks or guarded(
            partial(self.fan_out_events, stop), WEBHOOKS_JOB
        )
        return guarded(partial(self.push_outbox, stop), OUTBOX_JOB) and fanned

    def _poll_all(self, stop: threading.Event) -> bool:
        # Every pass runs, then the results are read: one failing job must not keep the
        # others from running.
        passed = [
            guarded(partial(job.tick, self, account, stop), job.name)
            for job in ACCOUNT_JOBS
            if job.enabled(self.settings)
            for account in self.clients
        ]
        return all(passed)


@dataclass(frozen=True)
class AccountJob:
    """A job every account runs on its own schedule (``orders:main``, ``orders:shop-2``):
    its name, its tick for one account, its interval from the settings, and whether the
    settings ask for it at all."""

    name: str
    tick: Callable[[App, str, threading.Event], object]
    interval: Callable[[Settings], float]
    enabled: Callable[[Settings], bool] = lambda settings: True


@dataclass(frozen=True)
class GlobalJob:
    """A job run once for all accounts (``outbox``, ``prune``): its name, tick, interval and
    whether the settings ask for it."""

    name: str
    tick: Callable[[App, threading.Event], object]
    interval: Callable[[Settings], float]
    enabled: Callable[[Settings], bool] = lambda settings: True


ACCOUNT_JOBS: Final = (
    AccountJob(ORDERS_JOB, App.pull_orders, lambda settings: settings.jobs.orders_interval),
    AccountJob(RETURNS_JOB, App.pull_returns, lambda settings: settings.jobs.returns_interval),
    AccountJob(
        REFRESH_JOB,
        App.refresh_orders,
        lambda settings: settings.jobs.orders_interval,
        enabled=lambda settings: settings.refresh.enabled,
    ),
)
"""The daemon runs these on the accounts' bounded pool (``jobs.poll_concurrency``), in this
order when several are due at once, and ``run --once`` runs each once per account."""
GLOBAL_JOBS: Final = (
    GlobalJob(OUTBOX_JOB, App.push_outbox, lambda settings: settings.jobs.outbox_interval),
    GlobalJob(  # new events become webhook messages as often as the outbox runs
        WEBHOOKS_JOB,
        App.fan_out_events,
        lambda settings: settings.jobs.outbox_interval,
        enabled=lambda settings: bool(settings.sinks),
    ),
    GlobalJob(
        PRUNE_JOB,
        App.prune,
        lambda settings: settings.retention.interval_seconds,
        enabled=lambda settings: settings.retention.enabled,  # the tables are shared
    ),
)
"""The daemon runs these on APScheduler, a thread each (``run --once`` drains the outbox
while the pollers run and prunes last)."""


def locked_prune(
    engine: Engine,
    store: RetentionStore,
    state: SyncStateStore,
    retention: RetentionSettings,
    *,
    keep_days: int,
    clock: Clock,
    stop: threading.Event,
) -> Pruned | None:
    """A retention pass under the prune job's lock, recorded in the sync state and logged as
    ``pruned``; None while another instance holds the lock (one prunes at a time)."""
    with (
        structlog.contextvars.bound_contextvars(job=PRUNE_JOB),
        job_lock(engine, GLOBAL_ACCOUNT, PRUNE_JOB) as held,
    ):
        if not held:
            log.info("job_skipped", reason="another instance is pruning")
            return None
        pruned = record_tick(
            state,
            GLOBAL_ACCOUNT,
            PRUNE_JOB,
            clock,
            lambda: prune(store, retention, keep_days=keep_days, clock=clock, stop=stop),
        )
        log.info("pruned", keep_days=keep_days, **pruned.fields())
        return pruned


def retention_store(engine: Engine, kinds: Kinds = KINDS) -> RetentionStore:
    """The store that prunes every table retention declares."""
    return RetentionStore(engine, prunable(kinds.history_kinds))


def guarded(tick: Callable[[], object], job: str) -> bool:
    """The one broad catch: a failing tick is logged and never kills the daemon.

    One event, ``job_failed`` with the ``error`` and its ``error_type``, and for an unexpected
    error (see :func:`is_expected_failure`) its traceback, which tells database errors without
    the statement and the values they quote (order data).
    """
    try:
        tick()
    except Exception as error:
        failure = {"job": job, "error": message(error), "error_type": type(error).__name__}
        if is_expected_failure(error):
            log.error("job_failed", **failure)
        else:
            log.error("job_failed", **failure, exception=logged_traceback(error))
        return False
    return True


@contextmanager
def open_database(settings: Settings, *, single_instance: bool = False) -> Iterator[Engine]:
    """An engine on a database migrated to head (else DatabaseNotMigrated), disposed after.

    ``single_instance`` (the daemon) holds the single-instance guard on SQLite, taken before
    the schema is first read: a second daemon reads nothing through another name of the file.
    Any other command holds the file open as the guard does, so a file that cannot be opened
    is told alike by every command.
    """
    engine = create_engine_for(
        settings.database.url,
        pool_size=settings.database.pool_size,
        idle_transaction_seconds=settings.outbox.lease_seconds,
    )
    guard: AbstractContextManager[object] = (
        single_instance_guard(engine) if single_instance else held_open(engine)
    )
    try:
        with guard:
            migrate.require_head(engine)
            yield engine
    finally:
        engine.dispose()


@contextmanager
def build_app(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Clock = utc_now,
    kinds: Kinds = KINDS,
    sink_transport: httpx.BaseTransport | None = None,
) -> Iterator[App]:
    """Everything the daemon needs, closed again on exit. ``transport`` carries the FeedAMP
    clients' requests, ``sink_transport`` the webhooks' (a test's MockTransport).

    Holds the single-instance guard on SQLite: only one daemon may work on such a file.
    """
    env = os.environ if environ is None else environ
    unsafe_numbers = nonce_warning(settings.outbox)
    if unsafe_numbers is not None:
        log.warning("refund_numbers_without_nonce", problem=unsafe_numbers)
    with ExitStack() as stack:
        engine = stack.enter_context(open_database(settings, single_instance=True))
        telemetry = Telemetry(engine, clock=clock)
        tls = tls_context()
        clients: dict[str, FeedampClient] = {}
        for account in settings.accounts:
            password = account.secret_password(env)
            register_secret(password.get_secret_value())
            client = FeedampClient(
                client_config(account, settings.api),
                password,
                transport=transport,
                tls=tls,
                observer=telemetry.observe_request,
            )
            stack.callback(client.close)
            clients[account.name] = client
        channels: dict[str, object] = dict(clients)
        budgets = {name: client.action_budget for name, client in clients.items()}
        for sink in settings.sinks:
            secret = sink.secret_key(env).get_secret_value()
            register_secret(secret)
            channel = WebhookChannel(
                sink.name,
                sink.url,
                webhook_secret_key(secret),
                timeout_seconds=sink.timeout_seconds,
                rate_per_second=sink.rate_per_second,
                transport=sink_transport,
            )
            stack.callback(channel.close)
            channels[sink.lane] = channel
            budgets[sink.lane] = channel.budget
        outbox = OutboxStore(engine, kinds.return_kinds, kinds.quiet_kinds)
        engine_settings = EngineSettings(
            owner=instance_name(),
            concurrency=settings.outbox.concurrency,
            batch_size=settings.outbox.batch_size,
            lease_seconds=settings.outbox.lease_seconds,
        )
        policy = RetryPolicy(
            settings.outbox.max_attempts,
            Backoff(
                settings.outbox.backoff_base_seconds,
                settings.outbox.backoff_max_seconds,
                Jitter.EQUAL,
            ),
        )
        yield App(
            settings=settings,
            engine=engine,
            orders=OrderStore(engine),
            returns=ReturnStore(engine),
            quarantine=QuarantineStore(engine),
            outbox=outbox,
            sync_state=SyncStateStore(engine),
            retention=retention_store(engine, kinds),
            clients=clients,
            outbox_engine=OutboxEngine(
                outbox,
                channels,
                kinds,
                engine_settings,
                policy,
                clock=clock,
                rng=random.Random(),
                prepare=Preparer(engine, settings.outbox, kinds),
                budgets=budgets,
            ),
            fan_outs=FanOutStore(engine),
            clock=clock,
            telemetry=telemetry,
        )
