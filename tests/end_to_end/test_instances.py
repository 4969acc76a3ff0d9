"""Several daemons sharing one PostgreSQL or MariaDB database, each effect still once."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.outbox.enqueue import enqueue
from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer
from feedamp_sync.sandbox.tenants import generated
from tests.end_to_end.actions import refund
from tests.end_to_end.harness import (
    FAST,
    PASSWORD,
    USERNAME,
    Daemon,
    accounts_confirmed_exactly_once,
    assert_confirmed_exactly_once,
    confirmed_count,
    merged,
    outbox_statuses,
    wait_until,
    write_accounts_config,
    write_config,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.backends("postgresql", "mariadb"),
]

LEASE_SECONDS = 2


def claims_held_by(engine: Engine, pid: int) -> dict[int, int]:
    """The messages the instance with this process id holds in flight, with the attempt
    each claim is (its lease owner is ``host:pid:token``)."""
    box = t.outbox
    with engine.connect() as conn:
        rows = conn.execute(
            select(box.c.id, box.c.attempts).where(
                box.c.status == "in_flight", box.c.lease_owner.like(f"%:{pid}:%")
            )
        )
        return {row.id: row.attempts for row in rows}


def freeze_holding_claims(process: subprocess.Popen[bytes], engine: Engine) -> dict[int, int]:
    """SIGSTOP the process at a moment it holds claims; returns them."""
    for _ in range(200):
        process.send_signal(signal.SIGSTOP)
        held = claims_held_by(engine, process.pid)
        if held:
            return held
        process.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError("the instance never held a claim when frozen")


def lease_lost(daemon: Daemon) -> set[int]:
    """The messages whose results ``daemon`` found fenced off (``outbox_lease_lost``)."""
    return {
        json.loads(line)["message_id"]
        for line in daemon.output().splitlines()
        if '"outbox_lease_lost"' in line
    }


RESULTS = {f'"outbox_{outcome}"' for outcome in ("sent", "retry", "dead", "deferred")}


def recorded_own(daemon: Daemon, held: dict[int, int]) -> set[int]:
    """The claims of ``held`` whose result ``daemon`` recorded itself, at the attempt it held:
    no other instance had taken them. (One waiting for its account's budget when the process
    froze is handed back unsent once it resumes, its lease having run out locally, and may
    then be claimed again by the same instance.)"""
    own = set()
    for line in daemon.output().splitlines():
        if any(event in line for event in RESULTS):
            record = json.loads(line)
            if held.get(record["message_id"]) == record["attempt"]:
                own.add(record["message_id"])
    return own


def outbox_tick_failed(daemon: Daemon) -> bool:
    """Whether an outbox tick of ``daemon`` failed: resumed after its database session was
    ended (idle in a transaction past the lease), its drain stops with the session, and the
    claims it held are recorded by nobody but the instances that took them over."""
    return any(
        '"job_failed"' in line and '"job": "outbox"' in line
        for line in daemon.output().splitlines()
    )


def fenced(daemon: Daemon, taken: set[int]) -> bool:
    """Whether none of ``taken`` had its result recorded by ``daemon``: each refused by the
    fence (``outbox_lease_lost``), or all abandoned with a drain whose session was ended."""
    return taken <= lease_lost(daemon) or outbox_tick_failed(daemon)


def taken_over(engine: Engine, held: dict[int, int]) -> list[int]:
    """The claims of ``held`` that another instance claimed again after they expired."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox.c.id, t.outbox.c.attempts).where(t.outbox.c.id.in_(list(held)))
        )
        return sorted(row.id for row in rows if row.attempts > held[row.id])


def enqueue_refunds(engine: Engine, sandbox: Sandbox, count: int) -> None:
    """One refund for each of ``count`` stored orders, through the transactional Python API."""
    with engine.begin() as conn:
        order_ids = conn.scalars(
            select(t.orders.c.feedamp_id).order_by(t.orders.c.id).limit(count)
        ).all()
        for order_id in order_ids:
            line = sandbox.order(order_id)["order_info"]["order_lines"][0]["mp_line_number"]
            enqueue(conn, account="main", kind="refund", target_id=order_id, payload=refund(line))


