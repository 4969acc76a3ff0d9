"""The event log: each fact's event written once, in the fact's own transaction, read by cursor.

Every test runs on each backend; the stores are driven as the pollers, the refresh job and
the outbox engine drive them.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.core.attempts import AttemptResult, OrderConfirmed
from feedamp_sync.core.events import SCHEMA_VERSION, message_finished
from feedamp_sync.db import tables as t
from feedamp_sync.db.events import EVENTS_CHANNEL, EventStore, write_events
from feedamp_sync.db.notify import listen_connector
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.model import order_record
from feedamp_sync.outbox.kinds import KINDS
from tests.integration.test_order_store import numbered, order
from tests.integration.test_order_store import save as save_orders
from tests.integration.test_outbox_store import claim, enqueue
from tests.integration.test_return_store import a_return

NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(hours=1)
LOCK_WAIT_SECONDS = 1.0
NOTIFY_WAIT_SECONDS = 10.0


def events(engine: Engine) -> list[dict[str, Any]]:
    return EventStore(engine).after(0, limit=1000)


def kinds_of(engine: Engine) -> list[tuple[str, str]]:
    return [(e["type"], e["subject"]) for e in events(engine)]


def test_a_new_order_is_one_order_stored_event_with_its_number(engine: Engine) -> None:
    """Storing a page records ``order.stored`` per new order, with the number it was given."""
    save_orders(OrderStore(engine), [order("1"), order("2")], now=NOW)
    [first, second] = events(engine)
    assert (first["type"], first["account"], first["subject"]) == ("order.stored", "main", "1")
    assert first["body"] == {
        "v": SCHEMA_VERSION,
        "feedamp_id": "1",
        "mp_order_number": "MP-1",
        "marketplace": "amazon_us",
        "state": "ORDERED",
        "marketplace_state": None,
        "cp_order_number": "FA00000001",
        "confirmed": False,
    }
    assert first["occurred_at"] == NOW
    assert second["subject"] == "2"


def test_an_order_seen_again_unchanged_records_nothing(engine: Engine) -> None:
    """A page repeating stored orders (or a changed copy with the same states) adds no event."""
    store = OrderStore(engine)
    save_orders(store, [order("1")])
    save_orders(store, [order("1")])
    save_orders(store, [order("1", lines=3)])
    assert kinds_of(engine) == [("order.stored", "1")]


def test_a_state_change_is_one_order_changed_event_with_every_changed_field(engine: Engine) -> None:
    """A poll that finds both states changed records one ``order.changed`` with both."""
    store = OrderStore(engine)
    save_orders(store, [order("1")])
    save_orders(store, [order("1", state="CANCELLED", marketplace_state="CANCELLED")], now=LATER)
    [_, event] = events(engine)
    assert (event["type"], event["occurred_at"]) == ("order.changed", LATER)
    assert event["body"] == {
        "v": SCHEMA_VERSION,
        "feedamp_id": "1",
        "state": "CANCELLED",
        "marketplace_state": "CANCELLED",
        "changes": [
            {"field": "state", "from": "ORDERED", "to": "CANCELLED"},
            {"field": "marketplace_state", "from": None, "to": "CANCELLED"},
        ],
        "source": "poll",
    }


def test_a_refreshed_order_records_its_change_with_the_source(engine: Engine) -> None:
    """A refresh (or fetch) that stores a new state records ``order.changed`` from it."""
    store = OrderStore(engine)
    save_orders(store, [order("1")])
    read = store.save_read(
        "main",
        order("1", state="CANCELLED"),
        now=LATER,
        source="refresh",
        number_for=numbered,
        confirm=True,
    )
    assert read.changed
    [_, event] = events(engine)
    assert (event["type"], event["body"]["source"]) == ("order.changed", "refresh")


def test_an_order_first_read_confirmed_elsewhere_is_stored_confirmed(engine: Engine) -> None:
    """An order fetched already confirmed carries FeedAMP's number; no confirm will follow."""
    record = order("9", state="PLACED")
    data = {**record.data}
    data["order_info"] = {**data["order_info"], "cp_order_number": "ERP-9"}
    OrderStore(engine).save_read(
        "main", order_record(data), now=NOW, source="fetch", number_for=numbered, confirm=True
    )
    [event] = events(engine)
    assert (event["type"], event["body"]["confirmed"], event["body"]["cp_order_number"]) == (
        "order.stored",
        True,
        "ERP-9",
    )


def test_returns_record_stored_and_state_changes_only(engine: Engine) -> None:
    """A new return is ``return.stored``; a new state ``return.changed``; other edits nothing."""
    store = ReturnStore(engine)
    store.save_page("main", [a_return("5")], now=NOW)
    store.save_page("main", [a_return("5", lines=3)], now=NOW)
    store.save_page("main", [a_return("5", state="Pending Refund", lines=3)], now=LATER)
    assert kinds_of(engine) == [("return.stored", "5"), ("return.changed", "5")]
    changed_event = events(engine)[1]
    assert changed_event["body"] == {
        "v": SCHEMA_VERSION,
        "feedamp_id": "5",
        "order_feedamp_id": "O5",
        "mp_return_number": "RT-5",
        "state": "Pending Refund",
        "changes": [{"field": "state", "from": "Pending Authorization", "to": "Pending Refund"}],
    }


def stored_order(engine: Engine, feedamp_id: str) -> None:
    save_orders(OrderStore(engine), [order(feedamp_id)], confirm=False)


def result(message: Any, outcome: str, **extra: Any) -> AttemptResult:
    return AttemptResult(message, outcome, LATER, **extra)  # type: ignore[arg-type]


