"""Which threads still alive after the graceful stop make the daemon exit at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from feedamp_sync.daemon import stuck_calls
from feedamp_sync.feedamp.pagination import READ_AHEAD_THREAD
from feedamp_sync.feedamp.transport import CUTOFF_THREAD

WAIT_SECONDS = 5.0


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def waiting(release: threading.Event, *, name: str, daemon: bool) -> threading.Thread:
    thread = threading.Thread(target=release.wait, args=(WAIT_SECONDS,), name=name, daemon=daemon)
    thread.start()
    return thread


def test_a_delivery_still_waiting_on_feedamp_is_stuck(release: threading.Event) -> None:
    worker = waiting(release, name="outbox_0", daemon=False)
    assert stuck_calls([worker], threading.main_thread()) == [worker]


def test_a_list_page_read_ahead_is_left_behind(release: threading.Event) -> None:
    page = waiting(release, name=READ_AHEAD_THREAD, daemon=True)
    assert stuck_calls([page], threading.main_thread()) == []


def test_the_thread_that_cuts_calls_off_at_their_deadline_is_left_behind(
    release: threading.Event,
) -> None:
    cutoffs = waiting(release, name=CUTOFF_THREAD, daemon=True)
    assert stuck_calls([cutoffs], threading.main_thread()) == []


def test_a_non_daemon_thread_named_like_a_page_read_ahead_is_still_stuck(
    release: threading.Event,
) -> None:
    thread = waiting(release, name=READ_AHEAD_THREAD, daemon=False)
    assert stuck_calls([thread], threading.main_thread()) == [thread]


def test_the_main_thread_and_finished_threads_are_not_stuck() -> None:
    finished = threading.Thread(target=lambda: None)
    finished.start()
    finished.join(WAIT_SECONDS)
    main = threading.main_thread()
    assert stuck_calls([main, finished], main) == []
