"""Seller numbers for refunds and return authorizations, and the keys that keep them unique."""

from __future__ import annotations

import re
from typing import Any

import pytest

from feedamp_sync.core.facts import ReturnFacts, StoredReturnLine
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.outbox.numbers import (
    Numbered,
    already_used,
    new_nonce,
    nonce_warning,
    numbered,
    unique_key,
)
from feedamp_sync.settings import OutboxSettings

DEFAULTS = OutboxSettings()
STORED_RETURN = ReturnFacts("5001", "123-4567RT", (StoredReturnLine("123-456-789", "900001"),))
CROCKFORD = "[0-9A-HJKMNP-TV-Z]"


def number(kind: str, payload: dict[str, Any], **options: Any) -> Numbered | None:
    facts = options.pop("facts", STORED_RETURN)
    database = options.pop("database", "K7Q2XM4A")
    templates = OutboxSettings(**options) if options else DEFAULTS
    return numbered(
        KINDS[kind],
        payload,
        message_id=42,
        database=database,
        account="main",
        target_id="10042" if kind == "refund" else "5001",
        facts=facts,
        templates=templates,
    )


def test_a_refund_without_a_number_gets_one_from_the_database_message_id_and_a_nonce() -> None:
    """The default template joins this database's identity, the message id and five random
    characters drawn for this number, so another database's message 42 (or this one's, from
    a restored copy) gets another number."""
    result = number("refund", {"mp_line_number": "L1"})
    assert result is not None
    assert re.fullmatch(f"RFK7Q2XM4A-42-{CROCKFORD}{{5}}", result.number)
    assert result.payload == {"mp_line_number": "L1", "cp_refund_number": result.number}
    assert result.unique_key == f"refund:main:{result.number}"


def test_a_number_rendered_with_a_nonce_is_the_messages_own() -> None:
    """Only such a number lets a duplicate refusal count as this message's earlier success."""
    result = number("refund", {"mp_line_number": "L1"})
    assert result is not None
    assert result.own


def test_a_number_rendered_without_a_nonce_is_not_the_messages_own() -> None:
    """RF{database}-{id} repeats in a restored or copied database: someone else's, maybe."""
    result = number(
        "refund", {"mp_line_number": "L1"}, cp_refund_number_template="RF{database}-{id}"
    )
    assert result is not None
    assert (result.number, result.own) == ("RFK7Q2XM4A-42", False)


def test_the_same_message_in_two_copies_of_a_database_gets_two_numbers() -> None:
    """A copy keeps the identity and the ids; the nonce is drawn again."""
    first = number("refund", {"mp_line_number": "L1"})
    second = number("refund", {"mp_line_number": "L1"})
    assert first is not None
    assert second is not None
    assert first.number != second.number


def test_a_nonce_is_five_crockford_characters() -> None:
    """Short enough for a seller number, without the letters that read as digits."""
    assert re.fullmatch(f"{CROCKFORD}{{5}}", new_nonce())


def test_a_refund_template_without_a_nonce_is_warned_about() -> None:
    """The warning says what is lost: duplicates can never count as our own success."""
    warning = nonce_warning(OutboxSettings(cp_refund_number_template="RF{database}-{id}"))
    assert warning is not None
    assert warning.startswith('outbox.cp_refund_number_template "RF{database}-{id}" has no {nonce}')
    assert "can never be taken as this daemon's own success" in warning


def test_the_default_refund_template_is_not_warned_about() -> None:
    """RF{database}-{id}-{nonce} carries its random part."""
    assert nonce_warning(DEFAULTS) is None


def test_a_refund_template_may_use_the_order_and_line() -> None:
    """order_id and mp_line_number are template fields too."""
    result = number(
        "refund",
        {"mp_line_number": "L1"},
        cp_refund_number_template="{order_id}-{mp_line_number}-{id}",
    )
    assert result is not None
    assert result.number == "10042-L1-42"


def test_a_given_number_is_kept() -> None:
    """The seller's own cp_refund_number wins over the template."""
    result = number("refund", {"mp_line_number": "L1", "cp_refund_number": "MINE-1"})
    assert result is not None
    assert (result.number, result.unique_key, result.own) == (
        "MINE-1",
        "refund:main:MINE-1",
        False,
    )


def test_a_return_authorization_defaults_to_the_marketplace_return_number() -> None:
    """The default template is the stored return's mp_return_number."""
    result = number("return_authorization", {})
    assert result == Numbered(
        {"merchant_return_number": "123-4567RT"},
        "123-4567RT",
        "return_authorization:main:123-4567RT",
    )


def test_a_template_needing_a_missing_marketplace_number_is_refused() -> None:
    """With no mp_return_number stored, the default template cannot make a number."""
    with pytest.raises(InvalidPayload) as refused:
        number(
            "return_authorization", {}, facts=ReturnFacts("5001", None, (StoredReturnLine("1"),))
        )
    assert refused.value.problems[0].startswith(
        "merchant_return_number: not given, and the template"
    )


def test_a_template_rendering_an_over_long_number_is_refused() -> None:
    """A rendered number must fit the 128-character column."""
    with pytest.raises(InvalidPayload):
        number(
            "refund",
            {"mp_line_number": "L" * 125},
            cp_refund_number_template="{mp_line_number}-{id}-xxxx",
        )


def test_kinds_without_a_number_get_none() -> None:
    """Fulfillments and return refunds carry no seller number."""
    assert number("fulfillment", {}) is None
    assert number("return_refund", {}) is None


def test_the_unique_key_names_kind_account_and_number() -> None:
    """One action per number and account: refund:<account>:<number>."""
    assert unique_key("refund", "eu", "RF1") == "refund:eu:RF1"


def test_a_taken_number_names_the_message_holding_it() -> None:
    """The refusal tells which message already uses the number, and its status."""
    assert already_used(KINDS["refund"], "RF1", 7, "sent").problems == [
        'cp_refund_number: "RF1" is already used by outbox message 7 (sent); each refund needs '
        "a cp_refund_number of its own"
    ]


def test_two_databases_never_render_the_same_refund_number() -> None:
    """The same message id in two databases: two numbers, even without a nonce."""
    first = number(
        "refund",
        {"mp_line_number": "L1"},
        database="AAAAAAAA",
        cp_refund_number_template="RF{database}-{id}",
    )
    second = number(
        "refund",
        {"mp_line_number": "L1"},
        database="BBBBBBBB",
        cp_refund_number_template="RF{database}-{id}",
    )
    assert first is not None
    assert second is not None
    assert first.number != second.number
