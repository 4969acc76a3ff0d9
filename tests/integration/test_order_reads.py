"""Orders read again after they were stored: which are due, and what a new copy records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.model import OrderRecord
from tests.integration.test_order_store import (
    NOW,
    count,
    numbered,
    order,
    refused_by_every_database,
    save,
)

HOUR = timedelta(hours=1)
LONG_AGO = NOW - timedelta(days=60)


def read(
    store: OrderStore,
    record: OrderRecord,
    *,
    now: datetime = NOW + HOUR,
    source: str = "refresh",
    confirm: bool = True,
) -> Any:
    return store.save_read(
        "main", record, now=now, source=source, number_for=numbered, confirm=confirm
    )


def placed(
    feedamp_id: str,
    *,
    state: str = "PLACED",
    marketplace_state: str = "AWAITING_SHIPMENT",
    **extra: Any,
) -> OrderRecord:
    return order(feedamp_id, state=state, marketplace_state=marketplace_state, **extra)


def due(store: OrderStore, *, at: datetime = NOW + HOUR, limit: int = 10) -> list[str]:
    return store.due_for_refresh(
        "main", read_before=at - HOUR / 2, purchased_after=LONG_AGO, limit=limit
    )


def events(engine: Engine) -> list[tuple[str, str, str | None, str | None, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.order_events).order_by(t.order_events.c.id))
        return [(r.feedamp_id, r.field, r.from_value, r.to_value, r.source) for r in rows]


def column(engine: Engine, feedamp_id: str, name: str) -> Any:
    with engine.connect() as conn:
        return conn.scalar(select(t.orders.c[name]).where(t.orders.c.feedamp_id == feedamp_id))


def test_open_orders_with_an_old_copy_are_due_oldest_copy_first(engine: Engine) -> None:
    """Orders whose copy is older than the cut-off are due, the oldest copy first."""
    store = OrderStore(engine)
    save(store, [placed("2")], now=NOW - HOUR)
    save(store, [placed("1")], now=NOW - 2 * HOUR)
    save(store, [placed("3")], now=NOW + HOUR)  # read just now: not due
    assert due(store) == ["1", "2"]
    assert due(store, limit=1) == ["1"]


def test_final_orders_are_never_due(engine: Engine) -> None:
    """Fulfilled, cancelled and complete orders, or ones the marketplace shipped, are done."""
    store = OrderStore(engine)
    save(store, [order("1", state="FULFILLED"), order("2", state="COMPLETE")], now=NOW - HOUR)
    save(store, [order("3", state="PLACED", marketplace_state="SHIPPED")], now=NOW - HOUR)
    assert due(store) == []


def test_orders_purchased_before_the_cut_off_are_not_due(engine: Engine) -> None:
    """max_age_days counts from the purchase date."""
    store = OrderStore(engine)
    save(store, [placed("1"), placed("2")], now=NOW - HOUR)
    with engine.begin() as conn:
        for feedamp_id, when in (("1", LONG_AGO - HOUR), ("2", LONG_AGO + HOUR)):
            conn.execute(
                t.orders.update()
                .where(t.orders.c.feedamp_id == feedamp_id)
                .values(purchase_date=when)
            )
    assert due(store) == ["2"]


def test_another_accounts_orders_are_not_due(engine: Engine) -> None:
    """Each account's refresh reads its own orders only."""
    store = OrderStore(engine)
    save(store, [placed("1")], now=NOW - HOUR, account="other")
    assert due(store) == []


def test_a_changed_state_is_stored_with_an_event_per_field(engine: Engine) -> None:
    """A cancellation read by the refresh updates both state columns, records each change
    from → to, marks the order final and read."""
    store = OrderStore(engine)
    save(store, [placed("1")], now=NOW - HOUR)
    cancelled = order("1", state="CANCELLED", marketplace_state="CANCELLED")
    outcome = read(store, cancelled)
    assert (outcome.changed, len(outcome.changes)) == (True, 2)
    assert events(engine) == [
        ("1", "state", "PLACED", "CANCELLED", "refresh"),
        ("1", "marketplace_state", "AWAITING_SHIPMENT", "CANCELLED", "refresh"),
    ]
    assert column(engine, "1", "state") == "CANCELLED"
    assert column(engine, "1", "final_at") == NOW + HOUR
    assert column(engine, "1", "refreshed_at") == NOW + HOUR
    assert due(store, at=NOW + 3 * HOUR) == []


