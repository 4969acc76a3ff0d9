"""Fair claims: accounts take turns by how long they have waited, kinds take turns inside an
account, and no account takes more than its room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feedamp_sync.core.fairness import Lane, Waiting, allot
from feedamp_sync.outbox.kinds import KINDS

T0 = datetime(2026, 12, 1, tzinfo=UTC)
TURNS = ("fulfillment", "refund", "confirm")


def lane(account: str, kind: str, due: int, waited_seconds: int = 0) -> Lane:
    return Lane(account, kind, due, T0 - timedelta(seconds=waited_seconds))


def unlimited(_: str) -> int:
    return 1_000


def test_a_backlog_does_not_take_the_claim_from_an_account_with_a_few_due() -> None:
    lanes = [lane("a", "confirm", 5_000, waited_seconds=600), lane("b", "confirm", 3)]
    shares = allot(lanes, limit=10, room=unlimited, turn_order=TURNS)
    assert shares == {("a", "confirm"): 7, ("b", "confirm"): 3}


def test_the_account_waiting_longest_is_dealt_first_when_the_claim_is_small() -> None:
    lanes = [lane("a", "confirm", 5), lane("b", "confirm", 5, waited_seconds=60)]
    assert allot(lanes, limit=1, room=unlimited, turn_order=TURNS) == {("b", "confirm"): 1}


def test_an_account_takes_no_more_than_its_room() -> None:
    lanes = [lane("a", "confirm", 5_000), lane("b", "confirm", 5_000)]
    shares = allot(lanes, limit=100, room={"a": 4, "b": 10}.__getitem__, turn_order=TURNS)
    assert shares == {("a", "confirm"): 4, ("b", "confirm"): 10}


def test_an_account_without_room_gets_nothing() -> None:
    lanes = [lane("a", "confirm", 50)]
    assert allot(lanes, limit=100, room=lambda _: 0, turn_order=TURNS) == {}


def test_kinds_of_one_account_take_turns_starting_with_the_first_in_turn_order() -> None:
    lanes = [lane("a", "confirm", 5_000, waited_seconds=600), lane("a", "fulfillment", 1)]
    shares = allot(lanes, limit=1, room=unlimited, turn_order=TURNS)
    assert shares == {("a", "fulfillment"): 1}


def test_a_kind_with_a_backlog_shares_its_account_with_the_others() -> None:
    lanes = [lane("a", "confirm", 5_000), lane("a", "fulfillment", 5_000), lane("a", "refund", 1)]
    shares = allot(lanes, limit=9, room=unlimited, turn_order=TURNS)
    assert shares == {("a", "fulfillment"): 4, ("a", "refund"): 1, ("a", "confirm"): 4}


def test_no_lane_is_dealt_more_than_it_has_due() -> None:
    lanes = [lane("a", "confirm", 2), lane("b", "refund", 1)]
    shares = allot(lanes, limit=100, room=unlimited, turn_order=TURNS)
    assert shares == {("a", "confirm"): 2, ("b", "refund"): 1}


def test_the_registry_declares_fulfillments_first_and_confirms_last() -> None:
    assert KINDS.turn_order[0] == "fulfillment"
    assert KINDS.turn_order[-1] == "confirm"


@dataclass(frozen=True)
class Message:
    account: str
    kind: str
    id: int


def waiting_with(*messages: Message) -> Waiting[Message]:
    waiting: Waiting[Message] = Waiting(TURNS)
    waiting.add(messages)
    return waiting


def test_waiting_accounts_rotate_the_one_just_served_to_the_back() -> None:
    waiting = waiting_with(
        Message("a", "confirm", 1), Message("a", "confirm", 2), Message("b", "confirm", 3)
    )
    assert waiting.take("a").id == 1
    assert waiting.accounts() == ["b", "a"]


def test_an_account_served_its_last_message_leaves_the_rotation() -> None:
    waiting = waiting_with(Message("a", "confirm", 1), Message("b", "confirm", 2))
    waiting.take("a")
    assert waiting.accounts() == ["b"]
    assert waiting.count("a") == 0


def test_waiting_kinds_of_one_account_alternate_in_turn_order() -> None:
    waiting = waiting_with(
        Message("a", "confirm", 1),
        Message("a", "confirm", 2),
        Message("a", "confirm", 3),
        Message("a", "fulfillment", 4),
        Message("a", "fulfillment", 5),
    )
    taken = [waiting.take("a").id for _ in range(5)]
    assert taken == [4, 1, 5, 2, 3]


def test_messages_of_one_lane_keep_the_order_they_were_claimed_in() -> None:
    waiting = waiting_with(*(Message("a", "confirm", n) for n in (7, 3, 9)))
    assert [waiting.take("a").id for _ in range(3)] == [7, 3, 9]


def test_taking_all_empties_the_queue() -> None:
    waiting = waiting_with(Message("a", "confirm", 1), Message("b", "refund", 2))
    assert sorted(m.id for m in waiting.take_all()) == [1, 2]
    assert len(waiting) == 0
    assert waiting.accounts() == []
