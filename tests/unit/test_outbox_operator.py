"""The operator's rules: which statuses retry and cancel accept, and the note they leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedamp_sync.core.operator import (
    REASON_MAX_CHARS,
    Action,
    MessageFacts,
    clean_reason,
    note_with,
    refusal,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def facts(status: str, lease_expires_at: datetime | None = None) -> MessageFacts:
    return MessageFacts(7, status, "host:1:abc" if lease_expires_at else None, lease_expires_at)


def test_only_a_dead_message_can_be_retried() -> None:
    """Retry accepts dead and refuses every other status, naming it."""
    allowed = {
        s for s in ("pending", "sent", "dead", "cancelled") if not refusal("retry", facts(s), NOW)
    }
    assert allowed == {"dead"}


@pytest.mark.parametrize("status", ["pending", "dead"])
def test_a_pending_or_dead_message_can_be_cancelled(status: str) -> None:
    """Cancel accepts the statuses that have not reached FeedAMP for good."""
    assert refusal("cancel", facts(status), NOW) is None


@pytest.mark.parametrize(
    ("action", "status", "said"),
    [
        ("retry", "pending", "already queued"),
        ("retry", "sent", "taken effect"),
        ("retry", "cancelled", "was cancelled"),
        ("cancel", "sent", "cannot be undone"),
        ("cancel", "cancelled", "already cancelled"),
    ],
)
def test_a_refusal_names_the_status_and_why(action: Action, status: str, said: str) -> None:
    """The message says what the status is, what is allowed, and why this is not."""
    message = refusal(action, facts(status), NOW)
    assert message is not None
    assert f"message 7 is {status}" in message
    assert said in message


@pytest.mark.parametrize("action", ["retry", "cancel"])
def test_an_in_flight_message_is_refused_until_its_lease_ends(action: Action) -> None:
    """A message being delivered is refused, with its lease and how to proceed."""
    message = refusal(action, facts("in_flight", NOW + timedelta(seconds=30)), NOW)
    assert message is not None
    assert "host:1:abc" in message
    assert "lease" in message
    assert "stop the daemon" in message


def test_a_claim_whose_lease_ran_out_counts_as_pending() -> None:
    """A message left in flight by a killed daemon can be cancelled once its lease expired."""
    assert refusal("cancel", facts("in_flight", NOW - timedelta(seconds=1)), NOW) is None


def test_the_reason_is_appended_as_a_stamped_line() -> None:
    """A note gains "<UTC time> <action>: <reason>" below what it held."""
    note = note_with("imported by ERP", "retry", "FeedAMP outage over", NOW)
    assert note == "imported by ERP\n2026-05-01T12:00:00+00:00 retry: FeedAMP outage over"


def test_the_first_reason_is_the_whole_note() -> None:
    """An empty note becomes the one line."""
    assert (
        note_with(None, "cancel", "duplicate", NOW) == "2026-05-01T12:00:00+00:00 cancel: duplicate"
    )


def test_a_reason_is_kept_on_one_bounded_line() -> None:
    """Line breaks and runs of spaces collapse; an overlong reason is cut."""
    assert clean_reason("  two\n  lines ") == "two lines"
    assert len(clean_reason("x" * 10_000)) == REASON_MAX_CHARS


def test_an_empty_reason_is_refused() -> None:
    """A reason of only whitespace says nothing, so it is refused."""
    with pytest.raises(ValueError, match="--reason"):
        clean_reason(" \n ")
