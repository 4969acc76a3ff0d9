"""Outbox: an index per lane (account and kind), so a fair claim reads each lane's due heads.

Claims are dealt between accounts and, inside an account, between kinds. Each lane's due
messages are read ``ORDER BY next_attempt_at, id`` for one account and kind; without this
index a lane with a few due messages behind another lane's backlog of thousands was found
by scanning the whole backlog.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_feedamp_outbox_status_account_kind_next_attempt_at_id"


def upgrade() -> None:
    op.create_index(NAME, "feedamp_outbox", ["status", "account", "kind", "next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="feedamp_outbox")
