"""A kind declared in one place goes through the whole outbox like the daemon's own.

The kind below lives only in this test: a note about an order, numbered from its own
template, checked against the stored order and delivered by reading the order from the
sandbox. Enqueue, preparation, numbering, planning, delivery and the record all come from
its one declaration, registered with ``KINDS.with_kinds``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import Engine

from feedamp_sync.app import App, Stop, build_app
from feedamp_sync.core.facts import Facts, OrderFacts, Target
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.enqueue import enqueue
from feedamp_sync.outbox.fields import Shape, Text
from feedamp_sync.outbox.kind import Kind, NumberRule, NumberSource
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.sandbox import Sandbox, SandboxServer
from feedamp_sync.settings import load_settings
from tests.end_to_end.actions import QUICK_RETRIES, lines_of
from tests.end_to_end.harness import new_sandbox, write_config

Json = dict[str, Any]


class OrderNotePayload(Shape):
    text: Text
    note_number: Text | None = None


def check_note_against_order(payload: Json, facts: Facts) -> list[str]:
    assert isinstance(facts, OrderFacts)
    return [] if facts.lines else ["order: has no lines to note"]


@dataclass(frozen=True)
class NotePlan:
    body: Json

    @property
    def request(self) -> Json:
        return self.body


def plan_note(payload: Json, facts: Facts) -> NotePlan:
    assert isinstance(facts, OrderFacts)
    return NotePlan({**payload, "lines": sorted(facts.lines)})


def deliver_note(client: FeedampClient, message: OutboxMessage) -> Delivered:
    order = client.get_order(message.target_id)
    return Delivered(request=message.plan.request, response={"state": order.get("state")})


def number_fields(source: NumberSource) -> dict[str, Any]:
    return {"id": source.message_id}


ORDER_NOTE: Final = Kind(
    name="order_note",
    cli_name="order-note",
    summary="a note about an order",
    target=Target.ORDER,
    check=OrderNotePayload,
    check_stored=check_note_against_order,
    plan=plan_note,
    number=NumberRule("note_number", lambda templates: "NT{id:06d}", number_fields),
    deliver=deliver_note,
)
WITH_NOTES: Final = KINDS.with_kinds(ORDER_NOTE)


@dataclass(frozen=True)
class World:
    app: App
    sandbox: Sandbox
    order_id: str

    def enqueue_note(self, payload: Json) -> int:
        with self.app.engine.begin() as conn:
            added = enqueue(
                conn,
                account="main",
                kind="order_note",
                target_id=self.order_id,
                payload=payload,
                kinds=WITH_NOTES,
            )
        return added.id


@pytest.fixture
def world(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[World]:
    """A daemon that knows the note kind, with one order stored (``engine`` migrates)."""
    sandbox = new_sandbox(seed=31)
    [order_id] = sandbox.add_orders(1)
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
        with build_app(load_settings(config), kinds=WITH_NOTES) as app:
            assert app.run_once(Stop())  # stores and confirms the order
            yield World(app, sandbox, order_id)


def test_a_kind_declared_in_one_place_is_enqueued_planned_and_delivered(world: World) -> None:
    """Registered alone, a new kind is validated, numbered, planned, sent and recorded."""
    message_id = world.enqueue_note({"text": "gift wrap"})
    assert world.app.run_once(Stop())
    row = world.app.outbox.message(message_id)
    assert row is not None
    number = f"NT{message_id:06d}"
    lines = sorted(line["mp_line_number"] for line in lines_of(world.sandbox, world.order_id))
    assert (row["status"], row["unique_key"], row["payload"]) == (
        "sent",
        f"order_note:main:{number}",
        {"text": "gift wrap", "note_number": number},
    )
    [attempt] = row["attempt_history"]
    assert attempt["request"] == {"text": "gift wrap", "note_number": number, "lines": lines}
    assert [entry.path for entry in world.sandbox.ledger("get_order")] == [
        f"/api/v1/orders/{world.order_id}"
    ]


def test_a_new_kinds_own_checks_refuse_its_bad_payloads(world: World) -> None:
    """The kind's shape check runs at enqueue: a misspelt field is named, nothing stored."""
    with pytest.raises(InvalidPayload) as refused:
        world.enqueue_note({"txt": "gift wrap"})
    assert refused.value.problems == ['txt: unknown field (did you mean "text"?)', "text: required"]
    assert world.app.outbox.counts()["pending"] == 0
