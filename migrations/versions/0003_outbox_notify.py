"""Outbox: on PostgreSQL, NOTIFY ``feedamp_outbox`` whenever a message joins the queue.

The daemon LISTENs on that channel (``feedamp_sync/db/notify.py``) and runs its outbox job at
once, so a message a seller's system inserts with plain SQL is sent within a second however
long ``jobs.outbox_interval`` is; the interval stays as the fallback. Two triggers:

- a STATEMENT-level ``AFTER INSERT``: one notification per INSERT statement, so a poller's
  batch of 200 confirms costs one, not 200;
- a ROW-level ``AFTER UPDATE OF status`` for a row that becomes ``pending`` from another
  status: an operator's retry of a ``dead`` message, and claims handed back (at shutdown, or
  after their lease expired, possibly by another instance). A claim (``pending`` →
  ``in_flight``) and a result (``sent``, ``dead``) wake nobody. A retry scheduled for later
  also notifies, and the tick it wakes finds nothing due; comparing ``next_attempt_at`` with
  a clock inside the trigger would instead depend on the application's and the database's
  clocks agreeing.

The payload is empty: a listener only needs "look now", and PostgreSQL delivers identical
notifications of one transaction once. The channel name repeats the literal of
``feedamp_sync.db.notify.OUTBOX_CHANNEL`` instead of importing it: a migration must create the
same schema whatever the application's code becomes later. The integration tests listen on
the package's constant, so the two cannot drift apart unnoticed. SQLite and MariaDB have no
LISTEN/NOTIFY: there this revision does nothing and the daemon only polls.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL: Final = "feedamp_outbox"

UPGRADE: Final = (
    f"""
    CREATE FUNCTION feedamp_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', '');
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE TRIGGER feedamp_outbox_notify_insert
    AFTER INSERT ON feedamp_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION feedamp_outbox_notify()
    """,
    """
    CREATE TRIGGER feedamp_outbox_notify_pending
    AFTER UPDATE OF status ON feedamp_outbox
    FOR EACH ROW
    WHEN (NEW.status = 'pending' AND OLD.status IS DISTINCT FROM 'pending')
    EXECUTE FUNCTION feedamp_outbox_notify()
    """,
)
DOWNGRADE: Final = (
    "DROP TRIGGER feedamp_outbox_notify_pending ON feedamp_outbox",
    "DROP TRIGGER feedamp_outbox_notify_insert ON feedamp_outbox",
    "DROP FUNCTION feedamp_outbox_notify()",
)


def _execute(statements: Sequence[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _execute(UPGRADE)


def downgrade() -> None:
    _execute(DOWNGRADE)
