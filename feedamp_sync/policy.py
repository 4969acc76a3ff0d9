"""Pure decisions: seller numbers, and what a read-back of an order means.

Nothing here performs I/O; every function takes the facts it needs and returns a value, so each
rule is tested without fixtures. When to retry is :mod:`feedamp_sync.retries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Final

UNCONFIRMED_ORDER_STATES: Final = frozenset({"ORDERED", "PENDING"})


def seller_number(template: str, **fields: Any) -> str:
    """Render a seller number (``cp_order_number``, ``cp_refund_number``...) from its template.

    The template was validated at start; the defaults take FeedAMP's order id
    (``FA{feedamp_id}``), or this database's identity with a local id and a random part
    drawn for this number alone (``RF{database}-{id}-{nonce}``), so no other database, nor
    a restored or copied one, renders them too; the unique constraints guard templates that
    do not, within one database.
    """
    return template.format(**fields)


def disambiguated(number: str, row_id: int) -> str:
    """The number to use instead when a template produced one that is already taken."""
    return f"{number}-{row_id}"


class ReadBack(Enum):
    """What FeedAMP's copy of an order says about an earlier confirm attempt."""

    CONFIRMED_WITH_OUR_NUMBER = "ours"
    NOT_CONFIRMED = "not_confirmed"
    CONFIRMED_WITH_OTHER_NUMBER = "other"


def confirm_read_back(order: Mapping[str, Any], our_number: str) -> tuple[ReadBack, str | None]:
    """Judge whether an order read back from FeedAMP already carries our confirmation.

    Our number there means the earlier attempt took effect. An order still in a new state
    has not been confirmed (whatever ``cp_order_number`` it shows, as the published samples
    show one on new orders). Anything else was confirmed by someone else: the caller must
    stop and say so loudly rather than confirm a second time. Returns the verdict and the
    number FeedAMP holds.
    """
    info = order.get("order_info")
    held = info.get("cp_order_number") if isinstance(info, Mapping) else None
    held_number = str(held) if held not in (None, "") else None
    if held_number == our_number:
        return ReadBack.CONFIRMED_WITH_OUR_NUMBER, held_number
    if str(order.get("state", "")).upper() in UNCONFIRMED_ORDER_STATES:
        return ReadBack.NOT_CONFIRMED, held_number
    return ReadBack.CONFIRMED_WITH_OTHER_NUMBER, held_number
