"""Webhook sinks with a real daemon: the sandbox's orders and returns, a receiver on 127.0.0.1
that checks every signature, an outage of the sink and a restart of the daemon."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import Engine
from standardwebhooks import Webhook

from feedamp_sync.db.events import EventStore
from feedamp_sync.sandbox import Sandbox, SandboxServer, WebhookReceiver
from tests.end_to_end.harness import (
    FAST,
    confirmed_count,
    daemon,
    merged,
    outbox_statuses,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SECRET: Final = "whsec_" + base64.b64encode(b"feedamp-sync-test-webhook-key!!!").decode()
TYPES: Final = ("order.stored", "order.confirmed", "return.stored")
OUTAGE_SECONDS: Final = 60.0


def with_sink(config: Path, url: str, types: tuple[str, ...], secret_file: Path) -> None:
    """Add one ``[[sinks]]`` entry to a config written by ``write_config``."""
    secret_file.write_text(SECRET)
    listed = ", ".join(f'"{name}"' for name in types)
    entry = f'\n[[sinks]]\nname = "erp"\nurl = "{url}"\nsecret_file = "{secret_file}"\n'
    config.write_text(config.read_text() + entry + f"types = [{listed}]\nrate_per_second = 50\n")


def subscribed(engine: Engine) -> list[int]:
    return [e["id"] for e in EventStore(engine).after(0, types=TYPES, limit=100_000)]


def verified_events(receiver: WebhookReceiver) -> list[Any]:
    """Every accepted delivery, checked again with the reference implementation."""
    webhook = Webhook(SECRET)
    events = []
    for delivery in receiver.inbox.accepted:
        headers = {
            "webhook-id": delivery.msg_id,
            "webhook-timestamp": str(delivery.timestamp),
            "webhook-signature": delivery.signature,
        }
        try:
            event = webhook.verify(delivery.body, headers)
        except Exception as error:
            if "too old" not in str(error):  # verified on arrival; only time has passed
                raise
            event = delivery.event
        assert str(event["id"]) == delivery.msg_id
        events.append(event)
    return events


def test_a_sink_receives_every_subscribed_event_in_order_across_an_outage_and_a_restart(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Orders and returns arrive before, during and after a minute-long outage of the sink and
    a SIGKILL of the daemon: each subscribed event is received at least once, correctly
    signed, and the sink sees them in the log's order."""
    sandbox.add_orders(20)
    sandbox.add_returns(5, states=["Pending Authorization"])
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"outbox": {"max_attempts": 200}})
    )
    with WebhookReceiver(SECRET) as receiver, daemon(config, tmp_path) as running:
        with_sink(config, receiver.url, TYPES, tmp_path / "webhook-secret")
        running.start()
        assert wait_until(lambda: len(receiver.inbox.accepted) >= 45, timeout=60), running.output()
        receiver.inbox.fail_with = 503
        sandbox.add_orders(10)
        assert wait_until(lambda: receiver.inbox.refused >= 3, timeout=30), running.output()
        running.kill()
        running.start()
        time.sleep(OUTAGE_SECONDS)
        receiver.inbox.fail_with = None
        assert wait_until(lambda: confirmed_count(engine) == 30, timeout=60), running.output()
        expected = subscribed(engine)
        assert wait_until(
            lambda: {e["id"] for e in receiver.inbox.events()} >= set(expected), timeout=60
        ), running.output()
        code, _ = running.terminate()
        output = running.output()
    assert code == 0
    assert SECRET not in output
    assert SECRET.removeprefix("whsec_") not in output
    received = verified_events(receiver)
    first_seen = list(dict.fromkeys(e["id"] for e in received))
    assert first_seen == expected
    assert len(expected) == 30 + 30 + 5


def test_a_sink_that_always_fails_goes_dead_without_holding_up_confirms(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """With the sink answering 500 for ever, its first message ends ``dead`` after the attempt
    budget (the later ones wait behind it, in order) while every order is confirmed."""
    sandbox.add_orders(100)
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"outbox": {"max_attempts": 3}})
    )
    with WebhookReceiver(SECRET) as receiver, daemon(config, tmp_path) as running:
        receiver.inbox.fail_with = 500
        with_sink(config, receiver.url, TYPES, tmp_path / "webhook-secret")
        started = time.monotonic()
        running.start()
        assert wait_until(lambda: confirmed_count(engine) == 100, timeout=90), running.output()
        confirmed_in = time.monotonic() - started
        assert wait_until(lambda: outbox_statuses(engine).get("dead", 0) == 1, timeout=60)
        code, _ = running.terminate()
    assert code == 0
    statuses = outbox_statuses(engine)
    assert (statuses["sent"], statuses["dead"]) == (100, 1)
    assert statuses["pending"] >= 199  # the sink's later events wait behind its dead head
    assert receiver.inbox.accepted == []
    print(f"100 orders confirmed in {confirmed_in:.1f} s with the sink failing")
