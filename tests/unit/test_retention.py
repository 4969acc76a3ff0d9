"""The retention decisions: the cut-off, which rows may go, and when a history may go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedamp_sync.outbox.kinds import KINDS
from feedamp_sync.retention import OUTBOX, Pruned, cutoff, prunable

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CUTOFF = cutoff(NOW, 30)
OUTBOX_RULE, EVENTS_RULE, QUARANTINE_RULE = prunable(KINDS.history_kinds)


def row(status: str, at: datetime | None) -> dict[str, object]:
    return {"status": status, "sent_at": at, "next_attempt_at": at}


def test_the_cutoff_is_keep_days_before_now() -> None:
    """Rows dated before now minus keep_days are past retention."""
    assert cutoff(NOW, 30) == datetime(2026, 5, 2, 12, tzinfo=UTC)


def test_only_sent_and_cancelled_messages_have_a_date_that_lets_them_go() -> None:
    """Sent is dated by sent_at, cancelled by next_attempt_at; nothing else is ever pruned."""
    assert OUTBOX_RULE.table == OUTBOX
    assert {s: OUTBOX_RULE.dated_by(s) for s in ("sent", "cancelled", "dead", "pending")} == {
        "sent": "sent_at",
        "cancelled": "next_attempt_at",
        "dead": None,
        "pending": None,
    }


def test_a_row_goes_only_when_dated_strictly_before_the_cutoff() -> None:
    """A message sent exactly at the cut-off is still kept."""
    assert OUTBOX_RULE.may_go(row("sent", CUTOFF - timedelta(seconds=1)), CUTOFF)
    assert not OUTBOX_RULE.may_go(row("sent", CUTOFF), CUTOFF)


def test_a_sent_row_without_its_date_is_kept() -> None:
    """A row marked sent by hand without sent_at cannot be dated, so it stays."""
    assert not OUTBOX_RULE.may_go(row("sent", None), CUTOFF)


def test_a_dead_row_is_kept_however_old() -> None:
    """Dead messages wait for an operator, never for retention."""
    assert not OUTBOX_RULE.may_go(row("dead", NOW - timedelta(days=3650)), CUTOFF)


def test_a_history_goes_only_when_every_row_of_it_may_go() -> None:
    """One recent or unfinished fulfillment of an order keeps all of its fulfillments."""
    old = row("sent", NOW - timedelta(days=40))
    final = NOW - timedelta(days=35)
    assert OUTBOX_RULE.history_may_go(
        [old, row("cancelled", NOW - timedelta(days=31))], CUTOFF, final
    )
    assert not OUTBOX_RULE.history_may_go(
        [old, row("sent", NOW - timedelta(days=2))], CUTOFF, final
    )
    assert not OUTBOX_RULE.history_may_go(
        [old, row("pending", NOW - timedelta(days=40))], CUTOFF, final
    )


def test_a_history_that_waits_for_its_order_goes_only_once_final_before_the_cutoff() -> None:
    """Old, finished fulfillments still stay while their order is open (or not stored), and
    while it has been final for less than keep_days."""
    old = [row("sent", NOW - timedelta(days=40))]
    assert not OUTBOX_RULE.history_may_go(old, CUTOFF, settled_at=None)
    assert not OUTBOX_RULE.history_may_go(old, CUTOFF, settled_at=CUTOFF)
    assert OUTBOX_RULE.history_may_go(old, CUTOFF, settled_at=CUTOFF - timedelta(seconds=1))


def test_fulfillments_wait_for_their_order_to_be_final() -> None:
    """An order is found by the message's account and target id; final_at says it settled."""
    history = OUTBOX_RULE.history
    assert history is not None
    assert history.settled is not None
    assert (history.settled.table, history.settled.column) == ("feedamp_orders", "final_at")
    assert dict(history.settled.keys) == {"account": "account", "target_id": "feedamp_id"}


def test_fulfillments_are_the_outbox_history_by_order() -> None:
    """The kinds that build on earlier messages (fulfillments) are pruned per target."""
    history = OUTBOX_RULE.history
    assert history is not None
    assert history.values == frozenset({"fulfillment"})
    assert history.subject == ("account", "kind", "target_id")


def test_a_pass_reports_its_counts_and_longest_batch() -> None:
    """Counts add up per table; the longest batch is kept; times as ISO text."""
    pruned = Pruned(CUTOFF)
    pruned.count(OUTBOX, 2)
    pruned.count(OUTBOX, 3)
    pruned.batch_took(0.25)
    pruned.batch_took(0.1)
    assert pruned.fields() == {
        "cutoff": "2026-05-02T12:00:00+00:00",
        "deleted": {OUTBOX: 5},
        "batches": 2,
        "longest_batch_seconds": 0.25,
        "complete": True,
    }


def test_a_quarantine_entry_goes_only_once_resolved_before_the_cutoff() -> None:
    """An open entry (no resolved_at) is an order or return still held: kept however old."""
    old = NOW - timedelta(days=3650)
    assert QUARANTINE_RULE.may_go({"resolved_at": CUTOFF - timedelta(seconds=1)}, CUTOFF)
    assert not QUARANTINE_RULE.may_go({"resolved_at": CUTOFF}, CUTOFF)
    assert not QUARANTINE_RULE.may_go({"resolved_at": None, "first_seen_at": old}, CUTOFF)
