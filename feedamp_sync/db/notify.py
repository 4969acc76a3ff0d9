"""LISTEN for queued outbox messages on PostgreSQL, on a connection of the listener's own.

Migration 0003 makes PostgreSQL send a notification on :data:`OUTBOX_CHANNEL` whenever a
message joins the queue (an insert, or a row put back to ``pending``). :class:`OutboxListener`
waits for them on a daemon thread and calls ``wake`` once per batch received.

The connection is made from the engine's URL but is not taken from its pool: a LISTEN
belongs to one session for as long as it lasts, and would otherwise hold a pool slot
forever. It runs in autocommit (a notification is delivered between transactions only),
with TCP keepalives, so a connection silently dropped by a firewall or NAT on an idle link
is noticed within about a minute instead of leaving the listener deaf. Any failure is logged
as ``outbox_listen_failed`` and followed by a reconnect after 1 s, doubling up to 30 s; after
each LISTEN the listener wakes the job once, since a notification sent while it was not
listening is lost. Meanwhile, and always, the job's interval remains the fallback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import structlog
from sqlalchemy import Engine

from feedamp_sync.logs import register_secret

if TYPE_CHECKING:
    import psycopg

log = structlog.get_logger(__name__)

OUTBOX_CHANNEL: Final = "feedamp_outbox"
"""The channel of migration 0003's triggers, which repeats this literal (see its docstring)."""

WAIT_SECONDS: Final = 1.0
"""The longest wait for a notification before the stop event is checked again."""
FIRST_RETRY_SECONDS: Final = 1.0
MAX_RETRY_SECONDS: Final = 30.0
CONNECTION_DEFAULTS: Final[dict[str, Any]] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
"""libpq settings the database URL may override (``?connect_timeout=5``)."""

Connect = Callable[[], "psycopg.Connection[Any]"]


def listen_connector(engine: Engine) -> Connect:
    """Open autocommit connections like the engine's, but outside its pool.

    The URL's password is registered as a secret, so no log line can show it. psycopg is
    imported here, not with the module: it is the PostgreSQL extra, and the engine that
    gets here was made with it, while a daemon on SQLite or MariaDB needs none.
    """
    import psycopg

    if engine.url.password is not None:
        register_secret(str(engine.url.password))
    args, params = engine.dialect.create_connect_args(engine.url)
    options = {**CONNECTION_DEFAULTS, **params}

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(*args, **options, autocommit=True)

    return connect


class OutboxListener:
    """Calls ``wake`` when messages are queued, until ``stop`` is set."""

    def __init__(self, connect: Connect, wake: Callable[[], None], stop: threading.Event) -> None:
        self._connect = connect
        self._wake = wake
        self._stop = stop
        self._thread = threading.Thread(target=self.run, name="outbox-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end once ``stop`` is set; False if it is still running."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def run(self) -> None:
        """Listen, and after any failure reconnect with a growing pause, until stopped."""
        retry_seconds = FIRST_RETRY_SECONDS
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    log.info("outbox_listening", channel=OUTBOX_CHANNEL)
                    retry_seconds = FIRST_RETRY_SECONDS
                    self._wake()  # anything queued while no one listened
                    self._wait(connection)
            except Exception as exc:
                log.warning("outbox_listen_failed", error=exc, retry_in_seconds=retry_seconds)
                self._stop.wait(retry_seconds)
                retry_seconds = min(2 * retry_seconds, MAX_RETRY_SECONDS)

    def _wait(self, connection: psycopg.Connection[Any]) -> None:
        """Wake once per batch of notifications: the first, and any already behind it."""
        while not self._stop.is_set():
            if list(connection.notifies(timeout=WAIT_SECONDS, stop_after=1)):
                list(connection.notifies(timeout=0))
                self._wake()
