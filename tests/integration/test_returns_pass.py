"""The returns poller's pass on a real database, with a stand-in client for FeedAMP."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Engine, func, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.sync_state import SyncStateStore
from feedamp_sync.errors import ApiResponseInvalid
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.feedamp.pagination import Page
from feedamp_sync.jobs import pull_returns
from feedamp_sync.returns_window import checkpoint_value
from feedamp_sync.sandbox import Sandbox


class RepeatingCursor:
    """A client whose returns search hands back the given pages, the last one cut short by a
    cursor FeedAMP had already handed out."""

    account_name = "main"

    def __init__(self, pages: list[Page]) -> None:
        self._pages = pages

    def iter_returns(self, **query: Any) -> Iterator[Page]:
        return iter(self._pages)


class StoppedDuringThePass:
    """A client whose returns search is stopped (SIGTERM) while its second page is asked for,
    that is while the first one is being stored; it records the pages asked for."""

    account_name = "main"

    def __init__(self, pages: list[Page], stop: threading.Event) -> None:
        self._pages = pages
        self._stop = stop
        self.asked: list[int] = []

    def iter_returns(self, **query: Any) -> Iterator[Page]:
        for number, page in enumerate(self._pages, start=1):
            self.asked.append(number)
            if number == 2:
                self._stop.set()
            yield page


def test_a_stop_during_a_pass_keeps_the_pages_stored_and_the_checkpoint(engine: Engine) -> None:
    """The page read is stored, nothing after the page already on its way is asked for,
    and the checkpoint stays, so the next poll covers the whole window again."""
    world = Sandbox(seed=1)
    returns = [world.return_(r) for r in world.add_returns(3, states=["Pending Refund"])]
    state = SyncStateStore(engine)
    earlier = checkpoint_value(datetime(2026, 11, 1, tzinfo=UTC))
    state.succeeded("main", "returns", datetime.now(UTC), checkpoint=earlier)
    stop = threading.Event()
    pages = [Page([returns[0]], "a"), Page([returns[1]], "b"), Page([returns[2]], None)]
    client = StoppedDuringThePass(pages, stop)
    calls = itertools.count()

    def clock() -> datetime:
        if next(calls) == 1:  # the first page's store, which the stop arrives during
            assert stop.wait(5.0)
        return datetime.now(UTC)

    pulled = pull_returns(
        cast(FeedampClient, client),
        ReturnStore(engine),
        QuarantineStore(engine),
        state,
        overlap=timedelta(minutes=15),
        clock=clock,
        stop=stop,
    )
    assert not pulled.complete
    assert client.asked == [1, 2]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.returns)) == 1
    assert state.checkpoint("main", "returns") == earlier


def test_a_pass_cut_short_by_a_repeated_cursor_fails_and_leaves_the_checkpoint(
    engine: Engine,
) -> None:
    """Pages after a repeated cursor were never read: the pages read are stored, the tick
    fails where an operator sees it, and the next poll asks for the same window."""
    world = Sandbox(seed=1)
    first, second = (world.return_(r) for r in world.add_returns(2, states=["Pending Refund"]))
    state = SyncStateStore(engine)
    earlier = checkpoint_value(datetime(2026, 11, 1, tzinfo=UTC))
    state.succeeded("main", "returns", datetime.now(UTC), checkpoint=earlier)
    client = RepeatingCursor([Page([first], "a"), Page([second], None, cut_short=True)])
    with pytest.raises(ApiResponseInvalid, match="cursor this poll had already followed"):
        pull_returns(
            cast(FeedampClient, client),
            ReturnStore(engine),
            QuarantineStore(engine),
            state,
            overlap=timedelta(minutes=15),
            clock=lambda: datetime.now(UTC),
            stop=threading.Event(),
        )
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.returns)) == 2
    assert state.checkpoint("main", "returns") == earlier
