"""Outbox: a fresh attempt budget on an operator's retry, without resetting ``attempts``.

``attempts`` is the fencing token of a claim, and ``attempts > 1`` is what makes a handler
reconcile an earlier attempt that may have applied; resetting it on a retry would break both.
So ``outbox retry`` records where the new budget starts instead, and the dead-after-max rule
counts ``attempts - attempts_budget_start``. The default 0 keeps every existing row (and every
row a seller's system inserts) on its first budget.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedamp_outbox") as batch:
        batch.add_column(
            sa.Column(
                "attempts_budget_start",
                sa.Integer(),
                server_default=sa.text("0"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("feedamp_outbox") as batch:
        batch.drop_column("attempts_budget_start")
