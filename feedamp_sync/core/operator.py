"""What an operator may do to an outbox message, and how the reason is recorded.

Pure rules, no I/O: the store applies them inside the transaction that changes the row.

- ``retry`` puts a ``dead`` message back in the queue, due now, with a fresh budget of
  attempts. Any other status is refused: ``pending`` and ``in_flight`` are already queued,
  ``sent`` took effect, and ``cancelled`` was given up on purpose.
- ``cancel`` gives up on a ``pending`` or ``dead`` message, which unblocks the later messages
  of its target. ``in_flight`` is refused because a worker may be talking to FeedAMP about it
  right now; its lease ends soon (or the daemon can be stopped), then it can be cancelled.

Every change appends ``"<UTC time> <action>: <reason>"`` to the message's ``note``, so the
table itself tells why a message was re-sent or abandoned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

Action = Literal["retry", "cancel"]

ALLOWED_FROM: Final[dict[Action, tuple[str, ...]]] = {
    "retry": ("dead",),
    "cancel": ("pending", "dead"),
}
TARGET_STATUS: Final[dict[Action, str]] = {"retry": "pending", "cancel": "cancelled"}
REASON_MAX_CHARS: Final = 500


@dataclass(frozen=True)
class MessageFacts:
    """What the rules need to know about a message."""

    id: int
    status: str
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None

    def status_at(self, now: datetime) -> str:
        """The status as the queue sees it: a claim whose lease ran out is pending again.

        Its worker can no longer record anything (the fence needs ``in_flight``), so a
        message left in flight by a daemon that was killed can still be cancelled.
        """
        expired = self.lease_expires_at is not None and self.lease_expires_at <= now
        return "pending" if self.status == "in_flight" and expired else self.status


_WHY_NOT: Final[dict[tuple[Action, str], str]] = {
    ("retry", "pending"): "it is already queued",
    ("retry", "sent"): "it has taken effect in FeedAMP; enqueue a new action instead",
    ("retry", "cancelled"): "it was cancelled; enqueue the action again if it is still wanted",
    ("cancel", "sent"): "it has taken effect in FeedAMP and cannot be undone from here",
    ("cancel", "cancelled"): "it is already cancelled",
}
_DONE: Final[dict[Action, str]] = {"retry": "retried", "cancel": "cancelled"}


def refusal(action: Action, message: MessageFacts, now: datetime) -> str | None:
    """Why ``action`` may not be applied to ``message`` at ``now``, or None when it may."""
    status = message.status_at(now)
    if status in ALLOWED_FROM[action]:
        return None
    label = f"message {message.id} is {status}"
    if status == "in_flight":
        until = message.lease_expires_at.isoformat() if message.lease_expires_at else "unknown"
        return (
            f"{label}: {message.lease_owner or 'a worker'} is delivering it (lease until "
            f"{until}); wait for the attempt to end or its lease to run out, or stop the "
            f"daemon, then {action} it"
        )
    allowed = " or ".join(ALLOWED_FROM[action])
    why = _WHY_NOT.get((action, status))
    return f"{label}; only a {allowed} message can be {_DONE[action]}" + (
        f" ({why})" if why else ""
    )


def clean_reason(reason: str) -> str:
    """The reason as one line of bounded length; ValueError when it says nothing."""
    line = " ".join(reason.split())
    if not line:
        raise ValueError("--reason: must say why (it is recorded on the message)")
    return line[:REASON_MAX_CHARS]


def note_with(note: str | None, action: Action, reason: str, now: datetime) -> str:
    """``note`` with one more line recording this action and its reason."""
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    line = f"{stamp} {action}: {clean_reason(reason)}"
    return f"{note.rstrip()}\n{line}" if note and note.strip() else line
