"""A call ends by its deadline however slowly FeedAMP or a webhook sink answers, and
``run --once`` stops on SIGTERM and SIGINT within the grace period, as the daemon does.

The sandbox's ``drip`` fault (and the webhook receiver's ``drip_seconds``) sends the headers at
once and then the body one byte at a time: every read returns within its timeout, so only a
deadline for the whole call ends it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.app import STOP_SECONDS
from feedamp_sync.db import tables as t
from feedamp_sync.outbox.enqueue import enqueue
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer, WebhookReceiver
from tests.end_to_end.actions import fulfillment, lines_of, shipment
from tests.end_to_end.harness import (
    DEBUG,
    FAST,
    cli,
    logged,
    merged,
    wait_until,
    write_config,
)
from tests.end_to_end.test_webhooks import SECRET, with_sink

TIMEOUT_SECONDS = 2.0
DEADLINE_SECONDS = 2 * TIMEOUT_SECONDS
TOLERANCE_SECONDS = 0.5
"""How late a call may end past its deadline: the time to see the cut and report it."""
PROGRAM = (sys.executable, "-m", "feedamp_sync")
LOGGING = ("--log-format", "json", *DEBUG)


def call_seconds(err: str, endpoint: str) -> list[float]:
    """How long each attempt at ``endpoint`` took, from the DEBUG ``api_request`` lines."""
    lines = (json.loads(line) for line in err.splitlines() if line.startswith("{"))
    return [
        line["duration_ms"] / 1000
        for line in lines
        if line.get("event") == "api_request" and line.get("endpoint") == endpoint
    ]


def test_a_dripping_answer_ends_the_call_at_its_deadline(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A list page sent one byte every 1.7 s, each read well within the 2 s timeout: the call
    ends at its deadline (twice api.timeout_seconds), not at the first byte after it."""
    sandbox.add_orders(20)
    sandbox.set_faults(Faults(drip=1.0, drip_seconds=1.7, endpoints={"new_orders"}))
    sections = merged(FAST, {"api": {"timeout_seconds": TIMEOUT_SECONDS}})
    config = write_config(tmp_path, database_url, server.base_url, sections)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 1
    assert "answer was still arriving at the call's deadline" in err
    [seconds] = call_seconds(err, "new_orders")
    assert seconds < DEADLINE_SECONDS + TOLERANCE_SECONDS, seconds


def test_a_webhook_sink_that_drips_its_answer_is_retried_at_the_deadline(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sink that answers one byte every half second, for a minute: the delivery gives up
    after twice the sink's 1 s timeout and the message waits for its retry."""
    sandbox.add_orders(1)
    sections = merged(FAST, {"outbox": {"backoff_base_seconds": 600, "backoff_max_seconds": 600}})
    config = write_config(tmp_path, database_url, server.base_url, sections)
    with WebhookReceiver(SECRET) as receiver:
        receiver.inbox.accept_with, receiver.inbox.answer_bytes = 200, 120
        receiver.inbox.drip_seconds = 0.5
        with_sink(config, receiver.url, ("order.stored",), tmp_path / "webhook-secret")
        config.write_text(config.read_text() + "timeout_seconds = 1\n")
        started = time.monotonic()
        code, _, err = cli(capsys, config, "run", "--once")
        elapsed = time.monotonic() - started
    assert code == 0, err
    [(status, attempts, error)] = webhook_messages(engine)
    assert (status, attempts) == ("pending", 1)
    assert "webhook sink erp did not answer in time" in (error or "")
    assert elapsed < 2 * 1.0 + 5.0, elapsed


def test_a_webhook_sink_that_answers_at_length_is_read_no_further_than_kept(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sink answering 64 MiB: the delivery is recorded with the answer's start, and the
    connection took no more than the kernel's buffers hold of the rest."""
    sandbox.add_orders(1)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    with WebhookReceiver(SECRET) as receiver:
        receiver.inbox.accept_with, receiver.inbox.answer_bytes = 200, 64 * 1024 * 1024
        with_sink(config, receiver.url, ("order.stored",), tmp_path / "webhook-secret")
        code, _, err = cli(capsys, config, "run", "--once")
        answered = receiver.inbox.answered_bytes
    assert code == 0, err
    [(status, attempts, _)] = webhook_messages(engine)
    assert (status, attempts) == ("sent", 1)
    assert answered < 16 * 1024 * 1024, answered


def webhook_messages(engine: Engine) -> list[tuple[str, int, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox.c.status, t.outbox.c.attempts, t.outbox.c.last_error).where(
                t.outbox.c.kind == "webhook"
            )
        )
        return [(row.status, row.attempts, row.last_error) for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_run_once_within_the_grace_period_and_exits_non_zero(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    signum: signal.Signals,
) -> None:
    """A pass stuck in two long calls at once, a list page and a fulfillment, is stopped, not
    waited for: exit 1 within the daemon's 20 s, the delivery's grace and the pollers' taken
    out of the same period."""
    orders = sandbox.add_orders(5)
    config = write_config(tmp_path, database_url, server.base_url, FAST)
    assert cli(capsys, config, "run", "--once")[0] == 0
    sandbox.add_orders(20)
    line = lines_of(sandbox, orders[0])[0]
    payload = fulfillment(line["mp_line_number"], shipment(line["quantity"], "TRACK-1"))
    with engine.begin() as conn:
        enqueue(conn, account="main", kind="fulfillment", target_id=orders[0], payload=payload)
    sandbox.set_faults(Faults(drip=1.0, drip_seconds=1.0, endpoints={"new_orders", "fulfill"}))
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"api": {"timeout_seconds": 30}})
    )
    pages_before = len(sandbox.ledger("new_orders"))
    log = tmp_path / "run-once.log"
    with (
        log.open("wb") as sink,
        subprocess.Popen(
            [*PROGRAM, "--config", str(config), *LOGGING, "run", "--once"],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        ) as process,
    ):
        try:
            assert wait_until(
                lambda: (
                    len(sandbox.ledger("new_orders")) > pages_before
                    and bool(sandbox.ledger("fulfill"))
                ),
                timeout=20,
            )
            time.sleep(0.5)  # the first bytes are on their way: both calls are in their body
            started = time.monotonic()
            process.send_signal(signum)
            code = process.wait(timeout=STOP_SECONDS + 20)
            elapsed = time.monotonic() - started
        finally:
            if process.poll() is None:
                process.kill()
    logged(log.read_text(errors="replace"))
    assert code == 1
    assert elapsed < STOP_SECONDS + 5, elapsed


def test_a_pass_over_the_same_orders_under_new_cursors_ends(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Cursors that never move on (the first page again, under a fresh cursor) end the pass
    with a warning once a page brings nothing new; run --once finishes."""
    sandbox.add_orders(5)
    sandbox.set_faults(Faults(stuck_cursor=True))
    sections = merged(FAST, {"confirm": {"enabled": False}})
    config = write_config(tmp_path, database_url, server.base_url, sections)
    code, _, err = cli(capsys, config, "run", "--once")
    assert code == 0, err
    assert "pagination_no_progress" in err
    assert len(sandbox.ledger("new_orders")) == 2
