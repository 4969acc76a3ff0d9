"""A message checked against the stored order or return it is about.

After its shape (``payloads.py``), this is the second half of every seller action's
validation, shared by the three ways to enqueue one: what only the stored data can tell (an
unknown order, return or line; a SKU that is not the line's; more units shipped or cancelled
than the line has left). The rules common to every kind are here, each kind's own in its
``check_stored``. Pure: the caller loads the :mod:`facts <feedamp_sync.core.facts>` first.
"""

from __future__ import annotations

from feedamp_sync.core.facts import Facts, OrderFacts, ReturnFacts, Target
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.fields import shown
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.outbox.payloads import Checked

_FACTS_OF: dict[Target, type[OrderFacts] | type[ReturnFacts]] = {
    Target.ORDER: OrderFacts,
    Target.RETURN: ReturnFacts,
}


def require_context(
    kind: Kind, checked: Checked, facts: Facts, *, account: str, target_id: str
) -> None:
    """Raise InvalidPayload listing everything :func:`check_context` finds."""
    problems = check_context(kind, checked, facts, account=account, target_id=target_id)
    if problems:
        raise InvalidPayload(problems)


def check_context(
    kind: Kind, checked: Checked, facts: Facts, *, account: str, target_id: str
) -> list[str]:
    """What is wrong with a well-formed payload given the stored order or return: it must
    be stored for the account, then the kind's own checks apply."""
    if not isinstance(facts, _FACTS_OF[kind.target]):
        what = kind.target.value
        return [
            f"target_id: no {what} {shown(target_id)} is stored for account {shown(account)}; "
            f"the daemon stores {what}s when it polls FeedAMP (run `feedamp-sync run --once`)"
        ]
    return [] if kind.check_stored is None else kind.check_stored(checked.payload, facts)


def unknown_line(facts: OrderFacts, number: str) -> str:
    """The problem of a payload naming a line the stored order does not have."""
    known = ", ".join(sorted(facts.lines)) or "none"
    return f"{shown(number)} is not a line of order {facts.order_id} (its lines: {known})"
