"""Fulfillments as FeedAMP holds them, under each answer the docs leave open.

PUT fulfill replaces everything the order holds, so what we PUT must start from what FeedAMP
holds, not from what this daemon remembers sending: a shipment typed into FeedAMP's UI
survives our next one. Each message's shipments count once per message. A fulfill that took
effect but whose answer was lost ends ``sent``, and one that did not is sent again. And when
GET order shows no fulfillment data at all, tracking numbers in its own case, or a box's
shipments summed (the docs do not say how it shows them), every message still ends in the
right state or a loud, specific ``dead``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.actions import (
    QUICK_RETRIES,
    enqueue_cli,
    fulfillment,
    lines_of,
    once_under,
    order_with_quantities,
    patient_config,
    run_until_settled,
    shipment,
    statuses,
)
from tests.end_to_end.harness import cli, cli_json, write_config


@dataclass
class Shop:
    """A seller on the sandbox, with one order whose first line has ``quantity`` units."""

    sandbox: Sandbox
    engine: Engine
    config: Path
    patient: Path
    """The same seller with :data:`~tests.end_to_end.actions.PATIENT` retries."""
    tmp_path: Path
    capsys: pytest.CaptureFixture[str]
    order_id: str = ""
    line: str = ""

    def take_order(self, quantity: int) -> None:
        """An order with a first line of ``quantity`` units, stored and confirmed."""
        self.order_id = order_with_quantities(self.sandbox, self.sandbox.add_orders(40), [quantity])
        self.line = lines_of(self.sandbox, self.order_id)[0]["mp_line_number"]
        self.settle()

    def enqueue(self, payload: dict[str, Any]) -> None:
        code, _, err = enqueue_cli(
            self.capsys, self.config, self.tmp_path, "fulfillment", self.order_id, payload
        )
        assert code == 0, err

    def ship(self, tracking: str, quantity: int = 1) -> None:
        self.enqueue(fulfillment(self.line, shipment(quantity, tracking)))

    def settle(self) -> None:
        run_until_settled(self.capsys, self.config, self.engine)

    def held(self) -> list[tuple[str, int]]:
        line = lines_of(self.sandbox, self.order_id)[0]
        return [(s["tracking_number"], s["quantity_shipped"]) for s in line["fulfillments"]]

    def units_held(self) -> int:
        return sum(quantity for _, quantity in self.held())

    def once_with(self, faults: Faults) -> str:
        """One pass under ``faults`` attempting each due message once (:func:`once_under`)."""
        return once_under(self.capsys, self.patient, self.engine, self.sandbox, faults)

    def fulfillments(self) -> list[tuple[str, str | None, Any]]:
        """Each fulfillment message's status, last error and stored answer, oldest first."""
        box = t.outbox.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(box.status, box.last_error, box.response)
                .where(box.kind == "fulfillment")
                .order_by(box.id)
            )
            return [(row.status, row.last_error, row.response) for row in rows]


