"""The one storage policy: what any supported database refuses is found, by path, up front."""

from __future__ import annotations

from typing import Any

import pytest

from feedamp_sync.storable import (
    MAX_DEPTH,
    MAX_PROBLEMS,
    NESTED_KEPT_CHARS,
    json_problems,
    storable_json,
    storable_text,
    text_problem,
)


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
    """31 levels are stored; 32 are refused (MariaDB's limit), on every backend alike."""
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


def test_storable_text_escapes_a_nul_and_a_lone_surrogate_and_keeps_the_rest() -> None:
    """What no backend stores is written as its JSON escape; an emoji whole is kept."""
    assert storable_text("A\x00B\ud83d é 😀") == "A\\u0000B\\ud83d é 😀"


def test_storable_text_makes_text_that_is_not_utf8_readable() -> None:
    """Bytes read with surrogateescape (SQLite text that is not UTF-8) come out as escapes."""
    latin1 = b"M\xfcller".decode("utf-8", "surrogateescape")
    assert storable_text(latin1) == "M\\udcfcller"
    assert json_problems(storable_text(latin1)) == []


def test_a_storable_answer_is_recorded_as_it_is() -> None:
    """A value with nothing to change is the same object: no copy for every answer."""
    answer = {"order": {"id": "7", "lines": [{"sku": "é"}]}}
    assert storable_json(answer) is answer


def test_an_unstorable_answer_keeps_its_shape_with_its_text_escaped() -> None:
    """Text and keys are escaped where they are, integers beyond 64 bits become digits, and
    the copy has nothing left that any backend refuses."""
    answer = {"order": {"id": "7", "gift_message": "A\x00B\ud83d", "k\x00": [1, 10**70]}}
    stored = storable_json(answer)
    assert stored == {
        "order": {"id": "7", "gift_message": "A\\u0000B\\ud83d", "k\\u0000": [1, str(10**70)]}
    }
    assert json_problems(stored) == []


def test_an_answer_nested_too_deep_keeps_its_top_and_the_rest_as_text() -> None:
    """Levels up to the limit stay objects; below them is the JSON text, escaped and cut."""
    deep = nested(MAX_DEPTH + 5)
    stored = storable_json(deep)
    for _ in range(MAX_DEPTH):
        stored = stored["a"]
    assert stored == '{"a": {"a": {"a": {"a": {"a": "leaf"}}}}}'
    assert json_problems(storable_json(deep)) == []


def test_the_text_kept_for_a_value_nested_too_deep_is_bounded() -> None:
    """A wide value below the limit is cut to NESTED_KEPT_CHARS."""
    value: Any = ["x" * (2 * NESTED_KEPT_CHARS)]
    for _ in range(MAX_DEPTH):
        value = {"a": value}
    stored = storable_json(value)
    for _ in range(MAX_DEPTH):
        stored = stored["a"]
    assert stored == '["' + "x" * (NESTED_KEPT_CHARS - 2)


def test_an_answer_nested_thousands_deep_is_made_storable_without_recursion() -> None:
    """Too deep even to write out: a fixed text stands in for it, and nothing is raised."""
    stored = storable_json({"gift": [nested(5_000)]})
    assert json_problems(stored) == []
