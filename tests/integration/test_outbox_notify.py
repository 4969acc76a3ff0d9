"""LISTEN/NOTIFY on PostgreSQL: migration 0003's triggers, and the listener that wakes the job.

Every test listens on the package's ``OUTBOX_CHANNEL``, so they also prove the migration's
literal channel name matches it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import psycopg
import pytest
import structlog
from sqlalchemy import Engine, text

from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.notify import OUTBOX_CHANNEL, OutboxListener, listen_connector
from feedamp_sync.logs import scrub

pytestmark = pytest.mark.backends("postgresql")

WAIT_SECONDS: Final = 10.0
PASSWORD: Final = "canary-Db-pa55word"
QUIET_SECONDS: Final = 0.5
"""How long a test waits to be sure that no notification comes."""

INSERT: Final = text(
    "INSERT INTO feedamp_outbox (account, kind, target_id, payload) "
    "VALUES ('main', 'fulfillment', :target_id, '{}') RETURNING id"
)


def insert(engine: Engine, target_id: str = "1001") -> int:
    """One message, inserted as a seller's system would: plain SQL, four columns."""
    with engine.begin() as connection:
        return int(connection.execute(INSERT, {"target_id": target_id}).scalar_one())


def set_status(engine: Engine, message_id: int, status: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE feedamp_outbox SET status = :status WHERE id = :id"),
            {"status": status, "id": message_id},
        )


