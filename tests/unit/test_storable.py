"""The one storage policy: what any supported database refuses is found, by path, up front."""

from __future__ import annotations

from typing import Any

import pytest

from feedamp_sync.storable import MAX_DEPTH, MAX_PROBLEMS, json_problems, text_problem


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_plain_json_is_storable() -> None:
    """Ordinary text, numbers, lists and objects raise nothing."""
    assert json_problems({"a": ["é", 1, 2.5, None, True], "b": {"c": "ü"}}) == []


def test_a_nul_character_is_named_with_its_path() -> None:
    """PostgreSQL stores no NUL: the string holding one is named."""
    assert json_problems({"lines": [{"sku": "A\x00B"}]}) == [
        "lines[0].sku: contains a NUL character (\\u0000), which PostgreSQL cannot store"
    ]


def test_a_lone_surrogate_is_named() -> None:
    """An unpaired surrogate is not UTF-8, so no backend stores it."""
    assert text_problem("x\ud800") == (
        "contains an unpaired surrogate (\\ud800), which is not UTF-8"
    )


def test_a_bad_key_is_named_at_its_object() -> None:
    """A key holding a NUL is reported on the object that has it."""
    assert json_problems({"o": {"k\x00": 1}}) == [
        "o: a key contains a NUL character (\\u0000), which PostgreSQL cannot store"
    ]


def test_nesting_is_limited_to_mariadbs_depth() -> None:
    """32 levels are stored; 33 are refused, on every backend alike."""
    assert json_problems(nested(MAX_DEPTH)) == []
    [problem] = json_problems(nested(MAX_DEPTH + 1))
    assert problem.endswith(f"nested deeper than {MAX_DEPTH} levels")


def test_a_value_nested_thousands_deep_is_reported_without_recursion() -> None:
    """Checking never recurses, so any depth Python can hold is reported, not crashed on."""
    [problem] = json_problems(nested(5_000))
    assert "nested deeper" in problem


@pytest.mark.parametrize("value", [2**63, -(2**63) - 5, 10**70])
def test_an_integer_beyond_64_bits_is_refused(value: int) -> None:
    """No integer column holds it."""
    [problem] = json_problems({"id": value})
    assert problem.startswith("id: an integer beyond 64 bits")


def test_a_value_broken_everywhere_reports_a_bounded_list() -> None:
    """A thousand bad strings give a short list, not a thousand lines."""
    assert len(json_problems(["\x00"] * 1_000)) == MAX_PROBLEMS
