"""Fair sending on a real database: a backlog costs its own account time and no one else's.

Each account's rate budget is a real limiter that the stand-in handler takes a slot from, as
the API client does before every request; the backlog's account is held to 20 requests a
second, so its backlog lasts far longer than any of these tests waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Engine

from feedamp_sync.core.facts import Target
from feedamp_sync.db import tables as t
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.feedamp.ratelimit import RateLimiter
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.engine import EngineSettings, OutboxEngine
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.outbox.kinds import Kinds
from feedamp_sync.retries import Backoff, Jitter, RetryPolicy

pytestmark = pytest.mark.timeout(120)

WAIT_SECONDS = 30.0
BACKLOG = 1_000
BACKLOG_RATE = 20.0


def later() -> datetime:
    """A clock past every row's server-default due time (the database's real now)."""
    return datetime.now(UTC) + timedelta(minutes=5)


@dataclass(frozen=True)
class Sent:
    account: str
    kind: str
    target_id: str


class Accounts:
    """Each account's budget, taken by every delivery as the client would, and what was sent."""

    def __init__(self, rates: dict[str, float], *, seconds_per_call: float = 0.0) -> None:
        self.budgets = {name: RateLimiter(rate) for name, rate in rates.items()}
        self.sent: list[Sent] = []
        self._seconds_per_call = seconds_per_call
        self._lock = threading.Lock()

    def deliver(self, client: FeedampClient, message: OutboxMessage) -> Delivered:
        assert self.budgets[message.account].acquire(time.monotonic() + WAIT_SECONDS)
        time.sleep(self._seconds_per_call)
        with self._lock:
            self.sent.append(Sent(message.account, message.kind, message.target_id))
        return Delivered(request=message.payload, response={"ok": True})

    def count(self, account: str, kind: str | None = None) -> int:
        with self._lock:
            return sum(1 for s in self.sent if s.account == account and kind in (None, s.kind))

    def position(self, account: str, target_id: str) -> int | None:
        """How many messages had been sent before this one, or None if it was not sent."""
        with self._lock:
            for index, sent in enumerate(self.sent):
                if (sent.account, sent.target_id) == (account, target_id):
                    return index
        return None


def enqueue(engine: Engine, account: str, kind: str, targets: range) -> None:
    with engine.begin() as conn:
        conn.execute(
            t.outbox.insert(),
            [
                {"account": account, "kind": kind, "target_id": str(n), "payload": {"n": n}}
                for n in targets
            ],
        )


@contextmanager
def draining(engine: Engine, accounts: Accounts, *, concurrency: int = 8) -> Iterator[None]:
    """A drain running on its own thread for the block, then stopped."""
    kinds = Kinds(
        [
            Kind("fulfillment", Target.ORDER, deliver=accounts.deliver),
            Kind("confirm", Target.ORDER, deliver=accounts.deliver),
        ]
    )
    drain = OutboxEngine(
        OutboxStore(engine, ()),
        {name: cast(FeedampClient, object()) for name in accounts.budgets},
        kinds,
        EngineSettings(
            owner="w1", concurrency=concurrency, batch_size=100, lease_seconds=60, drain_seconds=5
        ),
        RetryPolicy(3, Backoff(1, 10, Jitter.EQUAL)),
        clock=later,
        budgets=accounts.budgets,
    )
    stop = threading.Event()
    thread = threading.Thread(target=drain.drain, args=(stop,), name="drain")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive()


def wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_second_account_is_sent_while_the_first_drains_a_backlog(engine: Engine) -> None:
    """The second account's messages, due after the whole backlog, go within its own
    budget's first turns: long before the backlog's account has sent 3 seconds' worth."""
    enqueue(engine, "a", "confirm", range(BACKLOG))
    enqueue(engine, "b", "confirm", range(3))
    accounts = Accounts({"a": BACKLOG_RATE, "b": BACKLOG_RATE})
    with draining(engine, accounts):
        assert wait_for(lambda: accounts.count("b") == 3)
        sent_by_a = accounts.count("a")
    assert sent_by_a < 3 * BACKLOG_RATE


def test_a_fulfillment_enqueued_mid_backlog_goes_within_a_few_of_its_accounts_turns(
    engine: Engine,
) -> None:
    """A shipment enqueued while a thousand confirms of its account are due is sent after at
    most a claim's worth of them, not after the whole backlog."""
    enqueue(engine, "a", "confirm", range(BACKLOG))
    accounts = Accounts({"a": BACKLOG_RATE})
    with draining(engine, accounts):
        assert wait_for(lambda: accounts.count("a") >= 20)
        enqueue(engine, "a", "fulfillment", range(BACKLOG, BACKLOG + 1))
        confirms_before = accounts.count("a", "confirm")
        assert wait_for(lambda: accounts.count("a", "fulfillment") == 1)
        confirms_after = accounts.count("a", "confirm")
    assert confirms_after - confirms_before < 2 * BACKLOG_RATE


def test_kinds_of_one_account_alternate_while_both_have_a_backlog(engine: Engine) -> None:
    enqueue(engine, "a", "confirm", range(200))
    enqueue(engine, "a", "fulfillment", range(200, 400))
    accounts = Accounts({"a": 1_000.0})
    with draining(engine, accounts, concurrency=1):
        assert wait_for(lambda: accounts.count("a") >= 60)
    first = accounts.sent[:60]
    fulfillments = sum(1 for sent in first if sent.kind == "fulfillment")
    assert 25 <= fulfillments <= 35


def test_a_rate_limited_account_holds_no_worker_another_account_could_use(
    engine: Engine,
) -> None:
    """With two workers and one account held to 2 requests a second, the other account's
    messages (50 ms each) still get the workers: all twenty go before the slow account's
    budget has admitted its sixth."""
    enqueue(engine, "slow", "confirm", range(100))
    enqueue(engine, "fast", "confirm", range(100, 120))
    accounts = Accounts({"slow": 2.0, "fast": 1_000.0}, seconds_per_call=0.05)
    with draining(engine, accounts, concurrency=2):
        assert wait_for(lambda: accounts.count("fast") == 20)
        sent_by_slow = accounts.count("slow")
    assert sent_by_slow <= 5
