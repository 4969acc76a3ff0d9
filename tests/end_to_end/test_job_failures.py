"""How `run --once` logs a failing job: the failures operations expect (FeedAMP refusing the
password, FeedAMP or the database away) as one `job_failed` line with `error` and
`error_type`, in JSON and on the console; a fault with its traceback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from feedamp_sync import app
from feedamp_sync.cli import main
from feedamp_sync.errors import ApiAuthError, ApiUnavailable, DatabaseError
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.harness import (
    FAST,
    PASSWORD,
    cli,
    logged,
    merged,
    wait_until,
    write_config,
)

UNREACHABLE = "http://127.0.0.1:9"
ONE_TRY = merged(FAST, {"api": {"get_attempts": 1}})
TRACEBACK = "Traceback (most recent call last)"


def failures(err: str) -> list[dict[str, Any]]:
    """The job_failed events among the JSON lines logged."""
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [event for event in events if event["event"] == "job_failed"]


def named(error: type[Exception]) -> set[str]:
    """The names of ``error`` and of every class below it."""
    return {error.__name__}.union(*(named(below) for below in error.__subclasses__()))


def assert_failed_on_one_line(err: str, error: type[Exception]) -> list[dict[str, Any]]:
    """Every job failed with an ``error``, its message and no traceback; returns them."""
    failed = failures(err)
    assert failed, err
    assert {event["error_type"] for event in failed} <= named(error), err
    assert all(event["error"] and "exception" not in event for event in failed), err
    assert TRACEBACK not in err
    return failed


def refused_password(config: Path) -> None:
    config.write_text(config.read_text().replace(PASSWORD, "not-the-password"))


@pytest.mark.backends("sqlite")  # not a database matter
def test_a_refused_password_fails_each_job_on_one_line(
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """job_failed says FeedAMP refused the password of the account, with HTTP 401."""
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    refused_password(config)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 1
    failed = assert_failed_on_one_line(err, ApiAuthError)
    assert {event["job"] for event in failed} == {"orders", "returns"}
    assert all(event["error"].startswith("HTTP 401: ") for event in failed)


@pytest.mark.backends("sqlite")
def test_a_refused_password_is_one_line_on_the_console_too(
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The console format prints job_failed with error and error_type, and no traceback."""
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    refused_password(config)
    capsys.readouterr()
    code = main(["--config", str(config), "--log-format", "console", "run", "--once"])
    err = capsys.readouterr().err
    logged(err)
    failed = [line for line in err.splitlines() if " job_failed " in line]
    assert code == 1
    assert len(failed) == 2, err
    assert all("error_type=ApiAuthError" in line and "HTTP 401" in line for line in failed)
    assert TRACEBACK not in err


@pytest.mark.backends("sqlite")
def test_feedamp_not_answering_fails_each_job_on_one_line(
    database_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """job_failed says FeedAMP could not be reached, once its tries are spent."""
    config = write_config(tmp_path, database_url, UNREACHABLE, ONE_TRY)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 1
    failed = assert_failed_on_one_line(err, ApiUnavailable)
    assert all("could not connect to FeedAMP" in event["error"] for event in failed)


class Relay:
    """A TCP relay to a database server, to be cut as if the server went away: every
    connection through it is closed and new ones are refused."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
            self._listener.close()
            for connection in self._open:
                _close(connection)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            with self._lock:
                if self._cut:
                    _close(client)
                    _close(server)
                    return
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)


def _close(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


@contextmanager
def relayed(database_url: str) -> Iterator[tuple[str, Relay]]:
    """The URL of the same database through a relay, and the relay."""
    url = make_url(database_url)
    relay = Relay(
        url.host or "127.0.0.1", url.port or {"postgresql": 5432}.get(url.get_backend_name(), 3306)
    )
    try:
        yield (
            url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False),
            relay,
        )
    finally:
        relay.cut()


@pytest.mark.slow  # its first pages take seconds, so the cut lands while they are on their way
@pytest.mark.backends("postgresql", "mariadb")  # a server that goes away
def test_a_database_going_away_fails_each_job_on_one_line(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Cut off once the pass has begun, while its first pages are on their way: job_failed
    gives the driver's reason for every job of the pass alike."""
    sandbox.add_orders(5)
    sandbox.set_faults(
        Faults(slow=1.0, slow_seconds=1.5, endpoints={"new_orders", "search_returns"})
    )
    with relayed(database_url) as (url, relay):
        config = write_config(tmp_path, url, server.base_url, FAST)

        def cut_once_the_pass_began() -> None:
            wait_until(lambda: bool(sandbox.ledger("get_token")), timeout=30)
            relay.cut()

        cutter = threading.Thread(target=cut_once_the_pass_began)
        cutter.start()
        code, _, err = cli(capsys, config, "run", "--once")
        cutter.join()
    assert code == 1
    failed = assert_failed_on_one_line(err, DatabaseError)
    assert {event["job"] for event in failed} == {"orders", "returns", "refresh", "outbox", "prune"}
    assert all("OperationalError" in event["error"] for event in failed)


@pytest.mark.backends("sqlite")
def test_an_unexpected_error_is_logged_with_its_traceback(
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fault in the program keeps the traceback that shows where it happened."""

    def broken(*_: object, **__: object) -> None:
        raise KeyError("feedamp_id")

    monkeypatch.setattr(app, "pull_orders", broken)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 1
    [failed] = failures(err)
    assert (failed["job"], failed["error_type"]) == ("orders", "KeyError")
    assert failed["exception"].startswith(TRACEBACK)
    assert "in broken" in failed["exception"]
