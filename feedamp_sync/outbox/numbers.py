"""The seller's numbers that make a refund or a return authorization happen once.

A kind with a :class:`~feedamp_sync.outbox.kind.NumberRule` (a refund's ``cp_refund_number``,
an authorization's ``merchant_return_number``) carries a number unique in FeedAMP. When the
seller gives none, one is rendered from the configured template with the outbox message's
own id, then written into the payload before the first send, so every retry sends the same
number. The outbox row's ``unique_key`` holds the number too, and its unique constraint keeps
two messages of one database from ever using one number.

Another database can still render the same number: a restored backup or a copied staging
database carries the same identity and hands out the same ids again. A template's
``{nonce}``, drawn once per number, makes each generated number its own; only such a number
(``own``) lets a retry read FeedAMP's "duplicate" answer as "our earlier attempt took effect".
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from feedamp_sync.core.facts import Facts
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.fields import TEXT_MAX_CHARS, shown
from feedamp_sync.outbox.kind import Kind, NumberRule, NumberSource
from feedamp_sync.policy import seller_number
from feedamp_sync.settings import DEFAULT_REFUND_TEMPLATE, OutboxSettings

NONCE_FIELD: Final = "nonce"
NONCE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32: no I, L, O or U, so a number read aloud or typed back is not misread."""
NONCE_CHARS: Final = 5
"""25 random bits: one number in about 33 million is drawn twice for the same message id."""


@dataclass(frozen=True)
class Numbered:
    """A payload with its number, and the ``unique_key`` that reserves the number.

    ``own``: rendered here from a template with ``{nonce}``, so no other database, copy or
    system holds the number unless this message sent it.
    """

    payload: dict[str, Any]
    number: str
    unique_key: str
    own: bool = False


def new_nonce() -> str:
    """A number's random part, drawn once when it is rendered and stored with it."""
    return "".join(secrets.choice(NONCE_ALPHABET) for _ in range(NONCE_CHARS))


def has_nonce(template: str) -> bool:
    """Whether numbers rendered from ``template`` carry a random part of their own."""
    return NONCE_FIELD in _names(template)


def nonce_warning(templates: OutboxSettings) -> str | None:
    """Why a refund template without ``{nonce}`` is a risk, or None when it has one."""
    template = templates.cp_refund_number_template
    if has_nonce(template):
        return None
    return (
        f"outbox.cp_refund_number_template {shown(template)} has no {{nonce}}: a restored "
        "backup or a copied database can render a number again that FeedAMP already holds, "
        "so a refund refused as a duplicate can never be taken as this daemon's own success "
        "and goes dead for a check in the marketplace; add {nonce} (the default is "
        f"{shown(DEFAULT_REFUND_TEMPLATE)})"
    )


def unique_key(kind: str, account: str, number: str) -> str:
    """``refund:<account>:<cp_refund_number>``, ``return_authorization:<account>:<number>``."""
    return f"{kind}:{account}:{number}"


def numbered(
    kind: Kind,
    payload: Mapping[str, Any],
    *,
    message_id: int,
    database: str,
    account: str,
    target_id: str,
    facts: Facts,
    templates: OutboxSettings,
) -> Numbered | None:
    """The payload with its number (given, or rendered now); None for kinds without one."""
    rule = kind.number
    if rule is None:
        return None
    number = payload.get(rule.field)
    own = False
    if number is None:
        source = NumberSource(message_id, database, account, target_id, payload, facts)
        template = rule.template(templates)
        number = _rendered(kind, rule, template, source)
        own = has_nonce(template)
    key = unique_key(kind.name, account, number)
    return Numbered({**payload, rule.field: number}, number, key, own)


def _rendered(kind: Kind, rule: NumberRule, template: str, source: NumberSource) -> str:
    fields = {**rule.fields(source), NONCE_FIELD: new_nonce()}
    for name in sorted(_names(template)):
        if fields.get(name, "") is None:
            raise InvalidPayload(
                [
                    f"{rule.field}: not given, and the template {shown(template)} needs the "
                    f"stored {kind.target.value}'s {name}, which FeedAMP did not send; "
                    f"give {rule.field}"
                ]
            )
    number = seller_number(template, **{k: "" if v is None else v for k, v in fields.items()})
    if not number.strip() or len(number) > TEXT_MAX_CHARS:
        raise InvalidPayload(
            [
                f"{rule.field}: not given, and the template {shown(template)} renders "
                f"{shown(number)}, not a non-empty number of at most {TEXT_MAX_CHARS} "
                f"characters; give {rule.field}"
            ]
        )
    return number


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def already_used(kind: Kind, number: str, holder_id: int, holder_status: str) -> InvalidPayload:
    """The refusal of a number another outbox message holds."""
    field = kind.number.field if kind.number is not None else "number"
    return InvalidPayload(
        [
            f"{field}: {shown(number)} is already used by outbox message {holder_id} "
            f"({holder_status}); each {kind.name.replace('_', ' ')} needs a {field} of its own"
        ]
    )
