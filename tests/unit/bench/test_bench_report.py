"""The benchmark's report: verdicts against targets, and the generated block replaced in place."""

from __future__ import annotations

from pathlib import Path

from bench.report import BEGIN, END, render_result, write
from bench.results import Result, Row, Target


def test_at_least_target_is_met_at_its_value() -> None:
    """A figure equal to an "at least" target meets it."""
    assert Target(380, "at_least", "").met(380)


def test_at_most_target_is_missed_above_its_value() -> None:
    """A figure above an "at most" target misses it."""
    assert not Target(1.2, "at_most", "").met(1.21)


def test_a_missed_target_is_marked_in_the_table() -> None:
    """A row that misses its target reads "missed", with its ratio to the target."""
    row = Row("ingest rate", 190.0, "orders/s", Target(380, "at_least", ">= 380"))
    result = Result("ingest", "1. Ingest", "sqlite", "python -m bench ingest", [row])
    table = render_result(result)
    assert "| ingest rate | 190.00 orders/s | >= 380 | 0.50 | **missed** |" in table


def test_writing_replaces_only_the_generated_block(tmp_path: Path) -> None:
    """Text written by hand around the generated block survives a new run."""
    path = tmp_path / "performance.md"
    path.write_text(f"intro\n{BEGIN}\nold figures\n{END}\nfindings\n")
    write(path, f"{BEGIN}\nnew figures\n{END}")
    assert path.read_text() == f"intro\n{BEGIN}\nnew figures\n{END}\nfindings\n"


def test_writing_creates_a_missing_document(tmp_path: Path) -> None:
    """A first run creates the document around its block."""
    path = tmp_path / "docs" / "performance.md"
    write(path, f"{BEGIN}\nfigures\n{END}")
    assert f"{BEGIN}\nfigures\n{END}" in path.read_text()
