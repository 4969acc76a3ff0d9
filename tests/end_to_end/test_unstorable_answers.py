"""Answers no database stores as received: FeedAMP's with a NUL and half an emoji, a webhook
sink's with a NUL byte. Each is recorded escaped and the pass goes on, on every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import Sandbox, SandboxServer, WebhookReceiver
from tests.end_to_end.actions import QUICK_RETRIES
from tests.end_to_end.harness import cli, write_config
from tests.end_to_end.test_webhooks import SECRET, with_sink

POISON: Final = "A\x00B\ud83d"
"""A NUL (PostgreSQL stores none) and half an emoji (no UTF-8 at all)."""
ESCAPED: Final = "A\\u0000B\\ud83d"


def with_gift_message(answer: Any) -> Any:
    """FeedAMP's answer to a confirm, its order carrying a gift message no database stores."""
    return {"order": {**answer["order"], "gift_message": POISON}}


def outbox_rows(engine: Engine) -> list[Any]:
    box = t.outbox.c
    with engine.connect() as conn:
        return list(
            conn.execute(select(box.kind, box.target_id, box.status, box.response).order_by(box.id))
        )


def test_answers_no_database_stores_are_recorded_escaped_while_the_pass_goes_on(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One order's confirm is answered with a NUL and half an emoji in a text field, and the
    sink answers each event 200 with ``ok\\x00``: in one ``run --once`` every confirm and every
    delivery is sent, their answers kept escaped, and no job fails."""
    orders = sandbox.add_orders(10)
    sandbox.answer_as(orders[3], with_gift_message)
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    with WebhookReceiver(SECRET) as receiver:
        receiver.inbox.accept_with, receiver.inbox.answer_body = 200, b"ok\x00"
        with_sink(config, receiver.url, ("order.confirmed",), tmp_path / "webhook-secret")

        code, _, err = cli(capsys, config, "run", "--once")

    assert (code, '"job_failed"' in err) == (0, False), err
    assert sandbox.unconfirmed_orders() == []
    rows = outbox_rows(engine)
    confirms = {row.target_id: row for row in rows if row.kind == "confirm"}
    webhooks = [row for row in rows if row.kind == "webhook"]
    assert {row.status for row in rows} == {"sent"}
    assert (len(confirms), len(webhooks), len(receiver.inbox.accepted)) == (10, 10, 10)
    assert confirms[orders[3]].response["gift_message"] == ESCAPED
    assert {row.response["body"] for row in webhooks} == {"ok\\u0000"}
