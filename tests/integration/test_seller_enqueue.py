"""Seller actions in the database: enqueue in the caller's transaction, preparation at claim."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from feedamp_sync.core.attempts import AttemptResult
from feedamp_sync.core.facts import OrderFacts, ReturnFacts, StoredReturnLine
from feedamp_sync.db import tables as t
from feedamp_sync.db.identity import database_identity_of
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.seller_actions import load_facts_of
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.model import order_record, return_record
from feedamp_sync.outbox.enqueue import enqueue
from feedamp_sync.outbox.fulfillment import FulfillmentPlan
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.prepare import Preparer, subject_of
from feedamp_sync.outbox.refund import RefundPlan
from feedamp_sync.settings import OutboxSettings

NOW = datetime.now(UTC)
REFUND = {"mp_line_number": "L1", "refund_reason": "customer_return", "currency": "USD"}
NONCE = "[0-9A-HJKMNP-TV-Z]{5}"


def store_order(engine: Engine, order_id: str = "10042") -> None:
    lines = [{"mp_line_number": "L1", "sku": "S1", "quantity": 3}]
    record = order_record({"id": order_id, "order_info": {"order_lines": lines}})
    OrderStore(engine).save_page(
        "main", [record], now=NOW, number_for=lambda row_id, _: f"FA{row_id}", confirm=False
    )


def store_return(engine: Engine) -> None:
    data = {
        "id": "5001",
        "state": "Pending Authorization",
        "return_info": {
            "mp_return_number": "123RT",
            "return_lines": [{"mp_return_line_number": "R1", "feedamp_return_line_id": "900001"}],
        },
    }
    ReturnStore(engine).save_page("main", [return_record(data)], now=NOW)


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.outbox).order_by(t.outbox.c.id)))


def ship(quantity: int, tracking: str) -> dict[str, Any]:
    entry = {
        "quantity_shipped": quantity,
        "shipped_date": "2026-05-01",
        "carrier": "UPS",
        "tracking_number": tracking,
    }
    return {"order_lines": [{"mp_line_number": "L1", "fulfillments": [entry]}]}


def test_a_refund_enqueued_in_a_committed_transaction_is_stored_with_its_number(
    engine: Engine,
) -> None:
    """The message is pending with the number rendered from its id, and the key that holds it."""
    store_order(engine)
    with engine.begin() as conn:
        added = enqueue(conn, account="main", kind="refund", target_id="10042", payload=REFUND)
    [row] = rows(engine)
    number = row.payload["cp_refund_number"]
    assert re.fullmatch(rf"RF{database_identity_of(engine)}-{added.id}-{NONCE}", number)
    assert (row.id, row.status, row.kind, row.target_id) == (added.id, "pending", "refund", "10042")
    assert row.payload == {**REFUND, "cp_refund_number": number}
    assert (row.unique_key, row.own_number) == (f"refund:main:{number}", True)
    assert added.summary() == {
        "id": added.id,
        "kind": "refund",
        "target_id": "10042",
        "status": "pending",
    }


def test_a_rolled_back_transaction_leaves_neither_the_sellers_change_nor_the_message(
    engine: Engine,
) -> None:
    """The outbox row shares the caller's fate: rolled back together."""
    store_order(engine)
    with engine.connect() as conn:
        conn.execute(text("UPDATE feedamp_orders SET state = 'SHIPPED_HERE'"))
        enqueue(conn, account="main", kind="fulfillment", target_id="10042", payload=ship(1, "A"))
        conn.rollback()
    assert rows(engine) == []
    with engine.connect() as conn:
        assert conn.scalar(select(t.orders.c.state)) is None


def test_an_orm_session_is_accepted_and_commits_the_message(engine: Engine) -> None:
    """enqueue joins a Session's transaction; the session's commit stores the message."""
    store_order(engine)
    with Session(engine) as session:
        enqueue(
            session, account="main", kind="fulfillment", target_id="10042", payload=ship(1, "A")
        )
        session.commit()
    assert [row.kind for row in rows(engine)] == ["fulfillment"]


