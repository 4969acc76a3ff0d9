"""Storing pages of new orders: numbers, lines and confirm messages in one transaction."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.errors import DatabaseError
from feedamp_sync.model import OrderRecord, order_record
from feedamp_sync.policy import seller_number

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def order(feedamp_id: str, *, lines: int = 2, **extra: Any) -> OrderRecord:
    return order_record(
        {
            "id": feedamp_id,
            "state": "ORDERED",
            "order_info": {
                "mp_order_number": f"MP-{feedamp_id}",
                "marketplace_name": "amazon_us",
                "order_lines": [
                    {"mp_line_number": f"L{n}", "sku": f"SKU{n}", "quantity": n + 1}
                    for n in range(lines)
                ],
            },
            **extra,
        }
    )


def numbered(row_id: int, record: OrderRecord) -> str:
    return seller_number("FA{id:08d}", id=row_id)


def save(
    store: OrderStore,
    records: list[OrderRecord],
    *,
    confirm: bool = True,
    now: datetime = NOW,
    account: str = "main",
) -> Any:
    return store.save_page(account, records, now=now, number_for=numbered, confirm=confirm)


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_new_orders_are_stored_with_lines_numbers_and_confirms(engine: Engine) -> None:
    """Each new order gets its lines, a unique cp_order_number and one confirm message."""
    saved = save(OrderStore(engine), [order("1"), order("2", lines=3)])
    assert (saved.new, saved.confirms_enqueued) == (2, 2)
    assert count(engine, t.order_lines) == 5
    with engine.connect() as conn:
        rows = conn.execute(select(t.orders.c.feedamp_id, t.orders.c.cp_order_number))
        numbers = {row.feedamp_id: row.cp_order_number for row in rows}
        payloads = {row.target_id: row.payload for row in conn.execute(select(t.outbox))}
    assert len(set(numbers.values())) == 2
    assert payloads == {fid: {"cp_order_number": n} for fid, n in numbers.items()}


def test_seeing_an_order_again_changes_neither_number_nor_queue(engine: Engine) -> None:
    """A second pass over the same order keeps its number and enqueues nothing."""
    store = OrderStore(engine)
    save(store, [order("1")])
    first = store.get("1")
    again = save(store, [order("1")], now=NOW + timedelta(minutes=1))
    second = store.get("1")
    assert (again.new, again.unchanged, again.confirms_enqueued) == (0, 1, 0)
    assert first is not None
    assert second is not None
    assert second["cp_order_number"] == first["cp_order_number"]
    assert count(engine, t.outbox) == 1


def test_a_changed_order_updates_its_row_and_lines(engine: Engine) -> None:
    """New data for a known order replaces the stored JSON and typed columns."""
    store = OrderStore(engine)
    save(store, [order("1", lines=1)])
    changed = save(store, [order("1", lines=2, marketplace_state="SHIPPED")])
    stored = store.get("1")
    assert changed.changed == 1
    assert stored is not None
    assert stored["marketplace_state"] == "SHIPPED"
    assert [line["mp_line_number"] for line in stored["lines"]] == ["L0", "L1"]


def test_unknown_fields_are_kept_in_the_stored_json(engine: Engine) -> None:
    """The whole order object is stored as received."""
    store = OrderStore(engine)
    save(store, [order("9", surprise={"field": ["kept", "ünïcode"]})])
    stored = store.get("9")
    assert stored is not None
    assert stored["data"]["surprise"] == {"field": ["kept", "ünïcode"]}


def test_confirm_disabled_stores_orders_without_messages(engine: Engine) -> None:
    """With confirm disabled orders are stored (with their number) but not confirmed."""
    saved = save(OrderStore(engine), [order("1")], confirm=False)
    assert (saved.new, saved.confirms_enqueued, count(engine, t.outbox)) == (1, 0, 0)


def test_enabling_confirm_later_enqueues_stored_unconfirmed_orders(engine: Engine) -> None:
    """An order stored while confirm was off gets its confirm when it is seen again."""
    store = OrderStore(engine)
    save(store, [order("1")], confirm=False)
    assert save(store, [order("1")], confirm=True).confirms_enqueued == 1


def test_accounts_keep_orders_with_the_same_feedamp_id_apart(engine: Engine) -> None:
    """Two accounts may each have an order with FeedAMP id 1."""
    store = OrderStore(engine)
    save(store, [order("1")], account="a")
    save(store, [order("1")], account="b")
    assert count(engine, t.orders) == 2
    assert count(engine, t.outbox) == 2


def test_colliding_template_numbers_are_made_unique(engine: Engine) -> None:
    """A template that renders the same number twice still yields unique numbers."""
    store = OrderStore(engine)
    for fid in ("1", "2"):
        store.save_page(
            "main", [order(fid)], now=NOW, confirm=True, number_for=lambda row_id, record: "SAME"
        )
    with engine.connect() as conn:
        numbers = set(conn.scalars(select(t.orders.c.cp_order_number)))
    assert len(numbers) == 2


def test_counts_split_confirmed_and_unconfirmed(engine: Engine) -> None:
    """counts() reports totals for status."""
    store = OrderStore(engine)
    save(store, [order("1"), order("2")])
    with engine.begin() as conn:
        conn.execute(t.orders.update().where(t.orders.c.feedamp_id == "1").values(confirmed_at=NOW))
    assert store.counts() == {
        "total": 2,
        "confirmed": 1,
        "unconfirmed": 1,
        "cancelled_after_confirm": 0,
    }


def refused_by_every_database(feedamp_id: str) -> OrderRecord:
    """An order whose data no backend accepts, built past the checks that would hold it."""
    return dataclasses.replace(order(feedamp_id), mp_order_number="MP-\ud800")


def test_an_order_the_database_refuses_is_handed_back_and_the_rest_stored(engine: Engine) -> None:
    """The page is stored order by order: the refused one comes back with the reason, the
    others are stored with their numbers and confirms."""
    saved = save(OrderStore(engine), [order("1"), refused_by_every_database("2"), order("3")])
    assert [
        (r.feedamp_id, why.startswith("the database refused it")) for r, why in saved.refused
    ] == [("2", True)]
    assert (saved.new, count(engine, t.orders), count(engine, t.outbox)) == (2, 2, 2)


def test_a_page_of_one_refused_order_is_handed_back(engine: Engine) -> None:
    """Alone on its page, a refused order is still set aside rather than failing the pass."""
    saved = save(OrderStore(engine), [refused_by_every_database("9")])
    assert [r.feedamp_id for r, _ in saved.refused] == ["9"]
    assert count(engine, t.orders) == 0


def test_a_database_that_does_not_answer_fails_the_page_instead(
    unreachable_database_url: str,
) -> None:
    """An outage is no refusal of the data: the page fails with DatabaseError (the driver's
    reason on one line), nothing is set aside."""
    unreachable = create_engine_for(unreachable_database_url)
    try:
        with pytest.raises(DatabaseError):
            save(OrderStore(unreachable), [order("1"), order("2")])
    finally:
        unreachable.dispose()
