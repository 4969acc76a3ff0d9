"""The webhook fan-out on every backend: each sink's new events become messages once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.webhooks import CURSOR_JOB, FanOutStore
from tests.integration.test_order_store import order
from tests.integration.test_order_store import save as save_orders
from tests.integration.test_return_store import a_return

NOW = datetime.now(UTC).replace(microsecond=0)
LANE = "webhook:erp"


def fan_out(engine: Engine, types: tuple[str, ...] = (), batch: int = 500) -> int:
    return FanOutStore(engine).fan_out("erp", LANE, types, now=NOW, batch=batch)


def messages(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    t.outbox.c.account,
                    t.outbox.c.target_id,
                    t.outbox.c.unique_key,
                    t.outbox.c.payload,
                )
                .where(t.outbox.c.kind == "webhook")
                .order_by(t.outbox.c.id)
            )
        )


def test_a_new_sink_is_given_every_event_in_the_log(engine: Engine) -> None:
    """A sink's first fan-out starts at the log's beginning; later ones go on from there."""
    save_orders(OrderStore(engine), [order("1")], confirm=False)
    assert fan_out(engine) == 1
    save_orders(OrderStore(engine), [order("2")], confirm=False)
    assert fan_out(engine) == 1
    first, second = messages(engine)
    assert (second.account, second.target_id) == (LANE, "erp")
    assert [first.payload["subject"], second.payload["subject"]] == ["1", "2"]
    assert second.payload["type"] == "order.stored"
    assert second.unique_key == f"webhook:erp:{second.payload['id']}"


def test_a_cursor_set_beforehand_starts_a_new_sink_after_it(engine: Engine) -> None:
    """A cursor row inserted before the first fan-out skips the history up to it."""
    save_orders(OrderStore(engine), [order("1"), order("2")], confirm=False)
    with engine.begin() as conn:
        conn.execute(
            t.sync_state.insert().values(
                account=LANE, job=CURSOR_JOB, checkpoint={"after_id": 1}, updated_at=NOW
            )
        )
    assert fan_out(engine) == 1
    assert [m.payload["subject"] for m in messages(engine)] == ["2"]


def test_only_subscribed_types_are_enqueued_and_the_cursor_passes_the_rest(
    engine: Engine,
) -> None:
    """A sink of returns only gets the return; the orders before it are passed for good."""
    save_orders(OrderStore(engine), [order("1"), order("2")], confirm=False)
    ReturnStore(engine).save_page("main", [a_return("5")], now=NOW)
    assert fan_out(engine, ("return.stored",)) == 1
    assert fan_out(engine, ("return.stored",)) == 0
    assert [m.payload["subject"] for m in messages(engine)] == ["5"]


def test_many_events_are_enqueued_in_batches_in_id_order(engine: Engine) -> None:
    """More events than one batch take several transactions; none is skipped or repeated."""
    save_orders(OrderStore(engine), [order(str(n)) for n in range(7)], confirm=False)
    assert fan_out(engine, batch=3) == 7
    ids = [m.payload["id"] for m in messages(engine)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 7


def test_a_fan_out_repeated_after_a_lost_cursor_enqueues_nothing_twice(engine: Engine) -> None:
    """The unique key holds one message per sink and event, whatever happens to the cursor."""
    save_orders(OrderStore(engine), [order("1")], confirm=False)
    fan_out(engine)
    with engine.begin() as conn:
        conn.execute(
            t.sync_state.update()
            .where(t.sync_state.c.account == LANE)
            .values(checkpoint={"after_id": 0})
        )
    assert fan_out(engine) == 0
    assert len(messages(engine)) == 1
