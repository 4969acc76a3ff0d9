"""Query encoding and cursor following, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from feedamp_sync.feedamp.nesting import Unreadable
from feedamp_sync.feedamp.pagination import Page, follow_cursor
from feedamp_sync.feedamp.params import new_orders_params, returns_params, utc_timestamp


def test_aware_datetimes_are_sent_in_utc_with_an_explicit_offset() -> None:
    """A New York time becomes UTC with ``+00:00``, never a naive string."""
    eastern = timezone(timedelta(hours=-5))
    value = datetime(2026, 1, 1, 22, 4, 5, 999_999, tzinfo=eastern)
    assert utc_timestamp("refreshed_after", value) == "2026-01-02T03:04:05+00:00"


def test_naive_datetimes_are_refused() -> None:
    """FeedAMP would read a naive time as US Eastern, so it is a ValueError."""
    with pytest.raises(ValueError, match="refreshed_after must be timezone-aware"):
        utc_timestamp("refreshed_after", datetime(2026, 1, 2))


def test_return_filters_use_feedamps_names_and_formats() -> None:
    """Hyphenated names, comma-delimited states, true/false, UTC offsets."""
    params = returns_params(
        limit=100,
        open=True,
        states=["Pending Authorization", "Pending Refund"],
        refreshed_after=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        created_after=datetime(2025, 12, 1, tzinfo=UTC),
        merchant_return_number="RMA-1",
    )
    assert params == {
        "limit": "100",
        "open": "true",
        "state": "Pending Authorization,Pending Refund",
        "refreshed-after": "2026-01-02T03:04:05+00:00",
        "created-after": "2025-12-01T00:00:00+00:00",
        "merchant-return-number": "RMA-1",
    }


def test_unset_return_filters_are_left_out() -> None:
    """Only the page size is sent when no filter is given; ``open=False`` is sent as false."""
    assert returns_params(
        limit=50,
        open=False,
        states=None,
        refreshed_after=None,
        created_after=None,
        merchant_return_number=None,
    ) == {"limit": "50", "open": "false"}


@pytest.mark.parametrize("states", [[], "Pending Refund"], ids=["empty", "bare-string"])
def test_states_must_be_a_non_empty_sequence(states: Any) -> None:
    """An empty list or a bare string of states is a programming error."""
    with pytest.raises(ValueError, match="states must be a non-empty sequence"):
        returns_params(
            limit=50,
            open=None,
            states=states,
            refreshed_after=None,
            created_after=None,
            merchant_return_number=None,
        )


def test_new_orders_flag_is_sent_as_true_or_false() -> None:
    """``marketplace_fulfilled`` goes as ``false``, not ``False`` or ``0``."""
    assert new_orders_params(limit=200, marketplace_fulfilled=False) == {
        "limit": "200",
        "marketplace_fulfilled": "false",
    }


def pages_from(*answers: tuple[list[Any], str | None]) -> tuple[list[str | None], Any]:
    asked: list[str | None] = []
    queue = list(answers)

    def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        asked.append(cursor)
        return queue.pop(0)

    return asked, fetch


def ignore(_: str | None) -> None:
    return None


def test_cursor_is_followed_until_the_last_page() -> None:
    """Each page's next_cursor is the next request's cursor; None ends the pass."""
    asked, fetch = pages_from(([{"id": "1"}], "a"), ([{"id": "2"}], "b"), ([{"id": "3"}], None))
    pages = list(follow_cursor(fetch, on_repeat=ignore, on_no_progress=ignore))
    assert asked == [None, "a", "b"]
    assert pages[-1] == Page([{"id": "3"}], None, cursor="b")


def test_a_repeated_cursor_stops_the_pass_and_is_reported() -> None:
    """A cursor already followed ends the pass instead of looping, and is reported."""
    repeated: list[str] = []
    asked, fetch = pages_from(([{"id": "1"}], "a"), ([{"id": "2"}], "b"), ([{"id": "3"}], "a"))
    pages = list(follow_cursor(fetch, on_repeat=repeated.append, on_no_progress=ignore))
    assert (asked, repeated) == ([None, "a", "b"], ["a"])
    assert pages[-1] == Page([{"id": "3"}], None, cut_short=True, cursor="b")


def test_a_pass_that_reaches_the_end_is_not_cut_short() -> None:
    _, fetch = pages_from(([{"id": "1"}], "a"), ([{"id": "2"}], None))
    assert [
        page.cut_short for page in follow_cursor(fetch, on_repeat=ignore, on_no_progress=ignore)
    ] == [
        False,
        False,
    ]


def test_a_page_of_items_already_read_stops_the_pass_and_is_reported() -> None:
    """The same orders under ever new cursors end the pass instead of looping for ever."""
    stalled: list[str | None] = []
    _, fetch = pages_from(([{"id": "1"}], "a"), ([{"id": "2"}], "b"), ([{"id": "1"}], "c"))
    pages = list(follow_cursor(fetch, on_repeat=ignore, on_no_progress=stalled.append))
    assert (stalled, pages[-1]) == (["b"], Page([{"id": "1"}], None, cut_short=True, cursor="b"))


def test_a_page_with_one_new_item_is_progress() -> None:
    """Items seen before may come again beside new ones (cursors shift while orders are
    confirmed): that page is no stall."""
    _, fetch = pages_from(([{"id": "1"}], "a"), ([{"id": "1"}, {"id": "2"}], None))
    pages = list(follow_cursor(fetch, on_repeat=ignore, on_no_progress=ignore))
    assert [page.cut_short for page in pages] == [False, False]


def test_items_without_an_id_are_told_apart_by_their_text() -> None:
    """An item with no id still counts as seen once the same item comes again."""
    stalled: list[str | None] = []
    _, fetch = pages_from(([{"x": 1}], "a"), ([{"x": 1}], "b"))
    list(follow_cursor(fetch, on_repeat=ignore, on_no_progress=stalled.append))
    assert stalled == ["a"]


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (Unreadable("[[[]]]", 3, "7"), Unreadable('{"id": "7"}', 1, "7")),
        (Unreadable("[[[]]]", 3, None), Unreadable("[[[]]]", 3, None)),
    ],
    ids=["by-id", "by-text"],
)
def test_items_too_deep_to_read_are_told_apart_by_their_id_or_text(
    first: Unreadable, again: Unreadable
) -> None:
    """An item too deep to be read counts as seen by its id, or without one by its text."""
    stalled: list[str | None] = []
    _, fetch = pages_from(([first], "a"), ([again], "b"))
    list(follow_cursor(fetch, on_repeat=ignore, on_no_progress=stalled.append))
    assert stalled == ["a"]
