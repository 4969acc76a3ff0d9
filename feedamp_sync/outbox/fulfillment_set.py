"""An order's shipments and cancellations as multisets: what FeedAMP holds, what we sent, and
the set to PUT.

``PUT .../fulfill`` replaces every shipment and cancellation FeedAMP holds for the order, and
the docs say to add new ones by reading the existing set, adding, and PUTting the whole. So
the set sent is FeedAMP's own (shipments typed into its UI, or sent by an earlier integration,
are kept), plus whatever of our earlier messages it does not hold, plus the new message. Every
entry a message carries counts once per message: two messages that each ship one unit under
the same tracking number (two units scanned into one box) ship two units.

An entry is known by what identifies it on the line: a shipment by its tracking number, a
cancellation by its reason (FeedAMP may echo dates and carriers in its own form). Tracking
numbers and reasons are compared without surrounding spaces and without case, since FeedAMP
may echo them normalised, and units are compared per tracking number (or reason) as sums, since
it may echo two one-unit shipments in one box as one of two units. A message may also withdraw
an earlier shipment (``withdrawn``: a mistyped tracking number corrected): its units leave the
set, whoever entered them, and later messages do not bring them back. What is PUT of an entry
is only the fields the fulfill request documents. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

Json = dict[str, Any]
Key = tuple[str, str, int]
"""``("shipment", tracking_number, quantity)`` or ``("cancellation", reason, quantity)``, the
tracking number or reason in its compared form (:func:`compared`)."""
Item = tuple[str, str]
"""What units are counted under: ``("shipment", tracking_number)`` or ``("cancellation",
reason)``, in the compared form."""

SHIPMENT_FIELDS: Final = (
    "quantity_shipped",
    "shipped_date",
    "carrier",
    "tracking_number",
    "tracking_url",
)
"""A fulfillment object's fields in the fulfill request, its quantity first."""
CANCELLATION_FIELDS: Final = ("quantity_cancelled", "cancellation_reason")
"""A cancellation object's fields in the fulfill request, its quantity first."""


def compared(text: Any) -> str:
    """A tracking number or reason as entries are matched by: FeedAMP may echo ``1z-a `` as
    ``1Z-A``."""
    return str(text).strip().upper()


def item(key: Key) -> Item:
    return key[0], key[1]


@dataclass
class LineSet:
    """One line's entries, in the order they were added; repeats are kept (a multiset)."""

    sku: str | None = None
    entries: list[tuple[Key, Json]] = field(default_factory=list)

    def units(self) -> Counter[Item]:
        """Units per tracking number (shipments) and reason (cancellations)."""
        found: Counter[Item] = Counter()
        for key, _ in self.entries:
            found[item(key)] += key[2]
        return found


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
        ("shipment", compared(entry["tracking_number"]), int(entry["quantity_shipped"]))
        for entry in _dicts(line.get("withdrawn"))
    ]


def without(holdings: Holdings, withdrawn: Mapping[str, list[Key]]) -> tuple[Holdings, list[str]]:
    """The set less the withdrawn units, and the withdrawals that matched nothing."""
    kept = _copy(holdings)
    unmatched: list[str] = []
    for number, keys in withdrawn.items():
        line = kept.setdefault(number, LineSet())
        missing = _take_out(line, keys)
        unmatched += [f"{key[2]} unit(s) under {key[1]} on line {number}" for key in missing]
    return kept, unmatched


def _take_out(line: LineSet, keys: list[Key]) -> list[Key]:
    """Remove each key's units from the line; returns the keys whose units it lacks."""
    return [key for key in keys if not _took_out(line, key)]


def _took_out(line: LineSet, key: Key) -> bool:
    """The latest entry that is exactly ``key`` leaves the line; without one, ``key``'s units
    leave the entries under its tracking number, latest first (one FeedAMP echoed as a sum
    is made smaller). False, and nothing removed, when the line has fewer such units."""
    indexes = [
        i for i in reversed(range(len(line.entries))) if item(line.entries[i][0]) == item(key)
    ]
    exact = [i for i in indexes if line.entries[i][0] == key]
    if exact:
        del line.entries[exact[0]]
        return True
    if sum(line.entries[i][0][2] for i in indexes) < key[2]:
        return False
    left = key[2]
    for index in indexes:
        found, entry = line.entries[index]
        if found[2] <= left:
            del line.entries[index]
            left -= found[2]
        else:
            line.entries[index] = _with_quantity(found, entry, found[2] - left)
            left = 0
        if not left:
            break
    return True


def held_by(order: Mapping[str, Any]) -> Holdings | None:
    """What an order read back from FeedAMP holds, per line; None when no line shows
    fulfillment data at all (a shape we cannot read: the caller falls back to its own)."""
    info = order.get("order_info")
    lines = info.get("order_lines") if isinstance(info, Mapping) else None
    if not isinstance(lines, list):
        return None
    readable = any(
        isinstance(line, Mapping) and ("fulfillments" in line or "cancellations" in line)
        for line in lines
    )
    return _read(lines) if readable else None


