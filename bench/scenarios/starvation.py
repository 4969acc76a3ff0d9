"""Scenario 6: who waits behind a backlog, at FeedAMP's default limits.

Account ``a`` onboards a backlog of new orders, so thousands of its confirms are due at
5 requests a second. In the middle of it, the seller ships one of ``a``'s confirmed orders
(a fulfillment inserted with plain SQL) and account ``b`` receives a few new orders. Measured:
how long the shipment waits from its insert to its ``sent_at``, and how long ``b``'s orders
wait from being added in FeedAMP (and from being stored) to being confirmed, while ``a``'s
confirms are still due. The pollers run every second, so the waits are the outbox's, not a
poll interval's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, func, select

from bench.context import Bench
from bench.daemon_process import log_path, require_success, start_daemon, wait_for_event
from bench.processes import BenchError
from bench.results import Result, Row, Target
from bench.sandbox_process import CLIENT_ID, PASSWORD, USERNAME, SandboxProcess
from bench.workload import shipment
from feedamp_sync.db import tables as t
from feedamp_sync.db.engine import create_engine_for

TARGET_SECONDS: Final = 5.0
B_ORDERS: Final = 5
MID_BACKLOG_CONFIRMED: Final = 50
"""The shipment and ``b``'s orders come once this many of ``a``'s confirms were sent."""
_POLL_SECONDS: Final = 0.05


def _config(directory: Path, url: str, a_url: str, b_url: str) -> Path:
    """Two accounts at the default rate limits; pollers every second."""
    accounts = "".join(
        f'[[accounts]]\nname = "{name}"\nbase_url = "{base}"\nusername = "{USERNAME}"\n'
        f'password = "{PASSWORD}"\nclient_id = {CLIENT_ID}\n\n'
        for name, base in (("a", a_url), ("b", b_url))
    )
    path = directory / "feedamp-sync.toml"
    path.write_text(
        f'[database]\nurl = "{url}"\n\n{accounts}'
        "[jobs]\norders_interval = 1\nreturns_interval = 600\n"
    )
    path.chmod(0o600)
    return path


def _confirmed(engine: Engine, account: str) -> int:
    with engine.connect() as conn:
        query = select(func.count(t.orders.c.confirmed_at)).where(t.orders.c.account == account)
        return int(conn.scalar(query) or 0)


def _due_confirms(engine: Engine, account: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(
            t.outbox.c.account == account,
            t.outbox.c.kind == "confirm",
            t.outbox.c.status.in_(("pending", "in_flight")),
        )
        return int(conn.scalar(query) or 0)


def _insert_shipment(engine: Engine) -> tuple[int, datetime]:
    """A shipment of the first line of one of ``a``'s confirmed orders; its id, and when it
    was committed."""
    with engine.begin() as conn:
        row = conn.execute(
            select(t.orders.c.feedamp_id, t.order_lines.c.mp_line_number)
            .join(t.order_lines, t.order_lines.c.order_id == t.orders.c.id)
            .where(t.orders.c.account == "a", t.orders.c.confirmed_at.is_not(None))
            .order_by(t.orders.c.id, t.order_lines.c.id)
            .limit(1)
        ).one()
        inserted = conn.execute(
            t.outbox.insert().values(
                account="a",
                kind="fulfillment",
                target_id=row.feedamp_id,
                payload=shipment(row.feedamp_id, row.mp_line_number),
            )
        )
        key = inserted.inserted_primary_key
        assert key is not None
    return int(key[0]), datetime.now(UTC)


def _sent_at(engine: Engine, message_id: int) -> datetime | None:
    with engine.connect() as conn:
        sent: datetime | None = conn.scalar(
            select(t.outbox.c.sent_at).where(
                t.outbox.c.id == message_id, t.outbox.c.status == "sent"
            )
        )
    return sent


def _b_waits(engine: Engine) -> list[tuple[datetime, datetime]]:
    """(first seen, confirmed) of each of ``b``'s confirmed orders."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.first_seen_at, t.orders.c.confirmed_at).where(
                t.orders.c.account == "b", t.orders.c.confirmed_at.is_not(None)
            )
        ).all()
    return [(row.first_seen_at, row.confirmed_at) for row in rows]