@contextmanager
def listening(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A connection that LISTENs on the outbox channel."""
    with listen_connector(engine)() as connection:
        connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
        yield connection


def received(connection: psycopg.Connection[Any], timeout: float) -> list[str]:
    """The channels of the notifications that arrive within ``timeout`` (after the first,
    only those already behind it)."""
    first = list(connection.notifies(timeout=timeout, stop_after=1))
    return [n.channel for n in first + list(connection.notifies(timeout=QUIET_SECONDS))]


def test_an_insert_notifies(engine: Engine) -> None:
    """A row inserted with plain SQL sends one notification on the outbox channel."""
    with listening(engine) as connection:
        insert(engine)
        assert received(connection, WAIT_SECONDS) == [OUTBOX_CHANNEL]


def test_an_insert_of_many_rows_notifies_once(engine: Engine) -> None:
    """A batch of rows in one statement (the poller's confirms) costs one notification."""
    with listening(engine) as connection:
        with engine.begin() as conn:
            conn.execute(INSERT, [{"target_id": str(n)} for n in range(200)])
        assert received(connection, WAIT_SECONDS) == [OUTBOX_CHANNEL]


def test_a_dead_message_put_back_to_pending_notifies(engine: Engine) -> None:
    """An operator's retry (dead → pending) wakes the listener."""
    message_id = insert(engine)
    set_status(engine, message_id, "dead")
    with listening(engine) as connection:
        set_status(engine, message_id, "pending")
        assert received(connection, WAIT_SECONDS) == [OUTBOX_CHANNEL]


def test_a_released_claim_notifies(engine: Engine) -> None:
    """A claim handed back (in_flight → pending) wakes the listener."""
    message_id = insert(engine)
    set_status(engine, message_id, "in_flight")
    with listening(engine) as connection:
        set_status(engine, message_id, "pending")
        assert received(connection, WAIT_SECONDS) == [OUTBOX_CHANNEL]


def test_claiming_and_finishing_a_message_do_not_notify(engine: Engine) -> None:
    """pending → in_flight → sent, and an update leaving the status as it is, wake nobody."""
    message_id = insert(engine)
    with listening(engine) as connection:
        set_status(engine, message_id, "in_flight")
        set_status(engine, message_id, "sent")
        set_status(engine, insert(engine, "1002"), "pending")
        assert received(connection, WAIT_SECONDS) == [OUTBOX_CHANNEL]  # the insert only


def test_downgrading_below_0003_removes_the_notifications(engine: Engine) -> None:
    """Revision 0002 has neither triggers nor function; inserts then notify nobody."""
    migrate.downgrade(engine, "0002")
    with listening(engine) as connection:
        insert(engine)
        assert received(connection, QUIET_SECONDS) == []
    with engine.connect() as connection:
        functions = connection.execute(
            text("SELECT count(*) FROM pg_proc WHERE proname = 'feedamp_outbox_notify'")
        ).scalar_one()
    assert functions == 0


class Wakes:
    """A wake callback that counts its calls and lets a test wait for a count."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    @property
    def count(self) -> int:
        with self._changed:
            return self._count

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._count >= count, timeout)


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def listener(engine: Engine, wakes: Wakes) -> Iterator[OutboxListener]:
    """A running listener; stopped and joined after the test."""
    stop = threading.Event()
    running = OutboxListener(listen_connector(engine), wakes, stop)
    running.start()
    yield running
    stop.set()
    assert running.join(WAIT_SECONDS)


def listener_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query = :listen"
                ),
                {"listen": f"LISTEN {OUTBOX_CHANNEL}"},
            ).scalar_one()
        )


def test_the_listener_wakes_once_when_it_starts_listening(
    listener: OutboxListener, wakes: Wakes
) -> None:
    """A notification sent before the LISTEN is lost, so listening begins with a wake."""
    assert wakes.wait_for(1)
    time.sleep(QUIET_SECONDS)
    assert wakes.count == 1


def test_the_listener_wakes_after_an_insert(
    listener: OutboxListener, wakes: Wakes, engine: Engine
) -> None:
    """An inserted message calls the callback."""
    assert wakes.wait_for(1)
    insert(engine)
    assert wakes.wait_for(2)


def test_the_listener_stops_within_a_second_or_so(engine: Engine, wakes: Wakes) -> None:
    """Setting the stop event ends the thread promptly although no notification comes."""
    stop = threading.Event()
    listener = OutboxListener(listen_connector(engine), wakes, stop)
    listener.start()
    assert wakes.wait_for(1)
    stop.set()
    started = time.monotonic()
    assert listener.join(WAIT_SECONDS)
    assert time.monotonic() - started < 2


def test_the_listener_reconnects_after_its_backend_is_terminated(
    listener: OutboxListener, wakes: Wakes, engine: Engine
) -> None:
    """Its session killed, the listener logs the failure, reconnects, wakes once (anything
    queued meanwhile would otherwise wait for the interval), and hears inserts again."""
    assert wakes.wait_for(1)
    with structlog.testing.capture_logs() as logs, engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener_pid(engine)})
        assert wakes.wait_for(2)
    time.sleep(QUIET_SECONDS)
    assert wakes.count == 2
    failed = [entry for entry in logs if entry["event"] == "outbox_listen_failed"]
    assert len(failed) == 1
    assert "terminat" in str(failed[0]["error"])
    assert [entry["event"] for entry in logs].count("outbox_listening") == 1
    insert(engine)
    assert wakes.wait_for(3)


def test_the_listener_retries_a_refused_connection_until_stopped(wakes: Wakes) -> None:
    """Connecting fails (nothing listens on the port): logged, retried after 1 s then 2 s,
    never a wake; the stop interrupts the pause between attempts."""
    refused = create_engine_for(f"postgresql://feedamp:{PASSWORD}@127.0.0.1:1/none")
    stop = threading.Event()
    with structlog.testing.capture_logs() as logs:
        listener = OutboxListener(listen_connector(refused), wakes, stop)
        listener.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while len(logs) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        assert listener.join(WAIT_SECONDS)
    refused.dispose()
    assert [(entry["event"], entry["retry_in_seconds"]) for entry in logs] == [
        ("outbox_listen_failed", 1.0),
        ("outbox_listen_failed", 2.0),
    ]
    assert wakes.count == 0


def test_the_database_password_is_scrubbed_from_logs() -> None:
    """The URL's password is registered as a secret when the listener's connector is made."""
    listen_connector(create_engine_for(f"postgresql://feedamp:{PASSWORD}@127.0.0.1:1/none"))
    assert PASSWORD not in scrub(f"connection to feedamp:{PASSWORD}@127.0.0.1 failed")