def test_three_daemons_take_effect_once_each_while_one_is_paused(
    sandbox: Sandbox, server: SandboxServer, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Three instances share 500 orders and 150 refunds; one is frozen with SIGSTOP past its
    lease and then resumed: every confirm and refund takes effect exactly once."""
    sandbox.add_orders(500)
    config = write_config(
        tmp_path,
        database_url,
        server.base_url,
        merged(
            FAST,
            {
                "api": {"rate_per_second": 40},
                # Few claims each, so all three instances get some of the refunds.
                "outbox": {"lease_seconds": LEASE_SECONDS, "concurrency": 4, "batch_size": 8},
            },
        ),
    )
    daemons = [Daemon(config, tmp_path / f"instance-{n}") for n in range(3)]
    for running in daemons:
        running.logs.mkdir()
        running.start()
    paused = daemons[0]
    try:
        assert wait_until(lambda: confirmed_count(engine) >= 150, timeout=60)
        sandbox.set_faults(Faults(slow=1.0, slow_seconds=0.2, endpoints={"refund"}))
        enqueue_refunds(engine, sandbox, 150)
        assert paused.process is not None
        held = freeze_holding_claims(paused.process, engine)
        time.sleep(LEASE_SECONDS * 3)  # frozen, it cannot renew; the others take over
        paused.process.send_signal(signal.SIGCONT)
        assert wait_until(lambda: outbox_statuses(engine) == {"sent": 650}, timeout=150), (
            outbox_statuses(engine)
        )
        taken = set(taken_over(engine, held)) - recorded_own(paused, held)
        # Resumed, it reaches the claims it held and finds them taken; a stop sent at once
        # would hand back, unlogged, the ones it had not started yet.
        assert wait_until(lambda: fenced(paused, taken), timeout=30), (
            taken,
            lease_lost(paused),
        )
        codes = [running.terminate()[0] for running in daemons]
    finally:
        for running in daemons:
            running.stop_quietly()
    assert codes == [0, 0, 0]
    assert_confirmed_exactly_once(sandbox, engine, 500)
    refunds = [effect["cp_refund_number"] for effect in sandbox.effects("refund")]
    assert len(refunds) == len(set(refunds)) == 150
    outputs = "\n".join(running.output() for running in daemons)
    database_errors = [
        line for line in outputs.splitlines() if '"job_failed"' in line and "sqlalchemy" in line
    ]
    assert database_errors == []  # pollers never raced to insert the same order
    # Each claim another instance took over while it was frozen was fenced off: its result
    # was refused (whether its call had been under way or it had not started yet).
    assert taken, "frozen for three leases, none of its claims was taken over"
    assert fenced(paused, taken)


def polled_accounts(daemon: Daemon) -> set[str]:
    """The accounts whose orders this instance polled (it held the job's lock)."""
    return {
        json.loads(line)["account"]
        for line in daemon.output().splitlines()
        if '"orders_pulled"' in line
    }


def test_two_daemons_share_the_polling_of_twenty_accounts(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Each pass of an account's orders job is done by whichever instance takes its lock:
    both instances poll, and every order is stored and confirmed once, for its account."""
    accounts = generated(20, username=USERNAME, password=PASSWORD, seed=9)
    for account in accounts.values():
        account.add_orders(10)
    with SandboxServer(Sandbox(), accounts=accounts) as server:
        config = write_accounts_config(
            tmp_path,
            database_url,
            server,
            list(accounts),
            merged(FAST, {"jobs": {"poll_concurrency": 2}, "api": {"rate_per_second": 40}}),
        )
        daemons = [Daemon(config, tmp_path / f"instance-{n}") for n in range(2)]
        try:
            for running in daemons:
                running.logs.mkdir()
                running.start()
            assert wait_until(lambda: confirmed_count(engine) == 200, timeout=90), confirmed_count(
                engine
            )
            # Both keep polling every second: each takes some accounts' locks.
            assert wait_until(
                lambda: all(polled_accounts(running) for running in daemons), timeout=30
            )
            codes = [running.terminate()[0] for running in daemons]
        finally:
            for running in daemons:
                running.stop_quietly()
    assert codes == [0, 0]
    assert accounts_confirmed_exactly_once(accounts, engine, 10) == {}
    outputs = "\n".join(running.output() for running in daemons)
    assert [line for line in outputs.splitlines() if '"job_failed"' in line] == []
