"""How long the drain sleeps for deliveries to end: never a busy loop, never past a flush."""

from __future__ import annotations

import pytest

from feedamp_sync.outbox.engine import FLUSH_SECONDS, collect_wait_seconds

NOW = 1000.0
BATCH = 50


def test_with_nothing_in_flight_the_drain_does_not_wait() -> None:
    assert collect_wait_seconds(0, 3, batch_size=BATCH, last_flush=NOW, now=NOW) == 0.0


def test_with_deliveries_running_and_no_results_it_waits_a_whole_flush_interval() -> None:
    waited = collect_wait_seconds(8, 0, batch_size=BATCH, last_flush=NOW - 10, now=NOW)
    assert waited == FLUSH_SECONDS


def test_with_results_waiting_it_sleeps_until_they_are_due_instead_of_polling() -> None:
    since_flush = FLUSH_SECONDS / 5
    waited = collect_wait_seconds(8, 2, batch_size=BATCH, last_flush=NOW - since_flush, now=NOW)
    assert waited == pytest.approx(FLUSH_SECONDS - since_flush)


def test_with_results_already_due_it_does_not_wait() -> None:
    waited = collect_wait_seconds(8, 2, batch_size=BATCH, last_flush=NOW - 1, now=NOW)
    assert waited == 0.0


def test_with_a_whole_batch_of_results_it_does_not_wait_for_the_interval() -> None:
    assert collect_wait_seconds(8, BATCH, batch_size=BATCH, last_flush=NOW, now=NOW) == 0.0


def test_with_messages_waiting_for_a_budget_and_nothing_running_it_sleeps_until_it_opens() -> None:
    waited = collect_wait_seconds(
        0, 0, batch_size=BATCH, last_flush=NOW, now=NOW, budget_opens_in=0.3
    )
    assert waited == 0.3


def test_a_budget_opening_before_the_flush_interval_cuts_the_wait_short() -> None:
    waited = collect_wait_seconds(
        8, 0, batch_size=BATCH, last_flush=NOW, now=NOW, budget_opens_in=FLUSH_SECONDS / 10
    )
    assert waited == FLUSH_SECONDS / 10


def test_results_to_record_are_recorded_before_waiting_for_a_budget() -> None:
    waited = collect_wait_seconds(
        0, 2, batch_size=BATCH, last_flush=NOW, now=NOW, budget_opens_in=0.5
    )
    assert waited == 0.0
