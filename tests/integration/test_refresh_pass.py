"""The refresh pass against the sandbox, on every backend: what it reads, stores and skips."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select
from structlog.testing import capture_logs

from feedamp_sync.clients import client_config
from feedamp_sync.db import tables as t
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import order_record
from feedamp_sync.refresh import OrdersRefreshed, refresh_orders
from feedamp_sync.sandbox import Sandbox, SandboxServer, Verbatim
from feedamp_sync.settings import AccountSettings, ApiSettings, RefreshSettings

PASSWORD = "demo-password"
STALE = timedelta(hours=2)
FAST_REFRESH = RefreshSettings(rate_per_second=1000)


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=5)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[FeedampClient]:
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        account = AccountSettings(
            name="main", base_url=server.base_url, username="demo", client_id=1
        )
        api = ApiSettings(rate_per_second=1000, timeout_seconds=5)
        refresh = RefreshSettings(rate_per_second=5)
        with FeedampClient(client_config(account, api, refresh), SecretStr(PASSWORD)) as made:
            yield made


def stored_confirmed(
    sandbox: Sandbox, client: FeedampClient, engine: Engine, count: int
) -> list[str]:
    """``count`` orders confirmed in FeedAMP and stored as read two hours ago, oldest first."""
    ids = sandbox.add_orders(count)
    store = OrderStore(engine)
    for age, order_id in enumerate(ids):
        client.confirm_order(order_id, f"FA{order_id}")
        store.save_page(
            "main",
            [order_record(sandbox.order(order_id))],
            now=datetime.now(UTC) - STALE - timedelta(minutes=count - age),
            number_for=lambda row_id, _: f"FA-{row_id}",
            confirm=False,
        )
    return ids


def refresh(
    client: FeedampClient,
    engine: Engine,
    *,
    limit: int = 100,
    stop: threading.Event | None = None,
    settings: RefreshSettings = FAST_REFRESH,
) -> OrdersRefreshed:
    return refresh_orders(
        client,
        OrderStore(engine),
        QuarantineStore(engine),
        settings,
        limit=limit,
        clock=lambda: datetime.now(UTC),
        stop=stop or threading.Event(),
    )


def stored(engine: Engine, feedamp_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(t.orders).where(t.orders.c.feedamp_id == feedamp_id)).one()


def reads(sandbox: Sandbox) -> list[str]:
    return [entry.path.rsplit("/", 1)[-1] for entry in sandbox.ledger("get_order")]


def test_a_cancellation_on_the_marketplace_is_stored_with_its_events(
    sandbox: Sandbox, client: FeedampClient, engine: Engine
) -> None:
    """One pass stores the cancelled order's new states and whole object, records both
    changes, and marks it final, so the next pass leaves it alone."""
    first, second = stored_confirmed(sandbox, client, engine, 2)
    sandbox.set_order_state(first, "CANCELLED", "CANCELLED")
    refreshed = refresh(client, engine)
    assert (refreshed.read, refreshed.changed, refreshed.cancelled) == (2, 1, 1)
    row = stored(engine, first)
    assert (row.state, row.marketplace_state, row.data) == (
        "CANCELLED",
        "CANCELLED",
        sandbox.order(first),
    )
    assert row.final_at is not None
    with engine.connect() as conn:
        changes = conn.execute(select(t.order_events.c.field, t.order_events.c.to_value)).all()
    assert sorted(changes) == [("marketplace_state", "CANCELLED"), ("state", "CANCELLED")]
    assert stored(engine, second).final_at is None


def test_a_pass_reads_the_oldest_copies_first_up_to_its_limit(
    sandbox: Sandbox, client: FeedampClient, engine: Engine
) -> None:
    """With a limit of 2, the two orders read longest ago are read, the third waits."""
    ids = stored_confirmed(sandbox, client, engine, 3)
    assert refresh(client, engine, limit=2).read == 2
    assert reads(sandbox) == ids[:2]


def test_copies_younger_than_every_seconds_are_not_read(
    sandbox: Sandbox, client: FeedampClient, engine: Engine
) -> None:
    """Read two hours ago, with every_seconds three hours: nothing is due."""
    stored_confirmed(sandbox, client, engine, 2)
    settings = RefreshSettings(every_seconds=3 * 3600, rate_per_second=1000)
    assert refresh(client, engine, settings=settings).due == 0
    assert reads(sandbox) == []


def test_an_unknown_order_and_a_malformed_one_do_not_stop_the_others(
    sandbox: Sandbox, client: FeedampClient, engine: Engine
) -> None:
    """A 404 is logged and put at the back of the queue, an order that cannot be stored is
    quarantined; the third order is read and stored."""
    malformed, fine = stored_confirmed(sandbox, client, engine, 2)
    OrderStore(engine).save_page(
        "main",
        [order_record({"id": "404404", "state": "PLACED"})],
        now=datetime.now(UTC) - 2 * STALE,
        number_for=lambda row_id, _: f"FA-{row_id}",
        confirm=False,
    )
    sandbox.serve_order_as(malformed, lambda order: {**order, "order_info": {"n": "\x00"}})
    sandbox.set_order_state(fine, "FULFILLED", "SHIPPED")
    with capture_logs() as logs:
        refreshed = refresh(client, engine)
    assert (refreshed.unreadable, refreshed.quarantined, refreshed.read) == (1, 1, 1)
    assert {e["event"] for e in logs} >= {"order_refresh_failed", "order_quarantined"}
    assert stored(engine, fine).state == "FULFILLED"
    with engine.connect() as conn:
        assert conn.scalar(select(t.quarantine.c.feedamp_id)) == malformed
    assert stored(engine, "404404").refreshed_at > datetime.now(UTC) - STALE / 2


def test_an_order_too_deep_to_read_does_not_stop_the_others(
    sandbox: Sandbox, client: FeedampClient, engine: Engine
) -> None:
    """GET order answered with an order nested 5,000 deep is an unusable answer, logged and
    put at the back of the queue as a 404 is; the order after it is read and stored."""
    deep, fine = stored_confirmed(sandbox, client, engine, 2)
    nested = Verbatim("[" * 5000 + "]" * 5000)
    sandbox.serve_order_as(deep, lambda order: {**order, "gift": nested})
    sandbox.set_order_state(fine, "FULFILLED", "SHIPPED")
    with capture_logs() as logs:
        refreshed = refresh(client, engine)
    assert (refreshed.unreadable, refreshed.read) == (1, 1)
    [failed] = [e for e in logs if e["event"] == "order_refresh_failed"]
    assert (failed["feedamp_id"], "nested too deep" in failed["error"]) == (deep, True)
    assert stored(engine, fine).state == "FULFILLED"
    assert stored(engine, deep).refreshed_at > datetime.now(UTC) - STALE / 2


def test_a_stop_ends_the_pass_before_the_next_order(
    sandbox: Sandbox, client: FeedampClient, engine: Engine
) -> None:
    """A pass asked to stop reads no further order."""
    stored_confirmed(sandbox, client, engine, 2)
    stop = threading.Event()
    stop.set()
    assert refresh(client, engine, stop=stop).read == 0
    assert reads(sandbox) == []


@pytest.mark.backends("sqlite")
def test_refresh_reads_keep_to_the_refresh_rate(
    sandbox: Sandbox, client: FeedampClient, engine: Engine
) -> None:
    """At refresh.rate_per_second = 5, no second of the pass holds more than 5 reads."""
    stored_confirmed(sandbox, client, engine, 11)
    refresh(client, engine)
    starts = [entry.at for entry in sandbox.ledger("get_order")]
    assert len(starts) == 11
    assert max(sum(1 for s in starts if t0 <= s < t0 + 1.0) for t0 in starts) <= 5
