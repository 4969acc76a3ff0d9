"""How big each scenario runs: ``small`` proves the suite works (CI), ``full`` measures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Scale:
    name: str
    ingest_orders: int
    """Scenario 1: the backlog ingested at the default list rate (2 requests/s, pages of 200)."""
    throughput_orders: int
    """Scenario 2: orders listed and confirmed with the rate limits lifted."""
    push_messages: int
    """Scenario 2: seller actions (fulfillments) pushed from the outbox."""
    round_trip_orders: int
    """Scenario 2 again, with every answer taking a network's round trip: orders confirmed,
    and as many fulfillments pushed."""
    memory_small: int
    memory_large: int
    """Scenario 3: the two backlogs whose peak RSS is compared."""
    idle_orders: int
    """Scenario 4: orders stored (and confirmed) before the daemon idles."""
    idle_settle_seconds: float
    idle_seconds: float
    wakeup_interval: float
    """Scenario 5: ``jobs.outbox_interval`` while a message is inserted."""
    wakeup_samples: int
    starvation_backlog: int
    """Scenario 6: account a's new orders, whose confirms the others must not wait behind."""
    retention_messages: int
    """Scenario 7: old sent messages (each with its attempt) pruned while the daemon pushes."""
    retention_pushes: int
    """Scenario 7: fulfillments pushed alone, then as many again while pruning."""
    refresh_open_orders: int
    """Scenario 8: confirmed open orders due for a refresh while the backlog is ingested."""
    refresh_backlog: int
    """Scenario 8: new orders ingested meanwhile."""
    accounts: int
    accounts_orders: int
    """Scenario 9: accounts served by one daemon, and new orders in each."""


SCALES: Final = {
    "small": Scale(
        name="small",
        ingest_orders=600,
        throughput_orders=400,
        push_messages=200,
        round_trip_orders=100,
        memory_small=100,
        memory_large=1_000,
        idle_orders=0,
        idle_settle_seconds=1.0,
        idle_seconds=6.0,
        wakeup_interval=2.0,
        wakeup_samples=1,
        starvation_backlog=400,
        retention_messages=3_000,
        retention_pushes=200,
        refresh_open_orders=200,
        refresh_backlog=600,
        accounts=10,
        accounts_orders=5,
    ),
    "full": Scale(
        name="full",
        ingest_orders=20_000,
        throughput_orders=20_000,
        push_messages=10_000,
        round_trip_orders=4_000,
        memory_small=10_000,
        memory_large=100_000,
        idle_orders=1_000,
        idle_settle_seconds=5.0,
        idle_seconds=60.0,
        wakeup_interval=30.0,
        wakeup_samples=3,
        starvation_backlog=5_000,
        retention_messages=200_000,
        retention_pushes=4_000,
        refresh_open_orders=5_000,
        refresh_backlog=5_000,
        accounts=200,
        accounts_orders=50,
    ),
}
