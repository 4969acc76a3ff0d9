"""Reading list pages one ahead: the next request overlaps the storing of the current page."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator

import pytest
import structlog

from feedamp_sync.feedamp.pagination import Page, read_ahead

WAIT_SECONDS = 5.0


class Pages:
    """A pass of ``count`` pages whose requests can be held, and that says which began."""

    def __init__(self, count: int, *, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.started = [threading.Event() for _ in range(count + 1)]
        self.release = [threading.Event() for _ in range(count + 1)]
        self.context: list[dict[str, object]] = []
        for page in range(count + 1):
            self.release[page].set()

    def hold(self, page: int) -> None:
        self.release[page].clear()

    def __iter__(self) -> Iterator[Page]:
        for page in range(1, self.count + 1):
            self.context.append(structlog.contextvars.get_contextvars())
            self.started[page].set()
            assert self.release[page].wait(WAIT_SECONDS)
            if page == self.fail_at:
                raise ConnectionError(f"page {page} failed")
            cursor = f"c{page}" if page < self.count else None
            yield Page([{"id": str(page)}], cursor)


def reading(source: Pages, stop: threading.Event | None = None) -> Generator[Page, None, None]:
    reader = read_ahead(iter(source), stop or threading.Event())
    assert isinstance(reader, Generator)
    return reader


def test_every_page_is_yielded_once_in_order() -> None:
    pages = list(reading(Pages(4)))
    assert [page.items[0]["id"] for page in pages] == ["1", "2", "3", "4"]
    assert [page.next_cursor for page in pages] == ["c1", "c2", "c3", None]


def test_the_next_page_is_requested_while_the_caller_holds_the_current_one() -> None:
    source = Pages(3)
    reader = reading(source)
    first = next(reader)
    assert first.items == [{"id": "1"}]
    assert source.started[2].wait(WAIT_SECONDS)


def test_no_more_than_one_page_is_requested_ahead() -> None:
    source = Pages(3)
    reader = reading(source)
    next(reader)
    assert source.started[2].wait(WAIT_SECONDS)
    assert not source.started[3].wait(0.3)


def test_once_stop_is_set_nothing_is_requested_ahead() -> None:
    source = Pages(3)
    stop = threading.Event()
    reader = reading(source, stop)
    next(reader)
    assert source.started[2].wait(WAIT_SECONDS)
    stop.set()
    assert next(reader).items == [{"id": "2"}]
    assert not source.started[3].wait(0.3)
    assert next(reader).items == [{"id": "3"}]  # a caller that asks anyway still gets it


def test_a_failed_first_request_raises_at_the_first_page() -> None:
    with pytest.raises(ConnectionError, match="page 1 failed"):
        next(reading(Pages(3, fail_at=1)))


def test_a_failed_request_raises_after_the_pages_before_it() -> None:
    reader = reading(Pages(3, fail_at=2))
    assert next(reader).items == [{"id": "1"}]
    with pytest.raises(ConnectionError, match="page 2 failed"):
        next(reader)


def test_each_request_runs_with_the_callers_log_context_of_the_moment() -> None:
    source = Pages(3)
    reader = reading(source)
    with structlog.contextvars.bound_contextvars(job="orders"):
        next(reader)  # page 1, and page 2 requested
        with structlog.contextvars.bound_contextvars(page="next"):
            next(reader)  # page 2, and page 3 requested
            assert source.started[3].wait(WAIT_SECONDS)
    assert source.context == [
        {"job": "orders"},
        {"job": "orders"},
        {"job": "orders", "page": "next"},
    ]


def test_a_caller_that_stops_does_not_wait_for_the_request_in_flight() -> None:
    source = Pages(2)
    source.hold(2)
    reader = reading(source)
    next(reader)
    assert source.started[2].wait(WAIT_SECONDS)
    closing = threading.Thread(target=reader.close)
    closing.start()
    closing.join(WAIT_SECONDS)
    try:
        assert not closing.is_alive()
    finally:
        source.release[2].set()
