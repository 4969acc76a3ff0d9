"""The kind registry: what it refuses, and what the rest of the daemon assumes of it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import String

from feedamp_sync.core import attempts
from feedamp_sync.core.facts import Facts, ReturnFacts
from feedamp_sync.db import tables as t
from feedamp_sync.outbox.confirm import CONFIRM
from feedamp_sync.outbox.kind import NumberSource
from feedamp_sync.outbox.kinds import KINDS, Kinds
from feedamp_sync.outbox.numbers import numbered
from feedamp_sync.outbox.refund import REFUND
from feedamp_sync.settings import REFUND_NUMBER_FIELDS, RETURN_NUMBER_FIELDS, OutboxSettings


def kind_column_length() -> int:
    column = t.outbox.c.kind.type
    assert isinstance(column, String)
    assert column.length is not None
    return column.length


def test_a_kind_name_as_long_as_the_kind_column_is_accepted() -> None:
    name = "k" * kind_column_length()
    assert name in Kinds([replace(CONFIRM, name=name)])


def test_a_kind_name_longer_than_the_kind_column_is_refused() -> None:
    """PostgreSQL and MariaDB would refuse every message of it; SQLite would store it."""
    with pytest.raises(ValueError, match=f"1 to {kind_column_length()} characters"):
        Kinds([replace(CONFIRM, name="k" * (kind_column_length() + 1))])


def test_two_kinds_with_one_cli_name_are_refused() -> None:
    """``enqueue refund`` would choose one of them silently."""
    with pytest.raises(ValueError, match="cli_name 'refund' is another kind's already"):
        KINDS.with_kinds(replace(REFUND, name="refund_again"))


def test_the_daemons_own_kinds_are_declared_and_not_the_sellers() -> None:
    """``db/`` enqueues confirms and webhooks by these names: a kind missing from the
    registry would go dead at its first claim."""
    own = {value for name, value in vars(attempts).items() if name.endswith("_KIND")}
    assert own == {attempts.CONFIRM_KIND, attempts.WEBHOOK_KIND}
    assert all(name in KINDS and KINDS[name].cli_name is None for name in own)


@dataclass(frozen=True)
class NumberedKind:
    """A numbered kind's template key in ``[outbox]``, the fields settings allows in that
    template, and a message of the kind to render a number for."""

    key: str
    allowed: frozenset[str]
    payload: dict[str, Any]
    facts: Facts


NUMBERED = {
    "refund": NumberedKind(
        "cp_refund_number_template", REFUND_NUMBER_FIELDS, {"mp_line_number": "L1"}, None
    ),
    "return_authorization": NumberedKind(
        "merchant_return_number_template", RETURN_NUMBER_FIELDS, {}, ReturnFacts("5001", "R-1", ())
    ),
}


def test_every_numbered_kind_has_its_template_fields_checked_in_the_settings() -> None:
    assert set(NUMBERED) == {name for name, kind in KINDS.items() if kind.number is not None}


@pytest.mark.parametrize("name", sorted(NUMBERED))
def test_every_field_a_number_template_may_name_is_one_its_kind_renders(name: str) -> None:
    """A template the settings accept renders for every message: a field the kind does not
    supply would fail each of them, after the daemon started."""
    sample = NUMBERED[name]
    template = "-".join(f"{{{field}}}" for field in sorted(sample.allowed))
    templates = OutboxSettings.model_validate({sample.key: template})
    rule = KINDS[name].number
    assert rule is not None
    assert rule.template(templates) == template
    result = numbered(
        KINDS[name],
        sample.payload,
        message_id=42,
        database="K7Q2XM4A",
        account="main",
        target_id="5001",
        facts=sample.facts,
        templates=templates,
    )
    assert result is not None
    assert result.number


@pytest.mark.parametrize("name", sorted(NUMBERED))
def test_every_field_a_kind_supplies_may_be_named_in_its_template(name: str) -> None:
    sample = NUMBERED[name]
    rule = KINDS[name].number
    assert rule is not None
    source = NumberSource(42, "K7Q2XM4A", "main", "5001", sample.payload, sample.facts)
    assert set(rule.fields(source)) <= sample.allowed
