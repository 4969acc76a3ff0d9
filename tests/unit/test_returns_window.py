"""Which returns a poll asks for, and the checkpoint it leaves behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from feedamp_sync.returns_window import (
    ReturnsQuery,
    checkpoint_value,
    next_query,
    parse_checkpoint,
)

STARTED = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
OVERLAP = timedelta(seconds=900)


def test_the_first_poll_asks_for_every_open_return() -> None:
    """Without a checkpoint the poll filters on open returns only, with no time filter."""
    assert next_query(None, OVERLAP) == ReturnsQuery(open=True)


def test_a_later_poll_asks_for_everything_refreshed_since_the_checkpoint_minus_overlap() -> None:
    """Every state, refreshed after the previous poll's start less the overlap."""
    query = next_query(STARTED, OVERLAP)
    assert (query.open, query.refreshed_after) == (None, STARTED - OVERLAP)
    assert query.mode == "incremental"


def test_the_window_is_always_utc() -> None:
    """A checkpoint in another offset still gives a UTC filter."""
    plus_two = STARTED.astimezone(timezone(timedelta(hours=2)))
    refreshed_after = next_query(plus_two, OVERLAP).refreshed_after
    assert refreshed_after is not None
    assert (refreshed_after.utcoffset(), refreshed_after) == (timedelta(0), STARTED - OVERLAP)


def test_a_checkpoint_round_trips_through_its_json() -> None:
    """The stored JSON gives back the poll's start to the microsecond, in UTC."""
    assert parse_checkpoint(checkpoint_value(STARTED)) == STARTED


def test_the_checkpoint_json_names_what_it_is() -> None:
    """The stored value is {"refreshed_after": <ISO time with offset>}."""
    assert checkpoint_value(STARTED) == {"refreshed_after": "2026-05-01T12:00:00.123456+00:00"}


def test_a_naive_poll_start_is_refused() -> None:
    """A checkpoint without a time zone would be read back wrong, so it is never written."""
    with pytest.raises(ValueError, match="timezone-aware"):
        checkpoint_value(STARTED.replace(tzinfo=None))


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "2026-05-01T12:00:00+00:00",
        {},
        {"refreshed_after": 5},
        {"refreshed_after": "x"},
        {"refreshed_after": "2026-05-01T12:00:00"},
    ],
    ids=["none", "bare-string", "empty", "number", "garbage", "naive"],
)
def test_an_unusable_checkpoint_means_a_first_poll_again(stored: Any) -> None:
    """A missing or malformed checkpoint is no checkpoint: the poll takes every open return."""
    assert parse_checkpoint(stored) is None