@pytest.fixture
def shop(
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Shop:
    config = write_config(tmp_path, database_url, server.base_url, QUICK_RETRIES)
    patient = patient_config(tmp_path, database_url, server.base_url)
    return Shop(sandbox, engine, config, patient, tmp_path, capsys)


def test_a_shipment_entered_in_feedamps_ui_survives_our_next_fulfillment(shop: Shop) -> None:
    """A unit shipped by hand in FeedAMP stays shipped after the daemon ships another, and
    ``orders show`` tells the two apart."""
    shop.take_order(3)
    shop.sandbox.enter_shipment(shop.order_id, shop.line, shipment(1, "1Z-BY-HAND"))
    shop.ship("1Z-OURS")
    shop.settle()

    assert shop.held() == [("1Z-BY-HAND", 1), ("1Z-OURS", 1)]
    assert set(statuses(shop.engine).values()) == {"sent"}
    [line] = cli_json(shop.capsys, shop.config, "orders", "show", shop.order_id)["ledger"][:1]
    sources = [(s["tracking_number"], s["source"]) for s in line["shipments"]]
    assert sources[0] == ("1Z-BY-HAND", "feedamp")
    assert sources[1][0] == "1Z-OURS"
    assert sources[1][1].startswith("message ")
    assert (line["ordered"], line["shipped"]) == (3, 2)


def test_two_identical_one_unit_shipments_in_two_messages_ship_two_units(shop: Shop) -> None:
    """Two units scanned into one box, told in two messages: FeedAMP holds both."""
    shop.take_order(2)
    for _ in range(2):
        shop.ship("1Z-BOX")
        shop.settle()

    assert shop.held() == [("1Z-BOX", 1), ("1Z-BOX", 1)]
    assert shop.sandbox.order(shop.order_id)["state"] == "FULFILLED"


def test_a_fulfill_that_took_effect_but_lost_its_answer_ends_sent(shop: Shop) -> None:
    """The fulfill completes the order, its answer is lost; the retry reads the order back
    and finds everything there: sent, not dead on the "order is complete" refusal."""
    shop.take_order(1)
    shop.sandbox.set_faults(Faults(apply_then_fail=1.0, endpoints={"fulfill"}))
    shop.ship("1Z-ONLY")
    assert cli(shop.capsys, shop.config, "run", "--once")[0] == 0
    shop.sandbox.set_faults(Faults())
    shop.settle()

    assert shop.sandbox.order(shop.order_id)["state"] == "FULFILLED"
    assert set(statuses(shop.engine).values()) == {"sent"}


def test_without_fulfillment_data_in_get_order_our_own_history_is_sent(shop: Shop) -> None:
    """GET order shows no fulfillments: each PUT carries what this daemon sent, a warning (and
    ``status``) says shipments from elsewhere cannot be kept, and both of ours arrive."""
    shop.sandbox.set_faults(Faults(hide_fulfillments=True))
    shop.take_order(3)
    shop.ship("1Z-FIRST")
    shop.settle()
    shop.ship("1Z-SECOND")
    code, _, err = cli(shop.capsys, shop.config, "run", "--once")

    assert code == 0
    assert "fulfillment_history_unreadable" in err
    assert shop.held() == [("1Z-FIRST", 1), ("1Z-SECOND", 1)]
    noticed = cli_json(shop.capsys, shop.config, "status")["jobs"]["fulfillment_history:main"]
    assert noticed["last_error_message"].startswith("GET order shows no fulfillments")


def test_a_mistyped_tracking_number_is_corrected_by_withdrawing_it(shop: Shop) -> None:
    """One message withdraws the mistyped shipment and adds the right one: FeedAMP holds the
    right one only, and a later shipment does not bring the typo back."""
    shop.take_order(3)
    shop.ship("1Z-TYPO")
    shop.settle()
    correction = fulfillment(shop.line, shipment(1, "1Z-RIGHT"))
    correction["order_lines"][0]["withdrawn"] = [
        {"tracking_number": "1Z-TYPO", "quantity_shipped": 1}
    ]
    shop.enqueue(correction)
    shop.settle()
    assert shop.held() == [("1Z-RIGHT", 1)]

    shop.ship("1Z-LATER")
    shop.settle()
    assert shop.held() == [("1Z-RIGHT", 1), ("1Z-LATER", 1)]


def test_a_retry_ships_again_when_feedamp_holds_only_the_identical_ui_shipment(shop: Shop) -> None:
    """A box shipped by hand in FeedAMP's UI, and our second unit in the same box: the first
    PUT is dropped before FeedAMP acts, so FeedAMP's one "1Z-BOX" is its own, not ours. The
    retry sends ours again: two units held, and the message sent once they are."""
    shop.take_order(2)
    shop.sandbox.enter_shipment(shop.order_id, shop.line, shipment(1, "1Z-BOX"))
    shop.ship("1Z-BOX")
    shop.once_with(Faults(drop=1.0, endpoints={"fulfill"}))
    shop.settle()

    assert shop.held() == [("1Z-BOX", 1), ("1Z-BOX", 1)]
    assert shop.sandbox.order(shop.order_id)["state"] == "FULFILLED"
    assert [status for status, _, _ in shop.fulfillments()] == ["sent"]


def test_without_fulfillment_data_a_completing_fulfill_whose_answer_was_lost_ends_sent(
    shop: Shop,
) -> None:
    """GET order shows no fulfillments; the fulfill completes the order and its answer is
    lost. The retry reads the order FULFILLED, which the body it PUT completes: sent, saying
    so, with nothing PUT again."""
    shop.sandbox.set_faults(Faults(hide_fulfillments=True))
    shop.take_order(1)
    shop.ship("1Z-ONLY")
    shop.once_with(Faults(hide_fulfillments=True, apply_then_fail=1.0, endpoints={"fulfill"}))
    shop.settle()

    assert shop.held() == [("1Z-ONLY", 1)]
    assert len(shop.sandbox.effects("fulfill")) == 1
    [(status, _, answer)] = shop.fulfillments()
    assert status == "sent"
    assert "FULFILLED" in answer["reconciled"]


def test_without_fulfillment_data_a_partial_fulfill_whose_answer_was_lost_is_sent_once(
    shop: Shop,
) -> None:
    """GET order shows no fulfillments and the order is still open: the retry PUTs the same
    set again, which replaces it with itself. One unit held, not two."""
    shop.sandbox.set_faults(Faults(hide_fulfillments=True))
    shop.take_order(3)
    shop.ship("1Z-FIRST")
    shop.once_with(Faults(hide_fulfillments=True, apply_then_fail=1.0, endpoints={"fulfill"}))
    shop.settle()

    assert shop.held() == [("1Z-FIRST", 1)]
    assert [status for status, _, _ in shop.fulfillments()] == ["sent"]


def test_without_fulfillment_data_an_order_completed_by_someone_else_is_a_specific_dead(
    shop: Shop,
) -> None:
    """Our PUT is dropped, then both units are shipped in FeedAMP's UI. GET order shows no
    fulfillments, only that the order is FULFILLED, which our one unit cannot explain: after
    a few refusals the message is dead saying what FeedAMP shows, and nothing of ours is
    sent."""
    shop.sandbox.set_faults(Faults(hide_fulfillments=True))
    shop.take_order(2)
    shop.ship("1Z-OURS")
    shop.once_with(Faults(hide_fulfillments=True, drop=1.0, endpoints={"fulfill"}))
    shop.sandbox.enter_shipment(shop.order_id, shop.line, shipment(2, "1Z-BY-HAND"))
    shop.settle()

    assert shop.held() == [("1Z-BY-HAND", 2)]
    [(status, error, _)] = shop.fulfillments()
    assert status == "dead"
    assert error is not None
    assert "order is complete" in error
    assert "does not show it took effect" in error
    assert "no fulfillment data this daemon can read, the order in state FULFILLED" in error


def test_tracking_numbers_feedamp_echoes_in_its_own_case_are_not_sent_twice(shop: Shop) -> None:
    """GET order shows "1z-a" as "1Z-A": the next shipment keeps FeedAMP's copy and adds
    none of its own, so two units are held on a line of three, nothing doubled."""
    shop.sandbox.set_faults(Faults(normalised_tracking=True))
    shop.take_order(3)
    shop.ship("1z-a")
    shop.settle()
    shop.ship("1z-b")
    shop.settle()

    assert shop.units_held() == 2
    assert [tracking.upper() for tracking, _ in shop.held()] == ["1Z-A", "1Z-B"]
    assert [status for status, _, _ in shop.fulfillments()] == ["sent", "sent"]


def test_a_lost_answer_is_settled_by_our_tracking_number_in_feedamps_case(shop: Shop) -> None:
    """The fulfill of "1z-a" completes the order and its answer is lost; GET shows "1Z-A":
    that is ours, so the message is sent, not dead on the "order is complete" refusal."""
    shop.sandbox.set_faults(Faults(normalised_tracking=True))
    shop.take_order(1)
    shop.ship("1z-a")
    shop.once_with(Faults(normalised_tracking=True, apply_then_fail=1.0, endpoints={"fulfill"}))
    shop.settle()

    assert shop.sandbox.order(shop.order_id)["state"] == "FULFILLED"
    assert [status for status, _, _ in shop.fulfillments()] == ["sent"]


def test_shipments_feedamp_echoes_summed_per_box_are_not_sent_twice(shop: Shop) -> None:
    """Two one-unit "1Z-BOX" shown by FeedAMP as one of two units: a third shipment makes
    three units on a line of three, not five."""
    shop.sandbox.set_faults(Faults(summed_shipments=True))
    shop.take_order(3)
    for tracking in ("1Z-BOX", "1Z-BOX", "1Z-OTHER"):
        shop.ship(tracking)
        shop.settle()

    assert shop.units_held() == 3
    assert shop.sandbox.order(shop.order_id)["state"] == "FULFILLED"
    assert [status for status, _, _ in shop.fulfillments()] == ["sent", "sent", "sent"]


def test_a_lost_answer_is_settled_when_feedamp_sums_our_box_with_its_own(shop: Shop) -> None:
    """A "1Z-BOX" entered in FeedAMP's UI and ours in the same box, applied but its answer
    lost; GET shows one "1Z-BOX" of two units, the two the PUT carried: sent."""
    shop.sandbox.set_faults(Faults(summed_shipments=True))
    shop.take_order(2)
    shop.sandbox.enter_shipment(shop.order_id, shop.line, shipment(1, "1Z-BOX"))
    shop.ship("1Z-BOX")
    shop.once_with(Faults(summed_shipments=True, apply_then_fail=1.0, endpoints={"fulfill"}))
    shop.settle()

    assert shop.units_held() == 2
    assert shop.sandbox.order(shop.order_id)["state"] == "FULFILLED"
    assert [status for status, _, _ in shop.fulfillments()] == ["sent"]