def test_a_refused_enqueue_leaves_the_callers_transaction_usable(engine: Engine) -> None:
    """A taken number is refused, nothing is added, and the caller can still commit its work."""
    store_order(engine)
    with engine.begin() as conn:
        enqueue(
            conn,
            account="main",
            kind="refund",
            target_id="10042",
            payload={**REFUND, "cp_refund_number": "R1"},
        )
    with engine.begin() as conn:
        with pytest.raises(InvalidPayload, match="already used by outbox message"):
            enqueue(
                conn,
                account="main",
                kind="refund",
                target_id="10042",
                payload={**REFUND, "cp_refund_number": "R1"},
            )
        conn.execute(text("UPDATE feedamp_orders SET state = 'STILL_USABLE'"))
    assert len(rows(engine)) == 1
    with engine.connect() as conn:
        assert conn.scalar(select(t.orders.c.state)) == "STILL_USABLE"


def test_a_second_authorization_of_a_return_is_refused(engine: Engine) -> None:
    """The default number is the return's mp_return_number, so a second one collides."""
    store_return(engine)
    with engine.begin() as conn:
        first = enqueue(
            conn, account="main", kind="return_authorization", target_id="5001", payload={}
        )
    assert first.payload == {"merchant_return_number": "123RT"}
    with engine.begin() as conn, pytest.raises(InvalidPayload) as refused:
        enqueue(conn, account="main", kind="return_authorization", target_id="5001", payload={})
    assert refused.value.problems == [
        f'merchant_return_number: "123RT" is already used by outbox message {first.id} (pending); '
        "each return authorization needs a merchant_return_number of its own"
    ]
    assert len(rows(engine)) == 1


def test_queued_fulfillments_count_against_what_is_left(engine: Engine) -> None:
    """Two queued units of a three-unit line leave one: shipping two more is refused."""
    store_order(engine)
    with engine.begin() as conn:
        enqueue(conn, account="main", kind="fulfillment", target_id="10042", payload=ship(2, "A"))
    with engine.begin() as conn, pytest.raises(InvalidPayload, match="only 1 of its 3 units"):
        enqueue(conn, account="main", kind="fulfillment", target_id="10042", payload=ship(2, "B"))


def test_a_cancelled_fulfillment_no_longer_covers_its_units(engine: Engine) -> None:
    """Units of a cancelled message are free again."""
    store_order(engine)
    with engine.begin() as conn:
        first = enqueue(
            conn, account="main", kind="fulfillment", target_id="10042", payload=ship(3, "A")
        )
        conn.execute(t.outbox.update().where(t.outbox.c.id == first.id).values(status="cancelled"))
    with engine.begin() as conn:
        enqueue(conn, account="main", kind="fulfillment", target_id="10042", payload=ship(3, "B"))
    assert [row.status for row in rows(engine)] == ["cancelled", "pending"]


def insert(engine: Engine, kind: str, target_id: str, payload: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            t.outbox.insert().values(
                account="main", kind=kind, target_id=target_id, payload=payload
            )
        )


def claim(engine: Engine, owner: str = "w1") -> list[Any]:
    # The rows' server-default times are the real now, whenever this test runs.
    due = datetime.now(UTC) + timedelta(minutes=5)
    return OutboxStore(engine, KINDS.return_kinds).claim(owner, due, limit=10, lease_seconds=60)


def test_preparing_an_inserted_refund_persists_its_number_before_delivery(engine: Engine) -> None:
    """At first claim the number is rendered, written to payload and unique_key, and planned."""
    store_order(engine)
    insert(engine, "refund", "10042", {"refund_info": REFUND})
    preparation = Preparer(engine, OutboxSettings(), KINDS)("w1", claim(engine))
    [ready] = preparation.ready
    [row] = rows(engine)
    number = row.payload["cp_refund_number"]
    assert re.fullmatch(rf"RF{database_identity_of(engine)}-{ready.id}-{NONCE}", number)
    assert ready.plan == RefundPlan({**REFUND, "cp_refund_number": number})
    assert (row.unique_key, row.own_number, ready.own_number) == (
        f"refund:main:{number}",
        True,
        True,
    )


