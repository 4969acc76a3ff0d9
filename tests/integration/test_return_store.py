"""Storing pages of returns: upserts, lines with stable ids, state changes, and reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from feedamp_sync.db import tables as t
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.model import ReturnRecord, return_record

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def a_return(
    feedamp_id: str, state: str | None = "Pending Authorization", lines: int = 2, **extra: Any
) -> ReturnRecord:
    return return_record(
        {
            "id": feedamp_id,
            "state": state,
            "order_id": f"O{feedamp_id}",
            "return_info": {
                "mp_return_number": f"RT-{feedamp_id}",
                "request_date": "2026-02-27T10:00:00.000Z",
                "return_lines": [
                    {
                        "feedamp_return_line_id": f"{feedamp_id}-{n}",
                        "mp_return_line_number": f"L{n}",
                        "sku": f"SKU{n}",
                        "quantity": n + 1,
                    }
                    for n in range(lines)
                ],
            },
            **extra,
        }
    )


def stored(engine: Engine, feedamp_id: str, account: str = "main") -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(t.returns).where(
                t.returns.c.feedamp_id == feedamp_id, t.returns.c.account == account
            )
        ).one()


def line_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.return_lines.c.mp_return_line_number, t.return_lines.c.id))
        return {row.mp_return_line_number: row.id for row in rows}


def test_new_returns_are_stored_with_their_lines(engine: Engine) -> None:
    """A first sight stores the typed columns, the JSON, and one row per line."""
    saved = ReturnStore(engine).save_page("main", [a_return("1"), a_return("2", lines=3)], now=NOW)
    assert (saved.new, saved.changed, saved.unchanged) == (2, 0, 0)
    row = stored(engine, "1")
    assert (row.state, row.order_feedamp_id, row.mp_return_number) == (
        "Pending Authorization",
        "O1",
        "RT-1",
    )
    assert row.request_date == datetime(2026, 2, 27, 10, tzinfo=UTC)
    assert row.data["return_info"]["mp_return_number"] == "RT-1"
    with engine.connect() as conn:
        lines = conn.execute(select(t.return_lines).order_by(t.return_lines.c.id)).all()
    assert [(line.mp_return_line_number, line.feedamp_return_line_id) for line in lines[:2]] == [
        ("L0", "1-0"),
        ("L1", "1-1"),
    ]
    assert len(lines) == 5


def test_first_sight_sets_every_time(engine: Engine) -> None:
    """A new return's state_changed_at, first/last seen and updated times are the save time."""
    ReturnStore(engine).save_page("main", [a_return("1")], now=NOW)
    row = stored(engine, "1")
    assert {row.state_changed_at, row.first_seen_at, row.last_seen_at, row.updated_at} == {NOW}


def test_a_state_change_updates_the_row_and_state_changed_at(engine: Engine) -> None:
    """A return seen in another state gets that state and a new state_changed_at."""
    store = ReturnStore(engine)
    store.save_page("main", [a_return("1")], now=NOW)
    saved = store.save_page("main", [a_return("1", state="Pending Refund")], now=LATER)
    row = stored(engine, "1")
    assert (saved.changed, saved.state_changes) == (1, 1)
    assert (row.state, row.state_changed_at, row.updated_at, row.first_seen_at) == (
        "Pending Refund",
        LATER,
        LATER,
        NOW,
    )


def test_another_change_keeps_state_changed_at(engine: Engine) -> None:
    """A changed return whose state is the same keeps its state_changed_at."""
    store = ReturnStore(engine)
    store.save_page("main", [a_return("1")], now=NOW)
    saved = store.save_page("main", [a_return("1", notes="new")], now=LATER)
    row = stored(engine, "1")
    assert (saved.changed, saved.state_changes) == (1, 0)
    assert (row.state_changed_at, row.updated_at, row.data["notes"]) == (NOW, LATER, "new")


def test_an_unchanged_return_is_only_touched(engine: Engine) -> None:
    """Seeing the same object again moves last_seen_at only."""
    store = ReturnStore(engine)
    store.save_page("main", [a_return("1")], now=NOW)
    saved = store.save_page("main", [a_return("1")], now=LATER)
    row = stored(engine, "1")
    assert (saved.unchanged, row.last_seen_at, row.updated_at) == (1, LATER, NOW)


def test_line_rows_keep_their_ids_when_a_return_changes(engine: Engine) -> None:
    """Lines are updated in place by mp_return_line_number; a new line is added."""
    store = ReturnStore(engine)
    store.save_page("main", [a_return("1", lines=2)], now=NOW)
    before = line_ids(engine)
    store.save_page("main", [a_return("1", state="Pending Refund", lines=3)], now=LATER)
    after = line_ids(engine)
    assert {k: after[k] for k in before} == before
    assert set(after) == {"L0", "L1", "L2"}


def test_accounts_do_not_share_returns(engine: Engine) -> None:
    """The same FeedAMP id under two accounts is two returns."""
    store = ReturnStore(engine)
    store.save_page("main", [a_return("1")], now=NOW)
    saved = store.save_page("eu", [a_return("1", state="Pending Refund")], now=NOW)
    assert saved.new == 1
    assert (stored(engine, "1").state, stored(engine, "1", "eu").state) == (
        "Pending Authorization",
        "Pending Refund",
    )


def test_recent_filters_by_state_open_and_account(engine: Engine) -> None:
    """recent() lists newest first and filters by account, state and open."""
    store = ReturnStore(engine)
    store.save_page(
        "main",
        [a_return("1"), a_return("2", state="Merchant Refunded"), a_return("3", state=None)],
        now=NOW,
    )
    store.save_page("eu", [a_return("4", state="Pending Refund")], now=NOW)

    def ids(**filters: Any) -> list[str]:
        return [row["feedamp_id"] for row in store.recent(**filters)]

    assert ids() == ["4", "3", "2", "1"]
    assert ids(account="main", open_only=True) == ["3", "1"]
    assert ids(state="Merchant Refunded") == ["2"]
    assert ids(limit=1) == ["4"]


def test_get_returns_lines_and_the_object_as_received(engine: Engine) -> None:
    """get() gives the typed columns, the lines and the JSON of one return."""
    store = ReturnStore(engine)
    store.save_page("main", [a_return("1", unknown_field=[1])], now=NOW)
    found = store.get("1")
    assert found is not None
    assert (found["state"], found["data"]["unknown_field"]) == ("Pending Authorization", [1])
    assert [line["feedamp_return_line_id"] for line in found["lines"]] == ["1-0", "1-1"]
    assert (store.get("1", account="eu"), store.get("404")) == (None, None)


def test_counts_separate_open_from_closed(engine: Engine) -> None:
    """counts() gives the total and the returns not in a closed state."""
    store = ReturnStore(engine)
    closed = [
        a_return(str(n), state=s)
        for n, s in enumerate(["Merchant Refunded", "Merchant Rejected", "Customer Cancelled"])
    ]
    store.save_page("main", [*closed, a_return("9", state="Pending Shipping")], now=NOW)
    assert store.counts() == {"total": 4, "open": 1}