def sent_in(request: Any) -> Holdings | None:
    """The entries of a fulfill request body as an attempt recorded it; None for anything
    that is not one."""
    lines = request.get("order_lines") if isinstance(request, Mapping) else None
    return _read(lines) if isinstance(lines, list) else None


def _read(lines: list[Any]) -> Holdings:
    holdings: Holdings = {}
    for line in lines:
        if not isinstance(line, Mapping) or line.get("mp_line_number") is None:
            continue
        entries = _entries(line)
        if entries:
            holdings.setdefault(str(line["mp_line_number"]), LineSet()).entries += entries
    return holdings


def plus(first: Holdings, second: Holdings) -> Holdings:
    """Both sets' entries: a multiset sum."""
    total = _copy(first)
    for number, line in second.items():
        target = total.setdefault(number, LineSet())
        target.sku = target.sku or line.sku
        target.entries += line.entries
    return total


def union(held: Holdings, ours: Holdings) -> Holdings:
    """FeedAMP's entries, and ours beyond them: under each tracking number (or reason) as
    many units as the larger of the two holds (a multiset union), FeedAMP's copy first. Our
    entries that FeedAMP's units already account for are left out, oldest first; one it
    accounts for in part is added with the units it lacks."""
    total = _copy(held)
    for number, line in ours.items():
        target = total.setdefault(number, LineSet())
        target.sku = target.sku or line.sku
        room = target.units()
        for key, entry in line.entries:
            shown = room[item(key)]
            if shown >= key[2]:
                room[item(key)] -= key[2]
                continue
            room[item(key)] = 0
            target.entries.append(_with_quantity(key, entry, key[2] - shown))
    return total


def took_effect(
    held: Holdings,
    sent: Holdings,
    carried: Holdings,
    withdrawn: Mapping[str, list[Key]] | None = None,
) -> bool:
    """Whether FeedAMP holds what a PUT of ``sent`` left it holding, for what the message
    carried: under each tracking number (or reason) of ``carried`` at least the units ``sent``
    had, and under each withdrawn one at most. After an attempt whose outcome is unknown,
    ``sent`` is the body it PUT, FeedAMP's entries of the time included, so an identical
    entry FeedAMP held from elsewhere is not taken for ours."""
    for number, line in carried.items():
        have = held.get(number, LineSet()).units()
        need = sent.get(number, LineSet()).units()
        if any(have[what] < max(need[what], units) for what, units in line.units().items()):
            return False
    for number, keys in (withdrawn or {}).items():
        have = held.get(number, LineSet()).units()
        left = sent.get(number, LineSet()).units()
        if any(have[item(key)] > left[item(key)] for key in keys):
            return False
    return True


def body(holdings: Holdings, invoice_number: str | None) -> Json:
    """The fulfill request body holding every entry of ``holdings``, each with only the
    fields the request documents (FeedAMP may echo more: an id, a status) and its quantity
    as a number."""
    lines: list[Json] = []
    for number, line in holdings.items():
        shipments = [_sendable(key, entry) for key, entry in line.entries if key[0] == "shipment"]
        cancellations = [
            _sendable(key, entry) for key, entry in line.entries if key[0] == "cancellation"
        ]
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


def ships(holdings: Holdings) -> bool:
    """Whether any line has a shipment (not only cancellations)."""
    return any(key[0] == "shipment" for line in holdings.values() for key, _ in line.entries)


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
            tracking = compared(shipment.get("tracking_number"))
            found.append((("shipment", tracking, quantity), shipment))
    for cancellation in _dicts(line.get("cancellations")):
        quantity = _quantity(cancellation.get("quantity_cancelled"))
        if quantity is not None:
            reason = compared(cancellation.get("cancellation_reason"))
            found.append((("cancellation", reason, quantity), cancellation))
    return found


def _with_quantity(key: Key, entry: Json, quantity: int) -> tuple[Key, Json]:
    if quantity == key[2]:
        return key, entry
    fields = SHIPMENT_FIELDS if key[0] == "shipment" else CANCELLATION_FIELDS
    return (key[0], key[1], quantity), entry | {fields[0]: quantity}


def _sendable(key: Key, entry: Json) -> Json:
    fields = SHIPMENT_FIELDS if key[0] == "shipment" else CANCELLATION_FIELDS
    sent = {name: entry[name] for name in fields if entry.get(name) is not None}
    return sent | {fields[0]: key[2]}


def _copy(holdings: Holdings) -> Holdings:
    return {number: LineSet(s.sku, list(s.entries)) for number, s in holdings.items()}


def _dicts(value: Any) -> list[Json]:
    return (
        [dict(entry) for entry in value if isinstance(entry, Mapping)]
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
