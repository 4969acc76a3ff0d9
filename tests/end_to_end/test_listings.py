"""The listings people read: `orders list`, `returns list` and `outbox list` print a header
row and aligned columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from tests.end_to_end.harness import FAST, cli, merged, write_config

LISTINGS = {
    "orders": ["ACCOUNT", "ORDER", "CP ORDER NUMBER", "STATE", "MP ORDER NUMBER", "CONFIRMED AT"],
    "returns": ["ACCOUNT", "RETURN", "STATE", "ORDER", "MP RETURN NUMBER", "STATE CHANGED AT"],
    "outbox": ["ID", "ACCOUNT", "KIND", "TARGET", "STATUS", "ATTEMPTS", "LAST ERROR"],
}


def column_starts(header: str, names: list[str]) -> list[int]:
    """Where each named column starts in the header line."""
    starts = [header.index(names[0])]
    for name in names[1:]:
        starts.append(header.index(f"  {name}", starts[-1]) + 2)
    return starts


@pytest.mark.backends("sqlite")  # the layout is the CLI's; every backend's rows are the same
@pytest.mark.parametrize("listing", list(LISTINGS))
def test_a_listing_has_a_header_and_every_cell_starts_under_its_header(
    listing: str,
    sandbox: Sandbox,
    server: SandboxServer,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rows of different widths (a dead message's error beside sent ones, unconfirmed orders
    beside confirmed ones) line up under the header, one line each, no trailing spaces."""
    sandbox.add_orders(6)
    sandbox.add_returns(4, states=["Pending Authorization"])
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"outbox": {"max_attempts": 1}})
    )
    assert cli(capsys, config, "run", "--once")[0] == 0
    sandbox.add_orders(1)
    sandbox.set_faults(Faults(error_5xx=1.0, endpoints={"confirm"}))
    assert cli(capsys, config, "run", "--once")[0] == 0
    code, out, _ = cli(capsys, config, listing, "list")
    header, *rows = out.splitlines()
    starts = column_starts(header, LISTINGS[listing])
    assert (code, starts[0], len(rows)) == (0, 0, 4 if listing == "returns" else 7)
    for line in [header, *rows]:
        assert line == line.rstrip()
        for start in starts[1:]:
            assert (line[start - 2 : start], line[start] != " ") == ("  ", True), line