def _until(timeout: float, done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} within {timeout:.0f} s")
        time.sleep(_POLL_SECONDS)


@dataclass(frozen=True)
class Waits:
    shipment: float
    """Insert → ``sent_at`` of the shipment enqueued mid-backlog."""
    b_added: float
    """Added in FeedAMP → confirmed, the slowest of ``b``'s orders (polling included)."""
    b_stored: float
    """Stored → confirmed, the slowest of ``b``'s orders (the outbox's share)."""
    due_then: int
    due_after: int


def _measure(engine: Engine, b_sandbox: SandboxProcess) -> Waits:
    """Wait for the backlog to be well under way, then ship and add ``b``'s orders."""
    _until(
        300,
        lambda: _confirmed(engine, "a") >= MID_BACKLOG_CONFIRMED,
        f"account a did not confirm {MID_BACKLOG_CONFIRMED} orders",
    )
    message_id, inserted = _insert_shipment(engine)
    added = datetime.now(UTC)
    b_sandbox.add_orders(B_ORDERS)
    due_then = _due_confirms(engine, "a")
    _until(120, lambda: _sent_at(engine, message_id) is not None, "the shipment was not sent")
    _until(120, lambda: len(_b_waits(engine)) == B_ORDERS, "b's orders were not confirmed")
    sent = _sent_at(engine, message_id)
    assert sent is not None
    b = _b_waits(engine)
    return Waits(
        shipment=(sent - inserted).total_seconds(),
        b_added=max((confirmed - added).total_seconds() for _, confirmed in b),
        b_stored=max((confirmed - seen).total_seconds() for seen, confirmed in b),
        due_then=due_then,
        due_after=_due_confirms(engine, "a"),
    )


def run(bench: Bench) -> list[Result]:
    directory = bench.directory("starvation")
    backlog = bench.scale.starvation_backlog
    with (
        SandboxProcess(backlog, directory, bench.root, name="sandbox-a") as a_sandbox,
        SandboxProcess(0, directory, bench.root, name="sandbox-b") as b_sandbox,
        bench.database(directory) as url,
    ):
        config = _config(directory, url, a_sandbox.base_url, b_sandbox.base_url)
        daemon = start_daemon(config, directory, bench.root, "run", name="daemon")
        engine = create_engine_for(url, pool_size=1)
        try:
            wait_for_event(log_path(directory, "daemon"), "daemon_started", daemon, 60)
            waits = _measure(engine, b_sandbox)
            usage = daemon.stop(timeout=30)
        finally:
            daemon.kill_quietly()
            engine.dispose()
        require_success(usage.exit_code, log_path(directory, "daemon"), "daemon")
    target = Target(TARGET_SECONDS, "at_most", "≤ 5 s")
    return [
        Result(
            scenario="starvation",
            title="6. Waiting behind a backlog, default limits",
            backend=bench.backend,
            command=bench.command,
            rows=[
                Row("account a's new orders (the backlog)", backlog, "", digits=0),
                Row("a's confirms due when the others came", waits.due_then, "", digits=0),
                Row("a's confirms still due when they were done", waits.due_after, "", digits=0),
                Row("a's shipment: insert → sent", waits.shipment, "s", target),
                Row(
                    "b's orders: added in FeedAMP → confirmed, slowest", waits.b_added, "s", target
                ),
                Row("b's orders: stored → confirmed, slowest", waits.b_stored, "s"),
            ],
            notes=[
                "One daemon, two accounts at the default limits (2 list and 5 other requests "
                "a second each), pollers every second. The shipment (plain SQL) and "
                f"{B_ORDERS} new orders of account b come once {MID_BACKLOG_CONFIRMED} of "
                "a's confirms were sent, with the rest of the backlog still due.",
                "Added → confirmed includes b's next poll (up to 1 s) and its list request.",
            ],
        )
    ]
