"""`make demo`, shortened: one log format throughout, and a summary that explains itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.end_to_end.harness import logged

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CONSOLE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z \[(debug|info|warning|error)\s*\] [a-z_]+\b")


def test_the_demo_logs_in_one_format_and_says_why_fewer_returns_are_stored(
    tmp_path: Path,
) -> None:
    """Its own events, `db upgrade`'s and the daemon's are all console lines; the summary
    names the returns generated and open, why only the open ones are stored, and the
    listing then shows exactly those. The daemon runs 10 s: on a loaded two-core machine
    its start alone (imports, migrations check, first token) took most of 3 s, and no event
    had reached the receiver yet."""
    result = subprocess.run(
        [sys.executable, "-m", "feedamp_sync.demo", "--seconds", "10", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    logged(result.stderr)
    lines = result.stderr.splitlines()
    assert [line for line in lines if not CONSOLE_LINE.match(line)] == []
    events = [line.split()[3] for line in lines]
    assert {"demo_sandbox_serving", "db_upgraded", "daemon_started", "demo_returns"} <= set(events)
    [webhooks] = [line for line in lines if " demo_webhooks_received " in line]
    assert "verified={'" in webhooks, webhooks  # some arrived (in 10 s, not necessarily all)
    assert "bad_signatures=0" in webhooks, webhooks
    [summary] = [line for line in lines if " demo_returns " in line]
    counts = re.search(r"\bgenerated=(\d+) open=(\d+)\b", summary)
    assert counts is not None, summary
    generated, opened = int(counts[1]), int(counts[2])
    assert generated == 8
    assert 0 < opened < generated
    assert "a first poll skips closed returns" in summary
    listing = result.stdout.split("ACCOUNT  RETURN")[1].split("\n\n")[0].splitlines()[1:]
    assert len(listing) == opened
