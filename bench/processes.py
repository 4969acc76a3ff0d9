"""Child processes measured by the kernel: wall time, CPU and peak RSS of each one alone.

``os.wait4`` returns the CPU time of exactly the child it reaps, so a run's figures are its
own even when the suite starts many processes. Its ``ru_maxrss`` is not used: Linux carries
the RSS the forked copy of the *parent* had into the child's figure at ``exec``, so it can
never read below the benchmark process's own size. The peak RSS is instead the child's
``VmHWM`` (its own memory since ``exec``), sampled every 20 ms while it runs. Every wait is
bounded; a child past its deadline is killed and the run fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_POLL_SECONDS: Final = 0.02
BYTECODE_CACHE: Final = Path(tempfile.gettempdir()) / "feedamp-bench-pycache"
"""Where children keep compiled bytecode. An installed release has its ``.pyc`` files; a
development environment with ``PYTHONDONTWRITEBYTECODE`` and no ``.pyc`` in the venv would
compile ~600 modules (about 2 s of CPU here) at every start, inflating every figure that
includes a start. The cache lives outside the tree and the venv."""
_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A measured run did not do what it had to (failed, timed out, left work undone)."""


@dataclass(frozen=True)
class Usage:
    wall_seconds: float
    user_seconds: float
    system_seconds: float
    max_rss_mib: float
    exit_code: int

    @property
    def cpu_seconds(self) -> float:
        return self.user_seconds + self.system_seconds


@dataclass
class Child:
    """A started process and the monotonic time it was started at."""

    process: subprocess.Popen[bytes]
    started: float
    name: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> bool:
        """Whether the child has ended, without reaping it (``wait`` still gets its usage)."""
        if self.process.returncode is not None:
            return True
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        return os.waitid(os.P_PID, self.pid, flags) is not None

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signum)

    def wait(self, timeout: float) -> Usage:
        """Reap the child within ``timeout`` seconds and return what it used."""
        deadline = time.monotonic() + timeout
        peak = 0.0
        while True:
            peak = max(peak, _vm_hwm_mib(self.pid))
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                break
            if time.monotonic() >= deadline:
                self.process.kill()
                self.process.wait(timeout=10)
                raise BenchError(f"{self.name} did not finish within {timeout:.0f} s; killed")
            time.sleep(_POLL_SECONDS)
        wall = time.monotonic() - self.started
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return Usage(
            wall_seconds=wall,
            user_seconds=usage.ru_utime,
            system_seconds=usage.ru_stime,
            max_rss_mib=peak,
            exit_code=self.process.returncode,
        )

    def stop(self, timeout: float = 30.0) -> Usage:
        """SIGTERM, then reap."""
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill_quietly(self) -> None:
        """Kill and reap a child still running (after a failure); nothing if it was reaped."""
        if self.process.returncode is None:
            self.process.kill()
            self.process.wait(timeout=10)


def start(
    name: str, args: list[str], *, output: Path, cwd: Path, env: dict[str, str] | None = None
) -> Child:
    """Start ``args`` with stdout and stderr going to ``output``, with a bytecode cache."""
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment |= {"PYTHONUNBUFFERED": "1", "PYTHONPYCACHEPREFIX": str(BYTECODE_CACHE)}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            args, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd, env=environment | (env or {})
        )
    return Child(process, time.monotonic(), name)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a running process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """A running process's peak resident set so far (``VmHWM``)."""
    peak = _vm_hwm_mib(pid)
    if not peak:
        raise BenchError(f"no VmHWM for process {pid}")
    return peak


def _vm_hwm_mib(pid: int) -> float:
    """``VmHWM`` in MiB; 0 once the process has ended (a zombie has no memory left)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
