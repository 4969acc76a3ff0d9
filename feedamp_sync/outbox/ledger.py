"""Per line of an order: what was ordered, shipped, cancelled and refunded, and by whom.

``orders show`` answers "what does FeedAMP hold for this order?" with one table. The set
comes from FeedAMP's latest answer this daemon has (a fulfillment's answer, or the order as
read back to reconcile one), else from this daemon's own sent messages; each shipment and
cancellation is attributed to the message that carried it, or to FeedAMP when none of ours
did (typed into its UI, or sent by another integration). Refunds are this daemon's sent
refund messages (v1 cannot list refunds). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedamp_sync.outbox.fulfillment_set import Holdings, held_by, of_payloads

Json = dict[str, Any]


@dataclass(frozen=True)
class SentAction:
    """A sent seller action of the order: its message id, payload and FeedAMP's answer."""

    message_id: int
    payload: Any
    response: Any = None


def order_ledger(
    lines: Sequence[tuple[str, int | None]],
    fulfillments: Sequence[SentAction],
    refunds: Sequence[SentAction],
) -> list[Json]:
    """One entry per line (in the order's own order, then any other line named)."""
    ours = [(f.message_id, f.payload) for f in fulfillments if _is_fulfillment(f.payload)]
    latest = next(
        (held for f in reversed(fulfillments) if (held := _held(f.response)) is not None), None
    )
    shown = latest if latest is not None else of_payloads(p for _, p in ours)
    sources = _attributed(shown, ours)
    numbers = [number for number, _ in lines]
    numbers += [number for number in shown if number not in numbers]
    ordered = dict(lines)
    refunded = _refunds_by_line(refunds)
    ledger: list[Json] = []
    for number in numbers:
        entries = sources.get(number, [])
        shipments = [entry | {"source": s} for kind, entry, s in entries if kind == "shipment"]
        cancellations = [
            entry | {"source": s} for kind, entry, s in entries if kind == "cancellation"
        ]
        ledger.append(
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
    return ledger


def _held(response: Any) -> Holdings | None:
    order = response.get("order", response) if isinstance(response, Mapping) else None
    if isinstance(order, list) and len(order) == 1:
        order = order[0]
    return held_by(order) if isinstance(order, Mapping) else None


def _attributed(
    shown: Holdings, ours: Sequence[tuple[int, Any]]
) -> dict[str, list[tuple[str, Json, str]]]:
    """Each entry of ``shown`` with the message that carried it, oldest first, or FeedAMP."""
    claims: dict[tuple[str, tuple[str, str, int]], list[int]] = {}
    for message_id, payload in ours:
        for number, line in of_payloads([payload]).items():
            for key, _ in line.entries:
                claims.setdefault((number, key), []).append(message_id)
    attributed: dict[str, list[tuple[str, Json, str]]] = {}
    for number, line in shown.items():
        for key, entry in line.entries:
            carriers = claims.get((number, key))
            source = f"message {carriers.pop(0)}" if carriers else "feedamp"
            attributed.setdefault(number, []).append((key[0], entry, source))
    return attributed


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
