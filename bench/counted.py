"""``python -m bench.counted ARGS``: the ``feedamp-sync`` CLI with its SQL counted, per tick.

The daemon is not changed: this wrapper registers SQLAlchemy event listeners on the
``Engine`` class (so they see every engine the daemon creates), then runs the same CLI
entry point. It counts statements (``before_cursor_execute``, which includes SQLite's
``BEGIN IMMEDIATE``; connection pings and commits are not statements) and transactions
(``begin``). A tick begins with the statement that records its start in the sync-state
table (``SET last_started_at``, which names the job); a tick's count runs from there to the
next tick start on the same worker thread, so a job lock taken just before a tick counts
in the previous tick of that thread. SIGUSR1 (and the end of the run) writes every count so
far to the JSON file named by ``$FEEDAMP_BENCH_COUNTS``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from feedamp_sync.cli import main as cli_main

COUNTS_ENV: Final = "FEEDAMP_BENCH_COUNTS"
TICK_START: Final = "SET last_started_at"


@dataclass
class Tick:
    job: str
    started: float
    """Epoch seconds."""
    statements: int = 0
    transactions: int = 0


def job_of(parameters: Any) -> str:
    """The job named by a tick-start UPDATE's parameters (positional or named)."""
    if isinstance(parameters, dict):
        return str(next(v for k, v in parameters.items() if str(k).startswith("job")))
    return str(list(parameters)[-1])


class Counts:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._statements = 0
        self._transactions = 0
        self._ticks: list[Tick] = []
        self._current: dict[int, Tick] = {}

    def statement(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        thread = threading.get_ident()
        with self._lock:
            self._statements += 1
            if TICK_START in statement:
                started = Tick(job_of(parameters), time.time())
                self._ticks.append(started)
                self._current[thread] = started
            if (tick := self._current.get(thread)) is not None:
                tick.statements += 1

    def transaction(self, conn: Connection) -> None:
        with self._lock:
            self._transactions += 1
            if (tick := self._current.get(threading.get_ident())) is not None:
                tick.transactions += 1

    def write(self) -> None:
        with self._lock:
            snapshot = {
                "at": time.time(),
                "statements": self._statements,
                "transactions": self._transactions,
                "ticks": [asdict(tick) for tick in self._ticks],
            }
        partial = self._path.with_suffix(".partial")
        partial.write_text(json.dumps(snapshot))
        partial.replace(self._path)


def run(argv: list[str]) -> int:
    counts = Counts(Path(os.environ[COUNTS_ENV]))
    event.listen(Engine, "before_cursor_execute", counts.statement)
    event.listen(Engine, "begin", counts.transaction)

    def snapshot(signum: int, frame: FrameType | None) -> None:
        # Not in the handler itself: the interrupted main thread may hold the counts' lock.
        threading.Thread(target=counts.write, name="bench-counts").start()

    signal.signal(signal.SIGUSR1, snapshot)
    code = cli_main(argv)
    counts.write()
    return code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
