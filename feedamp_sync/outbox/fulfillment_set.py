"""An order's shipments and cancellations as multisets: what FeedAMP holds, what we sent, and
the set to PUT.

``PUT .../fulfill`` replaces every shipment and cancellation FeedAMP holds for the order, and
the docs say to add new ones by reading the existing set, adding, and PUTting the whole. So
the set sent is FeedAMP's own (shipments typed into its UI, or sent by an earlier integration,
are kept), plus whatever of our earlier messages it does not hold, plus the new message. Every
entry a message carries counts once per message: two messages that each ship one unit under
the same tracking number (two units scanned into one box) ship two units. An entry is known
by what identifies it on the line: a shipment by tracking number and quantity, a cancellation
by reason and quantity (FeedAMP may echo dates and carriers in its own form). A message may
also withdraw an earlier shipment (``withdrawn``: a mistyped tracking number corrected): one
entry so known leaves the set, whoever entered it, and later messages do not bring it back.
Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
Key = tuple[str, str, int]
"""``("shipment", tracking_number, quantity)`` or ``("cancellation", reason, quantity)``."""


@dataclass
class LineSet:
    """One line's entries, in the order they were added; repeats are kept (a multiset)."""

    sku: str | None = None
    entries: list[tuple[Key, Json]] = field(default_factory=list)

    def count(self) -> Counter[Key]:
        return Counter(key for key, _ in self.entries)


Holdings = dict[str, LineSet]
"""Entries by ``mp_line_number``, lines in the order they first appear."""


def of_payloads(payloads: Iterable[Mapping[str, Any]]) -> Holdings:
    """The entries of normalised fulfillment payloads in order, each payload's counted once,
    less the ones a later payload withdrew."""
    holdings: Holdings = {}
    for payload in payloads:
        for line in payload["order_lines"]:
            target = holdings.setdefault(str(line["mp_line_number"]), LineSet())
            target.sku = target.sku or line.get("sku")
            _take_out(target, withdrawn_keys(line))
            target.entries += _entries(line)
    return holdings


def withdrawn_by(payload: Mapping[str, Any]) -> dict[str, list[Key]]:
    """The shipments a payload withdraws, per line."""
    found = {str(line["mp_line_number"]): withdrawn_keys(line) for line in payload["order_lines"]}
    return {number: keys for number, keys in found.items() if keys}


def withdrawn_keys(line: Mapping[str, Any]) -> list[Key]:
    return [
        ("shipment", str(item["tracking_number"]), int(item["quantity_shipped"]))
        for item in _dicts(line.get("withdrawn"))
    ]


def without(holdings: Holdings, withdrawn: Mapping[str, list[Key]]) -> tuple[Holdings, list[str]]:
    """The set less one entry per withdrawn key, and the withdrawals that matched nothing."""
    kept: Holdings = {number: LineSet(s.sku, list(s.entries)) for number, s in holdings.items()}
    unmatched: list[str] = []
    for number, keys in withdrawn.items():
        line = kept.setdefault(number, LineSet())
        missing = _take_out(line, keys)
        unmatched += [f"{key[2]} unit(s) under {key[1]} on line {number}" for key in missing]
    return kept, unmatched


def _take_out(line: LineSet, keys: list[Key]) -> list[Key]:
    """Remove one entry per key (the latest); returns the keys no entry matched."""
    missing: list[Key] = []
    for key in keys:
        index = next(
            (i for i in reversed(range(len(line.entries))) if line.entries[i][0] == key), None
        )
        if index is None:
            missing.append(key)
        else:
            del line.entries[index]
    return missing


def held_by(order: Mapping[str, Any]) -> Holdings | None:
    """What an order read back from FeedAMP holds, per line; None when no line shows
    fulfillment data at all (a shape we cannot read: the caller falls back to its own)."""
    info = order.get("order_info")
    lines = info.get("order_lines") if isinstance(info, Mapping) else None
    if not isinstance(lines, list):
        return None
    holdings: Holdings = {}
    readable = False
    for line in lines:
        if not isinstance(line, Mapping) or line.get("mp_line_number") is None:
            continue
        readable = readable or "fulfillments" in line or "cancellations" in line
        entries = _entries(line)
        if entries:
            holdings[str(line["mp_line_number"])] = LineSet(None, entries)
    return holdings if readable else None


