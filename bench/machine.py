"""The machine a run measured: the figures only mean something next to it."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path

from sqlalchemy import text

from feedamp_sync.db.engine import create_engine_for


def _meminfo_gib() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def postgres_version(url: str) -> str:
    engine = create_engine_for(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text("SHOW server_version")))
    finally:
        engine.dispose()


def describe(postgres_url: str | None) -> dict[str, str]:
    """nproc, memory, CPU, Python, SQLite and PostgreSQL versions, and the load at start."""
    facts = {
        "nproc (usable CPUs)": str(len(os.sched_getaffinity(0))),
        "memory": _meminfo_gib(),
        "CPU": _cpu_model(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
    }
    if postgres_url is not None:
        facts["PostgreSQL"] = postgres_version(postgres_url)
    facts["load average at start (1/5/15 min)"] = load_average()
    return facts