def test_a_sent_confirm_records_message_sent_and_order_confirmed(engine: Engine) -> None:
    """The confirm's result and the order's confirmation are two events, committed with it."""
    stored_order(engine, "7")
    store = OutboxStore(engine, KINDS.return_kinds)
    with engine.begin() as conn:
        key = conn.execute(
            t.outbox.insert().values(
                account="main", kind="confirm", target_id="7", payload={"cp_order_number": "FA7"}
            )
        ).inserted_primary_key
    assert key is not None
    message_id = int(key[0])
    [message] = claim(store)
    confirmed = OrderConfirmed("main", "7", "PLACED")
    store.finish("w1", [result(message, "sent", status_code=200, confirmed=confirmed)])
    [_, sent, confirmation] = events(engine)
    assert (sent["type"], sent["subject"]) == ("message.sent", str(message_id))
    assert sent["body"] == {
        "v": SCHEMA_VERSION,
        "message_id": message_id,
        "kind": "confirm",
        "target_id": "7",
        "attempts": 1,
        "status_code": 200,
    }
    assert (confirmation["type"], confirmation["subject"]) == ("order.confirmed", "7")
    assert confirmation["body"] == {
        "v": SCHEMA_VERSION,
        "feedamp_id": "7",
        "cp_order_number": "FA7",
        "state": "PLACED",
        "message_id": message_id,
    }


def test_a_dead_message_records_message_dead_with_its_error(engine: Engine) -> None:
    """Giving up on a message records ``message.dead`` with the status code and reason."""
    store = OutboxStore(engine, KINDS.return_kinds)
    message_id = enqueue(engine, "8")
    [message] = claim(store)
    store.finish("w1", [result(message, "dead", status_code=400, error="order is complete")])
    [event] = events(engine)
    assert (event["type"], event["body"]["error"], event["body"]["status_code"]) == (
        "message.dead",
        "order is complete",
        400,
    )
    assert event["subject"] == str(message_id)


def test_retries_deferrals_and_lost_leases_record_nothing(engine: Engine) -> None:
    """Only a message's end is a fact: a retry, a deferral or a fenced result is no event."""
    store = OutboxStore(engine, KINDS.return_kinds)
    enqueue(engine, "1")
    enqueue(engine, "2")
    enqueue(engine, "3")
    retried, deferred, lost = claim(store)
    store.finish(
        "w1",
        [
            result(retried, "retry", next_attempt_at=LATER, error="HTTP 503"),
            result(deferred, "deferred", next_attempt_at=LATER, error="401"),
        ],
    )
    store.finish("someone else", [result(lost, "sent")])
    assert events(engine) == []


def test_quiet_kinds_record_no_message_events(engine: Engine) -> None:
    """A kind declared quiet (webhook deliveries) leaves no event of its own results."""
    store = OutboxStore(engine, KINDS.return_kinds, quiet_kinds=("fulfillment",))
    enqueue(engine, "1")
    [message] = claim(store)
    store.finish("w1", [result(message, "sent")])
    assert events(engine) == []


def test_a_cursor_reads_after_an_id_by_type_and_account(engine: Engine) -> None:
    """``after`` returns later events in id order, filtered, at most ``limit``."""
    save_orders(OrderStore(engine), [order("1"), order("2"), order("3")])
    save_orders(OrderStore(engine), [order("4")], account="other")
    ReturnStore(engine).save_page("main", [a_return("5")], now=NOW)
    store = EventStore(engine)
    first, *_ = store.after(0, limit=1)
    assert [e["subject"] for e in store.after(first["id"], limit=2)] == ["2", "3"]
    assert [e["subject"] for e in store.after(0, types=["return.stored"])] == ["5"]
    assert [e["subject"] for e in store.after(0, account="other")] == ["4"]
    assert store.newest_id() == max(e["id"] for e in store.after(0))


def a_fact(at: datetime) -> Any:
    return message_finished(
        "main",
        1,
        sent=True,
        kind="fulfillment",
        target_id="1",
        attempts=1,
        status_code=200,
        error=None,
        at=at,
    )


@pytest.mark.backends("postgresql", "mariadb")
def test_a_writer_waits_for_the_one_before_it_to_commit(engine: Engine) -> None:
    """Events commit in id order: a second writer waits while the first holds its events
    uncommitted, so a cursor never sees an id above one still to come."""
    first_wrote = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            write_events(conn, [a_fact(NOW)])
            first_wrote.set()
            release_first.wait(10)

    def second() -> None:
        with engine.begin() as conn:
            write_events(conn, [a_fact(LATER)])
        second_done.set()

    one = threading.Thread(target=first)
    one.start()
    assert first_wrote.wait(10)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(LOCK_WAIT_SECONDS)
    waited = not second_done.is_set()
    release_first.set()
    one.join(10)
    two.join(10)
    assert waited
    with engine.connect() as conn:
        rows = conn.execute(select(t.events.c.occurred_at).order_by(t.events.c.id)).scalars()
        assert list(rows) == [NOW, LATER]


@pytest.mark.backends("postgresql")
def test_each_event_is_notified_on_its_channel_with_its_id(engine: Engine) -> None:
    """PostgreSQL sends every new event's id on ``feedamp_events`` once it commits."""
    with listen_connector(engine)() as listener:
        listener.execute(f"LISTEN {EVENTS_CHANNEL}")
        save_orders(OrderStore(engine), [order("1"), order("2")], confirm=False)
        received = list(listener.notifies(timeout=NOTIFY_WAIT_SECONDS, stop_after=2))
    assert [(n.channel, int(n.payload)) for n in received] == [
        (EVENTS_CHANNEL, e["id"]) for e in events(engine)
    ]
