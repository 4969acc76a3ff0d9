"""Prometheus metrics, on a registry of the app's own (never the process-global one).

Counters are fed through three seams only: the API client's request observer, the orders
tick's summary and the outbox drain's summary. What the database knows (the unfinished
outbox, each job's last success and error) is read at scrape time by :class:`StateCollector`,
so the numbers agree with ``status`` and with other instances sharing the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from importlib.metadata import version
from typing import Final

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from sqlalchemy import Engine

from feedamp_sync.db.backlog import BacklogStore
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.sync_state import GLOBAL_ACCOUNT, SyncStateStore
from feedamp_sync.errors import DatabaseError
from feedamp_sync.jobs import OrdersPulled
from feedamp_sync.ops.activity import AccountActivity
from feedamp_sync.outbox.engine import DrainSummary
from feedamp_sync.outbox.kinds import KINDS

log = structlog.get_logger(__name__)

PREFIX: Final = "feedamp_sync"
LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
DRAIN_OUTCOMES: Final = ("sent", "retried", "dead", "deferred", "lease_lost", "released")


class Metrics:
    """The counters and the histogram, the release's build info, and the text a scrape gets."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        Info(
            f"{PREFIX}_build",
            "The running release (always 1; the version is the label).",
            registry=self.registry,
        ).info({"version": version("feedamp-sync")})
        self._orders = Counter(
            f"{PREFIX}_orders_ingested",
            "New orders stored (each order counts once, when first seen).",
            ["account"],
            registry=self.registry,
        )
        self._confirmations = Counter(
            f"{PREFIX}_confirmations",
            "Confirmations FeedAMP accepted (2xx answers to confirm).",
            ["account"],
            registry=self.registry,
        )
        self._outbox = Counter(
            f"{PREFIX}_outbox_results",
            "Outbox attempts finished by this process, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self._requests = Counter(
            f"{PREFIX}_api_requests",
            "HTTP attempts to FeedAMP by endpoint and status ('none': no answer).",
            ["account", "endpoint", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            f"{PREFIX}_api_request_duration_seconds",
            "Duration of each HTTP attempt to FeedAMP.",
            ["account", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._tokens = Counter(
            f"{PREFIX}_token_renewals",
            "Tokens fetched from FeedAMP (2xx answers to get_token).",
            ["account"],
            registry=self.registry,
        )

    def observe_request(
        self, *, account: str, endpoint: str, status: int | None, seconds: float
    ) -> None:
        self._requests.labels(account, endpoint, "none" if status is None else str(status)).inc()
        self._latency.labels(account, endpoint).observe(seconds)
        if status is not None and 200 <= status < 300:
            if endpoint == "confirm":
                self._confirmations.labels(account).inc()
            elif endpoint == "get_token":
                self._tokens.labels(account).inc()

    def orders_pulled(self, account: str, pulled: OrdersPulled) -> None:
        self._orders.labels(account).inc(pulled.new)

    def outbox_drained(self, summary: DrainSummary) -> None:
        for outcome in DRAIN_OUTCOMES:
            if count := getattr(summary, outcome):
                self._outbox.labels(outcome).inc(count)

    def render(self) -> tuple[bytes, str]:
        """The text format every Prometheus version reads (0.0.4), and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4


class StateCollector:
    """Gauges read at scrape time: the database's view, and accounts refused by FeedAMP."""

    def __init__(
        self,
        engine: Engine,
        activity: Callable[[], Mapping[str, AccountActivity]],
        clock: Callable[[], datetime],
    ) -> None:
        self._backlog = BacklogStore(engine, list(KINDS))
        self._state = SyncStateStore(engine)
        self._quarantine = QuarantineStore(engine)
        self._orders = OrderStore(engine)
        self._activity = activity
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            f"{PREFIX}_database_up", "1 if the last scrape reached the database."
        )
        try:
            yield from self._database()
        except DatabaseError as error:
            log.warning("metrics_database_unreachable", error=str(error))
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield up
        refused = GaugeMetricFamily(
            f"{PREFIX}_account_auth_failing",
            "1 while FeedAMP refuses the account's password or client id.",
            labels=["account"],
        )
        for account, seen in sorted(self._activity().items()):
            refused.add_metric([account], 0 if seen.auth_problem is None else 1)
        yield refused

    def _database(self) -> Iterator[Metric]:
        """Every database-derived family, queried before any is yielded (all or nothing)."""
        backlog = self._backlog.backlog()
        rows = self._state.all()
        held = self._quarantine.open_counts()
        cancelled = self._orders.cancelled_after_confirm()
        messages = GaugeMetricFamily(
            f"{PREFIX}_outbox_messages",
            "Unfinished outbox messages by kind and status (pending, in_flight, dead).",
            labels=["kind", "status"],
        )
        for (kind, status), count in sorted(backlog.counts.items()):
            messages.add_metric([kind, status], count)
        oldest = GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message (0 when none is pending).",
        )
        age = 0.0
        if backlog.oldest_pending_at is not None:
            age = max(0.0, (self._clock() - backlog.oldest_pending_at).total_seconds())
        oldest.add_metric([], age)
        success = GaugeMetricFamily(
            f"{PREFIX}_job_last_success_timestamp_seconds",
            "Unix time of each job's last success (account empty for the outbox).",
            labels=["job", "account"],
        )
        failure = GaugeMetricFamily(
            f"{PREFIX}_job_last_error_timestamp_seconds",
            "Unix time of each job's last failure (account empty for the outbox).",
            labels=["job", "account"],
        )
        for row in rows:
            labels = [row["job"], "" if row["account"] == GLOBAL_ACCOUNT else row["account"]]
            if row["last_success_at"] is not None:
                success.add_metric(labels, row["last_success_at"].timestamp())
            if row["last_error_at"] is not None:
                failure.add_metric(labels, row["last_error_at"].timestamp())
        quarantined = GaugeMetricFamily(
            f"{PREFIX}_quarantined",
            "Orders and returns FeedAMP sent that are held because they cannot be stored.",
            labels=["kind"],
        )
        for kind, count in sorted(held.items()):
            quarantined.add_metric([kind], count)
        cancelled_after_confirm = GaugeMetricFamily(
            f"{PREFIX}_orders_cancelled_after_confirm",
            "Confirmed orders FeedAMP or the marketplace now reports cancelled.",
            labels=["account"],
        )
        for account, count in sorted(cancelled.items()):
            cancelled_after_confirm.add_metric([account], count)
        yield from (messages, oldest, success, failure, quarantined, cancelled_after_confirm)
