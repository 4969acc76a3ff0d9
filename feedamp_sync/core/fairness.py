"""Who gets the next claims: every account in turn, and inside an account every kind in turn.

The outbox used to claim globally in due order, so one account's backlog of thousands of
confirms kept every other account's messages, and its own shipments, waiting behind it. Now
a claim is dealt out like cards: accounts whose oldest due message has waited longest come
first, each account takes one message per round while it has room, and inside an account the
kinds take turns in the registry's order. A backlog therefore costs its own account time and
no one else's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

LaneKey = tuple[str, str]
"""(account, kind)."""


@dataclass(frozen=True)
class Lane:
    """The due messages of one kind in one account, as the queue counts them."""

    account: str
    kind: str
    due: int
    oldest_due_at: datetime

    @property
    def key(self) -> LaneKey:
        return (self.account, self.kind)


def allot(
    lanes: Iterable[Lane],
    *,
    limit: int,
    room: Callable[[str], int],
    turn_order: Sequence[str],
) -> dict[LaneKey, int]:
    """How many messages to claim from each lane, at most ``limit`` in all.

    ``room(account)`` is how many more messages of that account the claimer can hold (its
    rate budget's worth); ``turn_order`` ranks the kinds inside an account, unknown kinds
    last. A lane never gets more than it has due.
    """
    rank = {kind: position for position, kind in enumerate(turn_order)}
    by_account: dict[str, list[Lane]] = {}
    for lane in lanes:
        if lane.due > 0:
            by_account.setdefault(lane.account, []).append(lane)
    waited_longest = sorted(
        by_account,
        key=lambda account: (min(lane.oldest_due_at for lane in by_account[account]), account),
    )
    hands = {
        account: _Hand(
            sorted(
                by_account[account], key=lambda lane: (rank.get(lane.kind, len(rank)), lane.kind)
            ),
            max(0, room(account)),
        )
        for account in waited_longest
    }
    taken: dict[LaneKey, int] = {}
    left = limit
    while left > 0:
        dealt = 0
        for account in waited_longest:
            key = hands[account].deal()
            if key is None:
                continue
            taken[key] = taken.get(key, 0) + 1
            dealt += 1
            left -= 1
            if left == 0:
                break
        if dealt == 0:
            break
    return taken


class _Hand:
    """One account's lanes during a deal: the kinds in turn, within the account's room."""

    def __init__(self, lanes: list[Lane], room: int) -> None:
        self._left = {lane.key: lane.due for lane in lanes}
        self._turns = [lane.key for lane in lanes]
        self._next = 0
        self._room = room

    def deal(self) -> LaneKey | None:
        """The lane whose turn it is, one message taken from it; None when done."""
        if self._room == 0:
            return None
        for step in range(len(self._turns)):
            key = self._turns[(self._next + step) % len(self._turns)]
            if self._left[key] > 0:
                self._left[key] -= 1
                self._room -= 1
                self._next = (self._next + step + 1) % len(self._turns)
                return key
        return None


class Queued(Protocol):
    @property
    def account(self) -> str: ...

    @property
    def kind(self) -> str: ...


Message = TypeVar("Message", bound=Queued)


class Waiting(Generic[Message]):
    """Claimed messages waiting for a worker and for their account's rate budget.

    Accounts are served in rotation (the one served last goes to the back) and, inside an
    account, kinds in turn, so the order of sending keeps the fairness the claim dealt.
    """

    def __init__(self, turn_order: Sequence[str]) -> None:
        self._rank = {kind: position for position, kind in enumerate(turn_order)}
        self._lanes: dict[str, dict[str, deque[Message]]] = {}
        self._last_kind: dict[str, str] = {}
        self._rotation: deque[str] = deque()

    def add(self, messages: Iterable[Message]) -> None:
        """Queue messages behind those of their lane already waiting, in the order given."""
        for message in messages:
            if message.account not in self._lanes:
                self._lanes[message.account] = {}
                self._rotation.append(message.account)
            self._lanes[message.account].setdefault(message.kind, deque()).append(message)

    def accounts(self) -> list[str]:
        """Accounts with messages waiting, the one served longest ago first."""
        return list(self._rotation)

    def count(self, account: str) -> int:
        return sum(len(lane) for lane in self._lanes.get(account, {}).values())

    def take(self, account: str) -> Message:
        """The account's next message, its kinds in turn; the account goes to the back."""
        lanes = self._lanes[account]
        turns = sorted(lanes, key=self._turn)
        last = self._last_kind.get(account)
        later = [kind for kind in turns if last is not None and self._turn(kind) > self._turn(last)]
        kind = (later or turns)[0]
        message = lanes[kind].popleft()
        self._last_kind[account] = kind
        if not lanes[kind]:
            del lanes[kind]
        self._rotation.remove(account)
        if lanes:
            self._rotation.append(account)
        else:
            del self._lanes[account]
        return message

    def take_all(self) -> list[Message]:
        """Every waiting message, emptying the queue (at a stop, to hand the claims back)."""
        messages = self.all()
        self._lanes.clear()
        self._rotation.clear()
        return messages

    def all(self) -> list[Message]:
        return [m for lanes in self._lanes.values() for lane in lanes.values() for m in lane]

    def __len__(self) -> int:
        return sum(self.count(account) for account in self._lanes)

    def _turn(self, kind: str) -> tuple[int, str]:
        return (self._rank.get(kind, len(self._rank)), kind)
