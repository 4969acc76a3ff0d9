"""The benchmark suite still runs: every scenario at the small scale on SQLite, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.database import POSTGRES_URL
from bench.report import BEGIN, END
from bench.results import Result
from bench.scales import SCALES
from bench.suite import SCENARIOS, run_suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Result], Path]:
    directory = tmp_path_factory.mktemp("bench")
    output = directory / "performance.md"
    results = run_suite(
        list(SCENARIOS),
        SCALES["small"],
        ["sqlite"],
        workdir=directory / "work",
        postgres_url=POSTGRES_URL,
        command="python -m bench all --scale small --backend sqlite",
        output=output,
        progress=lambda _: None,
    )
    return results, output


@pytest.mark.timeout(240)
def test_every_scenario_yields_a_result(report: tuple[list[Result], Path]) -> None:
    """Each scenario finishes its small run (its own checks passed) and reports figures."""
    results, _ = report
    assert sorted({result.scenario for result in results}) == sorted(SCENARIOS)
    assert all(result.rows for result in results)


@pytest.mark.timeout(240)
def test_the_report_holds_every_table(report: tuple[list[Result], Path]) -> None:
    """The written report has the generated block with one table per result."""
    results, output = report
    text = output.read_text()
    assert BEGIN in text
    assert END in text
    assert all(f"#### {result.title} (sqlite)" in text for result in results)