def plus(first: Holdings, second: Holdings) -> Holdings:
    """Both sets' entries: a multiset sum."""
    total: Holdings = {number: LineSet(s.sku, list(s.entries)) for number, s in first.items()}
    for number, line in second.items():
        target = total.setdefault(number, LineSet())
        target.sku = target.sku or line.sku
        target.entries += line.entries
    return total


def union(held: Holdings, ours: Holdings) -> Holdings:
    """FeedAMP's entries, and ours beyond them: an entry both hold counts as often as the
    larger of the two holds it (a multiset union), FeedAMP's copy first."""
    total: Holdings = {number: LineSet(s.sku, list(s.entries)) for number, s in held.items()}
    for number, line in ours.items():
        target = total.setdefault(number, LineSet())
        target.sku = target.sku or line.sku
        room = target.count()
        for key, entry in line.entries:
            if room[key] > 0:
                room[key] -= 1
            else:
                target.entries.append((key, entry))
    return total


def carries(
    held: Holdings,
    before: Holdings,
    new: Holdings,
    withdrawn: Mapping[str, list[Key]] | None = None,
) -> bool:
    """Whether FeedAMP holds everything ``new`` carried on top of ``before``: each of its
    entries as often as ``before`` and ``new`` together have it, and no more of a withdrawn
    shipment than ``before`` leaves. After an attempt whose outcome is unknown, this tells
    "the PUT took effect" from "it did not"."""
    for number, line in new.items():
        have = held.get(number, LineSet()).count()
        need = before.get(number, LineSet()).count() + line.count()
        if any(have[key] < need[key] for key in line.count()):
            return False
    for number, keys in (withdrawn or {}).items():
        have = held.get(number, LineSet()).count()
        left = before.get(number, LineSet()).count()
        left.subtract(Counter(keys))
        if any(have[key] > max(0, left[key]) for key in keys):
            return False
    return True


def body(holdings: Holdings, invoice_number: str | None) -> Json:
    """The fulfill request body holding every entry of ``holdings``."""
    lines: list[Json] = []
    for number, line in holdings.items():
        shipments = [entry for key, entry in line.entries if key[0] == "shipment"]
        cancellations = [entry for key, entry in line.entries if key[0] == "cancellation"]
        if not shipments and not cancellations:
            continue
        sent: Json = {"mp_line_number": number}
        if line.sku:
            sent["sku"] = line.sku
        lines.append(sent | {"fulfillments": shipments, "cancellations": cancellations})
    result: Json = {} if invoice_number is None else {"invoice_number": invoice_number}
    return result | {"order_lines": lines}


def covered(holdings: Holdings) -> dict[str, int]:
    """Units of each line shipped or cancelled."""
    return {number: sum(key[2] for key, _ in line.entries) for number, line in holdings.items()}


def newest_invoice(payloads: Iterable[Mapping[str, Any]]) -> str | None:
    invoice: str | None = None
    for payload in payloads:
        invoice = payload.get("invoice_number") or invoice
    return invoice


def _entries(line: Mapping[str, Any]) -> list[tuple[Key, Json]]:
    found: list[tuple[Key, Json]] = []
    for shipment in _dicts(line.get("fulfillments")):
        quantity = _quantity(shipment.get("quantity_shipped"))
        if quantity is not None:
            found.append((("shipment", str(shipment.get("tracking_number")), quantity), shipment))
    for cancellation in _dicts(line.get("cancellations")):
        quantity = _quantity(cancellation.get("quantity_cancelled"))
        if quantity is not None:
            reason = str(cancellation.get("cancellation_reason"))
            found.append((("cancellation", reason, quantity), cancellation))
    return found


def _dicts(value: Any) -> list[Json]:
    return (
        [dict(item) for item in value if isinstance(item, Mapping)]
        if isinstance(value, list)
        else []
    )


def _quantity(value: Any) -> int | None:
    """A quantity FeedAMP may echo as a number or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
