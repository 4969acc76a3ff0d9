"""The seller's numbers that make a refund or a return authorization happen once.

A refund carries a ``cp_refund_number`` and an authorization a ``merchant_return_number``,
each unique in FeedAMP. When the seller gives none, one is rendered from the configured
template with the outbox message's own id, then written into the payload before the first
send, so every retry sends the same number. The outbox row's ``unique_key`` holds the number
too, and its unique constraint keeps two messages from ever using one number, which is what
lets a retry read FeedAMP's "duplicate" answer as "our earlier attempt took effect".
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.facts import Facts, ReturnFacts
from feedamp_sync.outbox.fields import TEXT_MAX_CHARS, shown
from feedamp_sync.policy import seller_number
from feedamp_sync.settings import OutboxSettings

NUMBER_FIELDS: Final = {
    "refund": "cp_refund_number",
    "return_authorization": "merchant_return_number",
}
"""The kinds that carry a unique seller number, and the payload field that holds it."""


@dataclass(frozen=True)
class Numbered:
    """A payload with its number, and the ``unique_key`` that reserves the number."""

    payload: dict[str, Any]
    number: str
    unique_key: str


def unique_key(kind: str, account: str, number: str) -> str:
    """``refund:<account>:<cp_refund_number>``, ``return_authorization:<account>:<number>``."""
    return f"{kind}:{account}:{number}"


def numbered(
    kind: str,
    payload: Mapping[str, Any],
    *,
    message_id: int,
    account: str,
    target_id: str,
    facts: Facts,
    templates: OutboxSettings,
) -> Numbered | None:
    """The payload with its number (given, or rendered now); None for kinds without one."""
    field = NUMBER_FIELDS.get(kind)
    if field is None:
        return None
    number = payload.get(field)
    if number is None:
        number = _rendered(kind, payload, message_id, account, target_id, facts, templates)
    return Numbered({**payload, field: number}, number, unique_key(kind, account, number))


def _rendered(
    kind: str,
    payload: Mapping[str, Any],
    message_id: int,
    account: str,
    target_id: str,
    facts: Facts,
    templates: OutboxSettings,
) -> str:
    field = NUMBER_FIELDS[kind]
    if kind == "refund":
        template = templates.cp_refund_number_template
        fields: dict[str, Any] = {
            "id": message_id,
            "account": account,
            "order_id": target_id,
            "mp_line_number": payload["mp_line_number"],
        }
    else:
        template = templates.merchant_return_number_template
        mp_return_number = facts.mp_return_number if isinstance(facts, ReturnFacts) else None
        if mp_return_number is None and "mp_return_number" in _names(template):
            raise InvalidPayload(
                [
                    f"{field}: not given, and the template {shown(template)} needs the stored "
                    f"return's mp_return_number, which FeedAMP did not send; give {field}"
                ]
            )
        fields = {
            "id": message_id,
            "account": account,
            "return_id": target_id,
            "mp_return_number": mp_return_number or "",
        }
    number = seller_number(template, **fields)
    if not number.strip() or len(number) > TEXT_MAX_CHARS:
        raise InvalidPayload(
            [
                f"{field}: not given, and the template {shown(template)} renders "
                f"{shown(number)}, not a non-empty number of at most {TEXT_MAX_CHARS} "
                f"characters; give {field}"
            ]
        )
    return number


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def already_used(kind: str, number: str, holder_id: int, holder_status: str) -> InvalidPayload:
    """The refusal of a number another outbox message holds."""
    field = NUMBER_FIELDS[kind]
    return InvalidPayload(
        [
            f"{field}: {shown(number)} is already used by outbox message {holder_id} "
            f"({holder_status}); each {kind.replace('_', ' ')} needs a {field} of its own"
        ]
    )