def test_a_seller_given_number_is_not_the_messages_own(engine: Engine) -> None:
    """Whoever else the seller's system gave it to, FeedAMP may hold it: not ours alone."""
    store_order(engine)
    insert(engine, "refund", "10042", {**REFUND, "cp_refund_number": "ERP-77"})
    [ready] = Preparer(engine, OutboxSettings(), KINDS)("w1", claim(engine)).ready
    [row] = rows(engine)
    assert (row.unique_key, row.own_number, ready.own_number) == (
        "refund:main:ERP-77",
        False,
        False,
    )


def test_preparing_a_claim_that_was_lost_drops_it(engine: Engine) -> None:
    """A number is only written under our own claim; a claim taken over is not delivered."""
    store_order(engine)
    insert(engine, "refund", "10042", REFUND)
    claimed = claim(engine)
    with engine.begin() as conn:
        conn.execute(t.outbox.update().values(lease_owner="someone-else"))
    preparation = Preparer(engine, OutboxSettings(), KINDS)("w1", claimed)
    assert (preparation.ready, preparation.refused) == ([], [])
    assert rows(engine)[0].unique_key is None


def test_preparing_an_invalid_row_refuses_it_and_readies_the_rest(engine: Engine) -> None:
    """A bad row is refused with its problems; a good one beside it gets its plan."""
    store_order(engine)
    store_order(engine, "10043")
    insert(engine, "fulfillment", "10042", {"order_lines": [{"mp_line_number": "L1"}]})
    insert(engine, "fulfillment", "10043", ship(1, "A"))
    preparation = Preparer(engine, OutboxSettings(), KINDS)("w1", claim(engine))
    [(refused, problems)] = preparation.refused
    assert refused.target_id == "10042"
    assert isinstance(problems, InvalidPayload)
    assert problems.problems == [
        "order_lines[0]: needs at least one fulfillment, cancellation or withdrawal"
    ]
    [ready] = preparation.ready
    assert isinstance(ready.plan, FulfillmentPlan)


def test_two_rows_of_one_claim_asking_for_the_same_number_the_second_is_refused(
    engine: Engine,
) -> None:
    """A claim is prepared in one transaction: the first row's number is seen by the second."""
    store_order(engine)
    store_order(engine, "10043")
    for order_id in ("10042", "10043"):
        insert(engine, "refund", order_id, {"refund_info": {**REFUND, "cp_refund_number": "R7"}})
    preparation = Preparer(engine, OutboxSettings(), KINDS)("w1", claim(engine))
    [ready] = preparation.ready
    [(refused, problems)] = preparation.refused
    assert (ready.target_id, refused.target_id) == ("10042", "10043")
    assert isinstance(problems, InvalidPayload)
    assert "R7" in problems.problems[0]
    assert [row.unique_key for row in rows(engine)] == ["refund:main:R7", None]


def test_a_fulfillment_claimed_again_is_planned_with_the_body_its_last_put_sent(
    engine: Engine,
) -> None:
    """The body an earlier attempt PUT reaches the plan of the next; a later attempt that
    ended before its PUT (and recorded none) does not hide it."""
    store_order(engine)
    insert(engine, "fulfillment", "10042", ship(1, "A"))
    store = OutboxStore(engine, KINDS.return_kinds)
    [ui, ours] = (ship(1, tracking)["order_lines"][0]["fulfillments"][0] for tracking in "UA")
    put = {"order_lines": [{"mp_line_number": "L1", "fulfillments": [ui, ours]}]}
    for request in (put, None):
        [claimed] = claim(engine)
        lost = store.finish(
            "w1", [AttemptResult(claimed, "retry", NOW, next_attempt_at=NOW, request=request)]
        )
        assert lost == []
    [ready] = Preparer(engine, OutboxSettings(), KINDS)("w1", claim(engine)).ready
    assert isinstance(ready.plan, FulfillmentPlan)
    assert (ready.attempts, ready.plan.last_sent) == (3, put)


