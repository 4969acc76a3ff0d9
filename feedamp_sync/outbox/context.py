"""A seller action checked against the stored order or return it is about.

After its shape (``payloads.py``), this is the second half of every seller action's
validation, shared by the three ways to enqueue one: what only the stored data can tell (an
unknown order, return or line; a SKU that is not the line's; more units shipped or cancelled
than the line has left). Pure: the caller loads the
:mod:`facts <feedamp_sync.outbox.facts>` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.facts import ORDER_KINDS, Facts, OrderFacts, ReturnFacts
from feedamp_sync.outbox.fields import join, shown
from feedamp_sync.outbox.fulfillment_union import covered, union
from feedamp_sync.outbox.payloads import Checked, check_payload

Json = dict[str, Any]


def require_context(checked: Checked, facts: Facts, *, account: str, target_id: str) -> None:
    """Raise InvalidPayload listing everything :func:`check_context` finds."""
    problems = check_context(checked, facts, account=account, target_id=target_id)
    if problems:
        raise InvalidPayload(problems)


def check_context(checked: Checked, facts: Facts, *, account: str, target_id: str) -> list[str]:
    """What is wrong with a well-formed payload given the stored order or return."""
    if checked.kind in ORDER_KINDS:
        if not isinstance(facts, OrderFacts):
            return [_not_stored("order", account, target_id)]
        return _ORDER_CHECKS[checked.kind](checked.payload, facts)
    if not isinstance(facts, ReturnFacts):
        return [_not_stored("return", account, target_id)]
    return _return_refund(checked.payload, facts) if checked.kind == "return_refund" else []


def _not_stored(what: str, account: str, target_id: str) -> str:
    return (
        f"target_id: no {what} {shown(target_id)} is stored for account {shown(account)}; "
        f"the daemon stores {what}s when it polls FeedAMP (run `feedamp-sync run --once`)"
    )


def _unknown_line(facts: OrderFacts, number: str) -> str:
    known = ", ".join(sorted(facts.lines)) or "none"
    return f"{shown(number)} is not a line of order {facts.order_id} (its lines: {known})"


def _fulfillment(payload: Json, facts: OrderFacts) -> list[str]:
    problems: list[str] = []
    earlier = _valid_earlier(facts)
    before = covered(union([payload for _, payload in earlier]))
    after = covered(union([payload for _, payload in earlier] + [payload]))
    for index, line in enumerate(payload["order_lines"]):
        path = join("order_lines", index)
        number = line["mp_line_number"]
        stored = facts.lines.get(number)
        if stored is None:
            problems.append(f"{join(path, 'mp_line_number')}: {_unknown_line(facts, number)}")
            continue
        if "sku" in line and stored.sku is not None and line["sku"] != stored.sku:
            problems.append(
                f"{join(path, 'sku')}: {shown(line['sku'])} is not the SKU of line "
                f"{shown(number)} ({shown(stored.sku)})"
            )
        if stored.quantity is None or after.get(number, 0) <= stored.quantity:
            continue
        shipped = sum(s["quantity_shipped"] for s in line["fulfillments"])
        cancelled = sum(c["quantity_cancelled"] for c in line["cancellations"])
        done = before.get(number, 0)
        by = [
            message_id
            for message_id, earlier_payload in earlier
            if any(x["mp_line_number"] == number for x in earlier_payload["order_lines"])
        ]
        problems.append(
            f"{path}: ships {shipped} and cancels {cancelled} of line {shown(number)}, but only "
            f"{max(0, stored.quantity - done)} of its {stored.quantity} units are left"
            + (f" ({done} covered by outbox messages {', '.join(map(str, by))})" if by else "")
        )
    return problems


def _valid_earlier(facts: OrderFacts) -> list[tuple[int, Json]]:
    """Earlier fulfillments that can still take effect, normalised; a malformed one (an
    inserted row that will go dead when claimed) covers nothing."""
    found: list[tuple[int, Json]] = []
    for earlier in facts.earlier_fulfillments:
        try:
            checked = check_payload("fulfillment", earlier.payload)
        except InvalidPayload:
            continue
        found.append((earlier.message_id, checked.payload))
    return found


def _refund(payload: Json, facts: OrderFacts) -> list[str]:
    number = payload["mp_line_number"]
    stored = facts.lines.get(number)
    if stored is None:
        return [f"mp_line_number: {_unknown_line(facts, number)}"]
    quantity = payload.get("refund_quantity")
    if quantity is not None and stored.quantity is not None and quantity > stored.quantity:
        return [
            f"refund_quantity: {quantity} is more than line {shown(number)} has "
            f"({stored.quantity} ordered)"
        ]
    return []


def _return_refund(payload: Json, facts: ReturnFacts) -> list[str]:
    lines = payload.get("merchant_refund_lines", [])
    if not lines and not facts.line_ids:
        return [
            f"merchant_refund_lines: none given, and stored return {facts.return_id} has no "
            "line with a feedamp_return_line_id to refund"
        ]
    known = ", ".join(facts.line_ids) or "none"
    return [
        f"{join(join('merchant_refund_lines', index), 'feedamp_return_line_id')}: "
        f"{shown(line['feedamp_return_line_id'])} is not a line of return {facts.return_id} "
        f"(its lines: {known})"
        for index, line in enumerate(lines)
        if line["feedamp_return_line_id"] not in facts.line_ids
    ]


_ORDER_CHECKS: Final[dict[str, Callable[[Json, OrderFacts], list[str]]]] = {
    "fulfillment": _fulfillment,
    "refund": _refund,
}
