"""The benchmark's handle on a sandbox process: start it, read its control endpoints, stop it."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import httpx

from bench.processes import BenchError, Child, Usage, cpu_seconds, start
from feedamp_sync.sandbox import tenants

USERNAME: Final = "bench"
PASSWORD: Final = "bench-Pa55word"
CLIENT_ID: Final = 1
SEED: Final = 20_260_501
_SECONDS_PER_1000_ORDERS: Final = 1.0
"""Generous bound on generating orders (measured: ~0.2 s per 1,000 on a shared core)."""


@dataclass(frozen=True)
class Ready:
    base_url: str
    generate_seconds: float
    rss_mib: float


def _prefix(account: str | None) -> str:
    return "" if account is None else f"{tenants.PREFIX}{account}"


class SandboxProcess:
    """A sandbox serving ``orders`` generated orders on 127.0.0.1 in its own process; with
    ``accounts``, that many accounts (``shop-000``...) with ``orders`` orders each."""

    def __init__(
        self, orders: int, directory: Path, root: Path, *, name: str, accounts: int = 0
    ) -> None:
        self._output = directory / f"{name}.log"
        self._child: Child = start(
            name,
            [
                sys.executable,
                "-m",
                "bench.sandbox_main",
                f"--orders={orders}",
                f"--seed={SEED}",
                f"--username={USERNAME}",
                f"--password={PASSWORD}",
                f"--client-id={CLIENT_ID}",
                f"--accounts={accounts}",
            ],
            output=self._output,
            cwd=root,
        )
        try:
            generated = orders * max(1, accounts)
            self.ready = self._wait_ready(30.0 + generated / 1000 * _SECONDS_PER_1000_ORDERS)
        except BaseException:
            self._child.kill_quietly()
            raise
        self._http = httpx.Client(base_url=self.ready.base_url, timeout=60.0)
        self.usage: Usage | None = None

    @property
    def base_url(self) -> str:
        return self.ready.base_url

    @property
    def pid(self) -> int:
        return self._child.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self._child.pid)

    def _wait_ready(self, timeout: float) -> Ready:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._child.exited():
                raise BenchError(f"sandbox exited early:\n{self._output.read_text()[-2000:]}")
            for line in self._output.read_text().splitlines():
                if line.startswith("{"):
                    return Ready(**json.loads(line))
            time.sleep(0.05)
        raise BenchError(f"sandbox not ready within {timeout:.0f} s")

    def account_url(self, name: str) -> str:
        """The base URL of one of its accounts (``shop-000``...)."""
        return f"{self.base_url}{tenants.PREFIX}{name}"

    def summary(self, account: str | None = None) -> dict[str, Any]:
        return self._get(f"{_prefix(account)}/_sandbox/summary")  # type: ignore[no-any-return]

    def ledger(
        self, endpoint: str | None = None, account: str | None = None
    ) -> list[dict[str, Any]]:
        """Every request it saw (of one endpoint), of the default account or of ``account``."""
        params = {"endpoint": endpoint} if endpoint else None
        return self._get(f"{_prefix(account)}/_sandbox/ledger", params)  # type: ignore[no-any-return]

    def add_orders(self, count: int) -> list[str]:
        """Generate ``count`` more new orders; their ids."""
        response = self._http.post("/_sandbox/orders", json={"count": count})
        response.raise_for_status()
        return list(response.json()["ids"])

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the sandbox's fault configuration (fields of ``Faults``; others default)."""
        self._http.put("/_sandbox/faults", json=faults).raise_for_status()

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = self._http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()
        if self.usage is None:
            self.usage = self._child.stop(timeout=15.0)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.close()
        finally:
            self._child.kill_quietly()