def test_a_new_copy_keeps_unknown_fields_and_updates_lines(engine: Engine) -> None:
    """The whole object is stored as received, and the lines as the poller stores them."""
    store = OrderStore(engine)
    save(store, [placed("1", lines=1)], now=NOW - HOUR)
    read(store, placed("1", lines=2, surprise={"new": True}))
    stored = store.get("1")
    assert stored is not None
    assert stored["data"]["surprise"] == {"new": True}
    assert [line["mp_line_number"] for line in stored["lines"]] == ["L0", "L1"]
    assert events(engine) == []


def test_an_unchanged_copy_records_only_when_it_was_read(engine: Engine) -> None:
    """Nothing changes but ``refreshed_at``: no event, and it goes to the back of the queue."""
    store = OrderStore(engine)
    save(store, [placed("1"), placed("2")], now=NOW - HOUR)
    outcome = read(store, placed("1"))
    assert (outcome.changed, outcome.changes) == (False, ())
    assert column(engine, "1", "refreshed_at") == NOW + HOUR
    assert due(store, at=NOW + HOUR) == ["2"]


def test_a_state_change_seen_by_the_poller_is_an_event_too(engine: Engine) -> None:
    """The new-orders poll records the changes it sees, marked as such."""
    store = OrderStore(engine)
    save(store, [order("1")], now=NOW)
    save(store, [order("1", marketplace_state="PENDING")], now=NOW + HOUR)
    assert events(engine) == [("1", "marketplace_state", None, "PENDING", "poll")]


def test_marking_an_unreadable_order_read_moves_it_to_the_back(engine: Engine) -> None:
    """An order FeedAMP answered badly for is not asked for again first thing."""
    store = OrderStore(engine)
    save(store, [placed("1")], now=NOW - 2 * HOUR)
    save(store, [placed("2")], now=NOW - HOUR)
    store.mark_read("main", "1", NOW)
    assert due(store, at=NOW + 2 * HOUR) == ["2", "1"]


def test_an_order_first_read_unconfirmed_is_stored_and_confirmed(engine: Engine) -> None:
    """An order fetched before the poller saw it gets its number and confirm message."""
    outcome = read(OrderStore(engine), order("7"), source="fetch")
    assert (outcome.new, outcome.confirm_enqueued) == (True, True)
    number = column(engine, "7", "cp_order_number")
    with engine.connect() as conn:
        assert conn.scalar(select(t.outbox.c.payload)) == {"cp_order_number": number}


def test_an_order_confirmed_elsewhere_is_stored_with_its_number_and_not_confirmed_again(
    engine: Engine,
) -> None:
    """FeedAMP's own cp_order_number is kept, the order counts as confirmed, nothing is
    queued."""
    elsewhere = placed("7")
    elsewhere.data["order_info"]["cp_order_number"] = "LEGACY-7"
    outcome = read(OrderStore(engine), elsewhere, source="fetch")
    assert (outcome.new, outcome.confirm_enqueued) == (True, False)
    assert column(engine, "7", "cp_order_number") == "LEGACY-7"
    assert column(engine, "7", "confirmed_at") == NOW + HOUR
    assert count(engine, t.outbox) == 0


def test_an_order_the_database_refuses_comes_back_refused(engine: Engine) -> None:
    """The database's refusal is handed back, nothing is stored."""
    outcome = read(OrderStore(engine), refused_by_every_database("9"))
    assert str(outcome.refused).startswith("the database refused it")
    assert count(engine, t.orders) == 0


def test_orders_are_listed_by_state_and_by_change_since(engine: Engine) -> None:
    """``state`` matches without case; ``changed_since`` keeps orders with an event since."""
    store = OrderStore(engine)
    save(store, [placed("1"), placed("2"), placed("3")], now=NOW - HOUR)
    read(store, order("1", state="CANCELLED"), now=NOW)
    read(store, order("2", state="FULFILLED"), now=NOW + HOUR)
    assert [o["feedamp_id"] for o in store.recent(state="cancelled")] == ["1"]
    assert [o["feedamp_id"] for o in store.recent(changed_since=NOW + HOUR / 2)] == ["2"]
    assert [o["feedamp_id"] for o in store.recent(changed_since=NOW)] == ["2", "1"]


def test_confirmed_orders_cancelled_later_are_counted(engine: Engine) -> None:
    """status counts confirmed orders FeedAMP or the marketplace now reports cancelled."""
    store = OrderStore(engine)
    save(store, [placed("1"), placed("2"), order("3", state="CANCELLED")], now=NOW - HOUR)
    with engine.begin() as conn:
        conn.execute(t.orders.update().where(t.orders.c.feedamp_id != "3").values(confirmed_at=NOW))
    read(store, placed("1", marketplace_state="CANCELLED"))
    assert store.counts()["cancelled_after_confirm"] == 1
