"""Per line of an order: what was ordered, shipped, cancelled and refunded, and by whom.

``orders show`` answers "what does FeedAMP hold for this order?" in one command. The set
starts from the newest copy of the order FeedAMP gave this daemon that shows fulfillment
data: the stored copy (kept current by the refresh job and ``orders fetch``, dated by when
it last changed), or a fulfillment's answer (or the order as read back to reconcile one),
dated by when that message was sent. Each of our fulfillments sent after that copy, which
the copy does not show yet, is then applied as its PUT applied it: FeedAMP's set, plus our
earlier entries it lacked, less what the message withdrew, plus its own entries. With no
such copy at all the set is this daemon's own sent messages. Each shipment and cancellation
is attributed to the message that carried it, or to FeedAMP when none of ours did (typed
into its UI, or sent by another integration), matched as deliveries match them: by tracking
number (or reason) compared without case, units as sums. Refunds are this daemon's sent refund
messages (v1 cannot list refunds). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from feedamp_sync.outbox.fulfillment_set import (
    Holdings,
    Item,
    held_by,
    item,
    of_payloads,
    plus,
    took_effect,
    union,
    withdrawn_by,
    without,
)

Json = dict[str, Any]
FEEDAMP: Final = "feedamp"
"""The source of units none of our messages carried: typed into FeedAMP's UI, or sent by
another integration."""


@dataclass(frozen=True)
class SentAction:
    """A sent seller action of the order: its message id, payload, FeedAMP's answer, and
    when it was sent (None for a row marked sent without a date)."""

    message_id: int
    payload: Any
    response: Any = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class StoredCopy:
    """The order as stored (FeedAMP's object) and when that copy last changed."""

    data: Any
    changed_at: datetime | None


@dataclass(frozen=True)
class Basis:
    """Which copy of FeedAMP's the ledger starts from, and what was applied on top."""

    shown_by: str
    """``order`` (the stored copy), ``answer`` (a fulfillment's answer) or ``messages``
    (no copy shows fulfillment data: this daemon's own sent messages alone)."""
    at: datetime | None = None
    message_id: int | None = None
    """The message whose answer it is, for ``answer``."""
    applied: tuple[int, ...] = ()
    """Our messages sent after that copy and applied to it, in order."""

    def fields(self) -> Json:
        return {
            "shown_by": self.shown_by,
            "at": self.at,
            "message_id": self.message_id,
            "applied": list(self.applied),
        }


@dataclass(frozen=True)
class Ledger:
    lines: list[Json] = field(default_factory=list)
    basis: Basis = field(default_factory=lambda: Basis("messages"))


def order_ledger(
    lines: Sequence[tuple[str, int | None]],
    fulfillments: Sequence[SentAction],
    refunds: Sequence[SentAction],
    stored: StoredCopy | None = None,
) -> Ledger:
    """One entry per line (in the order's own order, then any other line named), and the
    basis of its shipments and cancellations."""
    ours = [f for f in fulfillments if _is_fulfillment(f.payload)]
    shown, basis = _shown(ours, stored)
    sources = _attributed(shown, [(f.message_id, f.payload) for f in ours])
    numbers = [number for number, _ in lines]
    numbers += [number for number in shown if number not in numbers]
    ordered = dict(lines)
    refunded = _refunds_by_line(refunds)
    entries: list[Json] = []
    for number in numbers:
        found = sources.get(number, [])
        shipments = [entry | {"source": s} for kind, entry, s in found if kind == "shipment"]
        cancellations = [
            entry | {"source": s} for kind, entry, s in found if kind == "cancellation"
        ]
        entries.append(
            {
                "mp_line_number": number,
                "ordered": ordered.get(number),
                "shipped": sum(int(s.get("quantity_shipped", 0)) for s in shipments),
                "cancelled": sum(int(c.get("quantity_cancelled", 0)) for c in cancellations),
                "refunded": sum(r.get("refund_quantity", 0) for r in refunded.get(number, [])),
                "shipments": shipments,
                "cancellations": cancellations,
                "refunds": refunded.get(number, []),
            }
        )
    return Ledger(entries, basis)


def _shown(ours: Sequence[SentAction], stored: StoredCopy | None) -> tuple[Holdings, Basis]:
    """FeedAMP's newest copy that shows fulfillment data, with our later messages applied;
    without one, our own messages' entries."""
    answered = next(
        (
            (index, held)
            for index in reversed(range(len(ours)))
            if (held := _held(ours[index].response)) is not None
        ),
        None,
    )
    copy = _held(stored.data) if stored is not None else None
    if copy is not None and stored is not None and _newer(stored.changed_at, answered, ours):
        later = [f for f in ours if _after(f.sent_at, stored.changed_at)]
        start, basis = copy, Basis("order", stored.changed_at)
    elif answered is not None:
        index, start = answered
        later = list(ours[index + 1 :])
        basis = Basis("answer", ours[index].sent_at, ours[index].message_id)
    else:
        return of_payloads(f.payload for f in ours), Basis("messages")
    current, applied = start, list[int]()
    for message in later:
        earlier = of_payloads(f.payload for f in ours if f.message_id < message.message_id)
        carried, withdrawn = of_payloads([message.payload]), withdrawn_by(message.payload)
        ours_after = plus(without(earlier, withdrawn)[0], carried)
        if took_effect(current, ours_after, carried, withdrawn):
            continue
        kept, _ = without(union(current, earlier), withdrawn)
        current = plus(kept, carried)
        applied.append(message.message_id)
    return current, Basis(basis.shown_by, basis.at, basis.message_id, tuple(applied))


def _newer(
    changed_at: datetime | None,
    answered: tuple[int, Holdings] | None,
    ours: Sequence[SentAction],
) -> bool:
    """Whether the stored copy is newer than the latest answer that shows fulfillment data
    (an undated copy is not; an undated answer is older than any dated copy)."""
    if answered is None:
        return True
    if changed_at is None:
        return False
    sent_at = ours[answered[0]].sent_at
    return sent_at is None or changed_at > sent_at


def _after(sent_at: datetime | None, changed_at: datetime | None) -> bool:
    """Whether a message was sent after the copy last changed (an undated one was not)."""
    return sent_at is not None and (changed_at is None or sent_at > changed_at)


def _held(response: Any) -> Holdings | None:
    order = response.get("order", response) if isinstance(response, Mapping) else None
    if isinstance(order, list) and len(order) == 1:
        order = order[0]
    return held_by(order) if isinstance(order, Mapping) else None


def _attributed(
    shown: Holdings, ours: Sequence[tuple[int, Any]]
) -> dict[str, list[tuple[str, Json, str]]]:
    """Each entry of ``shown`` with the messages whose units it shows, oldest first, matched
    by tracking number (or reason) as deliveries match them; units none of ours carried are
    FeedAMP's. An entry FeedAMP shows summed (two of our one-unit shipments as one of two
    units) names both messages."""
    claims: dict[tuple[str, Item], list[list[int]]] = {}
    for message_id, payload in ours:
        for number, line in of_payloads([payload]).items():
            for key, _ in line.entries:
                claims.setdefault((number, item(key)), []).append([message_id, key[2]])
    attributed: dict[str, list[tuple[str, Json, str]]] = {}
    for number, line in shown.items():
        for key, entry in line.entries:
            source = _carriers(claims.get((number, item(key)), []), key[2])
            attributed.setdefault(number, []).append((key[0], entry, source))
    return attributed


def _carriers(claims: list[list[int]], units: int) -> str:
    """Who the ``units`` of one shown entry came from, taking them from ``claims`` (each
    ``[message id, units not yet attributed]``, oldest first); the rest are FeedAMP's."""
    carriers: list[str] = []
    left = units
    while left > 0 and claims:
        message_id, claimed = claims[0]
        taken = min(claimed, left)
        left -= taken
        carriers.append(f"message {message_id}")
        if taken == claimed:
            claims.pop(0)
        else:
            claims[0][1] = claimed - taken
    if left > 0 or not carriers:
        carriers.append(FEEDAMP)
    return ", ".join(carriers)


def _refunds_by_line(refunds: Sequence[SentAction]) -> dict[str, list[Json]]:
    """Each sent refund under its line, as sent (less the line), with its message."""
    found: dict[str, list[Json]] = {}
    for refund in refunds:
        payload = refund.payload if isinstance(refund.payload, Mapping) else {}
        number = payload.get("mp_line_number")
        if isinstance(number, str):
            shown = {k: v for k, v in payload.items() if k != "mp_line_number"}
            found.setdefault(number, []).append(shown | {"source": f"message {refund.message_id}"})
    return found


def _is_fulfillment(payload: Any) -> bool:
    return isinstance(payload, Mapping) and isinstance(payload.get("order_lines"), list)
