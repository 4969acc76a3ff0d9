"""What the app reports about itself, behind one object ``App`` carries.

The seams: :meth:`Telemetry.observe_request` is the API clients' request observer;
``App`` hands each orders summary and outbox drain summary to :meth:`orders_pulled` and
:meth:`outbox_drained`. Nothing else in the code base touches a metric.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from feedamp_sync.jobs import OrdersPulled
from feedamp_sync.ops.activity import ApiActivity
from feedamp_sync.ops.metrics import Metrics, StateCollector
from feedamp_sync.outbox.engine import DrainSummary


class Telemetry:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.activity = ApiActivity(clock=clock, monotonic=monotonic)
        self.metrics = Metrics()
        self.metrics.registry.register(StateCollector(engine, self.activity.snapshot, clock))

    def observe_request(
        self, *, account: str, endpoint: str, status: int | None, seconds: float
    ) -> None:
        self.activity.record(account=account, endpoint=endpoint, status=status)
        self.metrics.observe_request(
            account=account, endpoint=endpoint, status=status, seconds=seconds
        )

    def orders_pulled(self, account: str, pulled: OrdersPulled) -> None:
        self.metrics.orders_pulled(account, pulled)

    def outbox_drained(self, summary: DrainSummary) -> None:
        self.metrics.outbox_drained(summary)
