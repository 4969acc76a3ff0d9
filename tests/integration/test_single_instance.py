"""One daemon per SQLite file, whatever name the file is opened by."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.instance import single_instance_guard
from feedamp_sync.errors import InstanceConflict

pytestmark = pytest.mark.backends("sqlite")

HOLDER = """
import sys
from feedamp_sync.db.engine import create_engine_for
from feedamp_sync.db.instance import single_instance_guard
with single_instance_guard(create_engine_for(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""
"""A process that holds the guard on the database at ``argv[1]`` until it is killed."""


def linked(database: Path, link: str) -> Path:
    """A second name for the database file, in another directory: a hard or symbolic link."""
    alias = database.parent / "elsewhere" / "alias.db"
    alias.parent.mkdir()
    if link == "hard link":
        os.link(database, alias)
    else:
        alias.symlink_to(database)
    return alias


@pytest.fixture(params=["hard link", "symlink"])
def alias(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Engine]:
    """An engine on the test's database under another name."""
    database = Path(str(engine.url.database))
    aliased = create_engine_for(f"sqlite:///{linked(database, request.param)}")
    yield aliased
    aliased.dispose()


def test_another_name_of_the_file_is_refused_while_the_first_holds_it(
    engine: Engine, alias: Engine
) -> None:
    """A hard link or a symlink reaches the same file, and so the same lock."""
    with (
        single_instance_guard(engine),
        pytest.raises(InstanceConflict, match=r"already using \S*/elsewhere/alias\.db"),
        single_instance_guard(alias),
    ):
        pass


def test_the_lock_is_free_again_once_its_holder_leaves(engine: Engine, alias: Engine) -> None:
    """Leaving the block releases the file for the next daemon, under any name."""
    with single_instance_guard(engine):
        pass
    with single_instance_guard(alias):
        pass


def test_a_holder_killed_with_sigkill_leaves_no_lock_behind(
    database_url: str, engine: Engine, alias: Engine
) -> None:
    """The kernel releases the lock of a process that dies, even one that could not clean up."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == "held\n"
            with pytest.raises(InstanceConflict), single_instance_guard(alias):
                pass
        finally:
            holder.kill()
    with single_instance_guard(alias):
        pass
