"""`db prune`, retention in `run --once`, and the table sizes `status` shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.locks import job_lock
from feedamp_sync.db.sync_state import GLOBAL_ACCOUNT
from feedamp_sync.jobs import PRUNE_JOB
from feedamp_sync.sandbox import SandboxServer
from tests.end_to_end.harness import FAST, cli, cli_json, merged, write_config
from tests.integration.test_retention import message

NOW = datetime.now(UTC)


@pytest.fixture
def config(tmp_path: Path, database_url: str, server: SandboxServer) -> Path:
    return write_config(tmp_path, database_url, server.base_url, FAST)


@pytest.fixture
def aged(engine: Engine) -> dict[str, int]:
    """Messages 40, 20 and 5 days old, sent, plus one dead and a newest one."""
    return {
        "sent 40 days ago": message(engine, "sent", NOW - timedelta(days=40), target="A"),
        "sent 20 days ago": message(engine, "sent", NOW - timedelta(days=20), target="B"),
        "dead 40 days ago": message(engine, "dead", NOW - timedelta(days=40), target="C"),
        "sent 5 days ago": message(engine, "sent", NOW - timedelta(days=5), target="D"),
    }


def remaining(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.scalars(select(t.outbox.c.id)))


def test_db_prune_prints_its_counts_as_json_and_exits_0(
    config: Path, engine: Engine, aged: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """The 40-day-old sent message and its attempt go at the default 30 days."""
    shown = cli_json(capsys, config, "db", "prune")
    assert shown["keep_days"] == 30
    assert shown["deleted"] == {
        "feedamp_outbox": 1,
        "feedamp_outbox_attempts": 1,
        "feedamp_events": 0,
        "feedamp_quarantine": 0,
    }
    assert (shown["complete"], shown["batches"]) == (True, 1)
    assert remaining(engine) == set(aged.values()) - {aged["sent 40 days ago"]}


def test_keep_days_on_the_command_line_overrides_the_setting_for_that_run(
    config: Path, engine: Engine, aged: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--keep-days 10` prunes the 20-day-old message too; the dead one still stays."""
    code, out, _ = cli(capsys, config, "db", "prune", "--keep-days", "10")
    assert code == 0
    assert out.startswith("pruned rows older than 10 days (before ")
    assert out.rstrip().endswith(
        "feedamp_outbox 2, feedamp_outbox_attempts 2, feedamp_events 0, feedamp_quarantine 0"
    )
    assert remaining(engine) == {aged["dead 40 days ago"], aged["sent 5 days ago"]}


def test_keep_days_below_one_is_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--keep-days 0` would prune everything finished: refused with exit 2."""
    code, _, err = cli(capsys, config, "db", "prune", "--keep-days", "0")
    assert code == 2
    assert "--keep-days" in err


@pytest.mark.backends("postgresql", "mariadb")
def test_db_prune_while_another_instance_prunes_exits_1_saying_so(
    config: Path, engine: Engine, aged: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """One instance prunes at a time: with the prune lock held elsewhere nothing is pruned."""
    with job_lock(engine, GLOBAL_ACCOUNT, PRUNE_JOB) as held:
        assert held
        code, _, err = cli(capsys, config, "db", "prune")
    assert code == 1
    assert "another instance is pruning this database right now" in err
    assert remaining(engine) == set(aged.values())


def test_db_prune_is_recorded_as_the_prune_job_in_status(
    config: Path, aged: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """`status` shows when retention last succeeded, as for every job."""
    assert cli(capsys, config, "db", "prune")[0] == 0
    jobs = cli_json(capsys, config, "status")["jobs"]
    assert jobs["prune"]["last_success"] is not None
    assert jobs["prune"]["last_error"] is None


def test_status_shows_every_tables_size_and_the_oldest_kept_messages(
    config: Path, aged: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """Row counts of every feedamp_ table, and the dates retention acts on next."""
    shown = cli_json(capsys, config, "status")
    assert shown["tables"]["feedamp_outbox"] == 4
    assert shown["tables"]["feedamp_outbox_attempts"] == 4
    assert shown["tables"]["feedamp_orders"] == 0
    assert set(shown["tables"]) == set(t.metadata.tables)
    oldest = shown["retention"]["oldest"]["feedamp_outbox"]
    assert datetime.fromisoformat(oldest["sent"]) < NOW - timedelta(days=39)
    assert oldest["cancelled"] is None
    assert (shown["retention"]["enabled"], shown["retention"]["keep_days"]) == (True, 30)


def test_status_prints_the_table_sizes_and_retention(
    config: Path, aged: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """The console form has a tables line and the oldest kept message of each status."""
    code, out, _ = cli(capsys, config, "status")
    assert code == 0
    assert "feedamp_outbox=4" in out
    assert "retention  keep_days=30 (pruned by the daemon and db prune)" in out
    assert "oldest in feedamp_outbox: sent=" in out


def test_run_once_prunes_after_its_pass(
    config: Path, engine: Engine, aged: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """One full pass of every job includes retention."""
    assert cli(capsys, config, "run", "--once")[0] == 0
    assert aged["sent 40 days ago"] not in remaining(engine)


def test_run_once_leaves_pruning_to_db_prune_when_retention_is_disabled(
    tmp_path: Path,
    database_url: str,
    server: SandboxServer,
    engine: Engine,
    aged: dict[str, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With `retention.enabled = false` nothing is pruned until `db prune` is run."""
    config = write_config(
        tmp_path, database_url, server.base_url, merged(FAST, {"retention": {"enabled": False}})
    )
    assert cli(capsys, config, "run", "--once")[0] == 0
    assert set(aged.values()) <= remaining(engine)
    assert cli(capsys, config, "db", "prune")[0] == 0
    assert aged["sent 40 days ago"] not in remaining(engine)
