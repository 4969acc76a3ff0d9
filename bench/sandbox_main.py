"""The sandbox in a process of its own: ``python -m bench.sandbox_main --orders N``.

``feedamp-sync sandbox`` caps generated orders at 10,000 (a demo needs no more); a backlog
benchmark needs 100,000, so this script builds the same :class:`Sandbox` directly, in
batches, and reports how long generation took. With ``--accounts A`` it serves ``A``
accounts instead (``/accounts/shop-000``..., client ids 1 to A), each with ``N`` orders.
It prints one JSON line (``base_url``, ``generate_seconds``, ``rss_mib``) once it serves,
and serves until SIGTERM, or until ``--max-seconds`` pass, so a sandbox orphaned by a
crashed suite still goes away.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from types import FrameType

import click

from bench.processes import rss_mib
from feedamp_sync.sandbox import Sandbox, SandboxServer, tenants

_BATCH = 5_000


@click.command()
@click.option("--orders", type=click.IntRange(min=0), default=0)
@click.option("--seed", type=int, default=1)
@click.option("--username", default="bench")
@click.option("--password", required=True)
@click.option("--client-id", type=int, default=1)
@click.option("--accounts", type=click.IntRange(min=0), default=0)
@click.option("--max-seconds", type=click.FloatRange(min=1), default=3600.0)
def main(
    orders: int,
    seed: int,
    username: str,
    password: str,
    client_id: int,
    accounts: int,
    max_seconds: float,
) -> None:
    started = time.monotonic()
    world = Sandbox(username=username, password=password, client_id=client_id, seed=seed)
    served = tenants.generated(accounts, username=username, password=password, seed=seed)
    for sandbox in list(served.values()) or [world]:
        for done in range(0, orders, _BATCH):
            sandbox.add_orders(min(_BATCH, orders - done))
    generated = time.monotonic() - started
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with SandboxServer(world, host="127.0.0.1", port=0, accounts=served) as server:
        ready = {
            "base_url": server.base_url,
            "generate_seconds": round(generated, 3),
            "rss_mib": round(rss_mib(os.getpid()), 1),
        }
        print(json.dumps(ready), flush=True)
        stop.wait(max_seconds)


if __name__ == "__main__":
    main()
