"""One daemon, two FeedAMP accounts at FeedAMP's default limits: the first account's backlog
of confirms costs the second account nothing, and a shipment enqueued in the middle of the
backlog goes within a few seconds, not after it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import SandboxServer
from tests.end_to_end.actions import fulfillment, lines_of, shipment
from tests.end_to_end.harness import (
    CLIENT_ID,
    PASSWORD,
    USERNAME,
    cli,
    daemon,
    new_sandbox,
    toml_value,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

BACKLOG = 1_000
"""At the default 5 requests a second, 200 s of confirms: far longer than the test runs."""
PROMPT_SECONDS = 30.0
"""Generous for a loaded machine; behind the backlog the wait would be minutes."""


def two_accounts_config(directory: Path, database_url: str, a_url: str, b_url: str) -> Path:
    """Accounts ``a`` and ``b`` at the default rate limits; pollers every second."""
    accounts = "\n".join(
        f"""
[[accounts]]
name = "{name}"
base_url = "{url}"
username = "{USERNAME}"
password = "{PASSWORD}"
client_id = {CLIENT_ID}
"""
        for name, url in (("a", a_url), ("b", b_url))
    )
    config = directory / "feedamp-sync.toml"
    config.write_text(f"""
[database]
url = {toml_value(database_url)}
{accounts}
[jobs]
orders_interval = 1
returns_interval = 60
outbox_interval = 0.5
""")
    config.chmod(0o600)
    return config


def confirmed(engine: Engine, account: str) -> int:
    with engine.connect() as conn:
        query = select(func.count(t.orders.c.confirmed_at)).where(t.orders.c.account == account)
        return int(conn.scalar(query) or 0)


def a_confirmed_order(engine: Engine) -> str:
    with engine.connect() as conn:
        query = select(t.orders.c.feedamp_id).where(
            t.orders.c.account == "a", t.orders.c.confirmed_at.is_not(None)
        )
        return str(conn.scalars(query).first())


def status_of(engine: Engine, message_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(t.outbox.c.status).where(t.outbox.c.id == message_id)))


def test_a_second_account_and_a_mid_backlog_shipment_go_while_a_backlog_drains(
    database_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_world, b_world = new_sandbox(seed=21), new_sandbox(seed=22)
    a_world.add_orders(BACKLOG)
    with (
        SandboxServer(a_world, host="127.0.0.1", port=0) as a_server,
        SandboxServer(b_world, host="127.0.0.1", port=0) as b_server,
    ):
        config = two_accounts_config(tmp_path, database_url, a_server.base_url, b_server.base_url)
        with daemon(config, tmp_path) as running:
            running.start()
            assert wait_until(lambda: confirmed(engine, "a") >= 10, timeout=60), (
                running.latest_output()[-3_000:]
            )

            b_world.add_orders(5)
            order = a_confirmed_order(engine)
            payload = tmp_path / "shipment.json"
            line = lines_of(a_world, order)[0]
            payload.write_text(
                json.dumps(fulfillment(line["mp_line_number"], shipment(1, "1Z-MID-BACKLOG")))
            )
            code, out, err = cli(
                capsys, config, "enqueue", "fulfillment", order, str(payload), "--account", "a"
            )
            assert code == 0, err
            message_id = int(json.loads(out)["id"])
            enqueued_at = time.monotonic()

            assert wait_until(lambda: status_of(engine, message_id) == "sent", timeout=60)
            shipment_waited = time.monotonic() - enqueued_at
            assert wait_until(lambda: confirmed(engine, "b") == 5, timeout=60)
            b_waited = time.monotonic() - enqueued_at
            a_done = confirmed(engine, "a")
            running.terminate()
    assert a_done < BACKLOG / 2, "the backlog should still be draining"
    assert shipment_waited < PROMPT_SECONDS
    assert b_waited < PROMPT_SECONDS