def test_confirms_pass_through_preparation_untouched(engine: Engine) -> None:
    """The daemon's own confirm messages need no preparation."""
    insert(engine, "confirm", "10042", {"cp_order_number": "FA1"})
    claimed = claim(engine)
    assert Preparer(engine, OutboxSettings(), KINDS)("w1", claimed).ready == claimed


def test_a_number_the_template_cannot_render_takes_back_the_row(engine: Engine) -> None:
    """A template that cannot render takes back the row it had inserted."""
    store_order(engine)
    templates = OutboxSettings(cp_refund_number_template="{mp_line_number}" + "x" * 130 + "{id}")
    with engine.begin() as conn, pytest.raises(InvalidPayload, match="renders"):
        enqueue(
            conn,
            account="main",
            kind="refund",
            target_id="10042",
            payload=REFUND,
            settings=templates,
        )
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.outbox)) == 0


def test_facts_of_a_whole_claim_are_each_messages_own(engine: Engine) -> None:
    """Loaded together, each message gets its own order or return and earlier fulfillments."""
    store_order(engine)
    store_order(engine, "10043")
    store_return(engine)
    insert(engine, "fulfillment", "10042", ship(1, "A"))
    insert(engine, "fulfillment", "10043", ship(1, "B"))
    insert(engine, "fulfillment", "10042", ship(1, "C"))
    first, _, third = (row.id for row in rows(engine))
    subjects = [
        subject_of(KINDS["fulfillment"], "main", "10042", before_id=third),
        subject_of(KINDS["refund"], "main", "10043", before_id=None),
        subject_of(KINDS["return_authorization"], "main", "5001", before_id=None),
        subject_of(KINDS["fulfillment"], "main", "404", before_id=None),
        subject_of(KINDS["fulfillment"], "other", "10042", before_id=None),
        subject_of(KINDS["fulfillment"], "main", "10042", before_id=first),
    ]
    with engine.connect() as conn:
        together = load_facts_of(conn, subjects)
    shipped, refunded, authorized, missing, elsewhere, earliest = together
    assert isinstance(shipped, OrderFacts)
    assert isinstance(earliest, OrderFacts)
    assert [e.message_id for e in shipped.earlier_messages] == [first]
    assert earliest.earlier_messages == ()
    assert isinstance(refunded, OrderFacts)
    assert refunded.earlier_messages == ()
    assert isinstance(authorized, ReturnFacts)
    assert authorized.lines == (StoredReturnLine("R1", "900001"),)
    assert (missing, elsewhere) == (None, None)


def broken_plan(payload: Any, facts: Any) -> Any:
    raise KeyError("a fault in a kind's own code")


def test_a_fault_in_a_kinds_planner_costs_only_its_message(engine: Engine) -> None:
    """A planner that raises leaves its message to be retried; the claim's others are ready."""
    store_order(engine)
    store_order(engine, "10043")
    refunds = KINDS["refund"]
    broken = dataclasses.replace(refunds, name="broken_refund", cli_name=None, plan=broken_plan)
    kinds = KINDS.with_kinds(broken)
    insert(engine, "broken_refund", "10042", REFUND)
    insert(engine, "refund", "10043", REFUND | {"cp_refund_number": "R8"})
    preparation = Preparer(engine, OutboxSettings(), kinds)("w1", claim(engine))
    [(refused, error)] = preparation.refused
    assert (refused.kind, type(error)) == ("broken_refund", KeyError)
    assert [message.kind for message in preparation.ready] == ["refund"]
