"""Outbox: the due-order index ends in ``id``, so a claim reads due messages in index order.

A claim reads the due messages ``ORDER BY next_attempt_at, id`` a slice at a time. SQLite
and InnoDB keep the primary key in every secondary index, but PostgreSQL does not: with
``(status, next_attempt_at)`` only, it scanned and sorted every pending row for each claim,
so a claim cost time in proportion to the backlog.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_feedamp_outbox_status_next_attempt_at_id",
        "feedamp_outbox",
        ["status", "next_attempt_at", "id"],
    )
    op.drop_index("ix_feedamp_outbox_status_next_attempt_at", table_name="feedamp_outbox")


def downgrade() -> None:
    op.create_index(
        "ix_feedamp_outbox_status_next_attempt_at",
        "feedamp_outbox",
        ["status", "next_attempt_at"],
    )
    op.drop_index("ix_feedamp_outbox_status_next_attempt_at_id", table_name="feedamp_outbox")
