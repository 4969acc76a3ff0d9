"""Orders stay current after confirm: when each copy was read, when it became final, and an
event per change of its state.

An order was read once and then frozen, so a cancellation on the marketplace after our
confirm never reached the seller's table. The refresh job re-reads open orders, oldest copy
first: ``refreshed_at`` is when FeedAMP's copy was last read and ``final_at`` when it was
first seen fulfilled, cancelled or complete, and the index on both lets the job find the due
orders without passing over the (many) final ones. Existing rows take ``refreshed_at`` from
``last_seen_at`` and ``final_at`` from their state. ``feedamp_order_events`` keeps each
change of ``state`` and ``marketplace_state`` for the order's timeline and for "changed since".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID: Final = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME: Final = sa.DateTime(timezone=True).with_variant(
    mysql.DATETIME(fsp=6), "mysql", "mariadb"
)
MYSQL_OPTIONS: Final = {"engine": "InnoDB", "charset": "utf8mb4", "collate": "utf8mb4_bin"}
TABLE_OPTIONS: Final[dict[str, Any]] = {
    "sqlite_autoincrement": True,
    **{f"{dialect}_{k}": v for dialect in ("mysql", "mariadb") for k, v in MYSQL_OPTIONS.items()},
}
FINAL_STATES: Final = ("FULFILLED", "CANCELLED", "COMPLETE")
FINAL_MARKETPLACE_STATES: Final = ("SHIPPED", "CANCELLED")
"""As ``feedamp_sync.order_states`` says at this revision (copied: a migration never changes)."""


def upgrade() -> None:
    with op.batch_alter_table("feedamp_orders") as batch:
        batch.add_column(sa.Column("refreshed_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("final_at", UTC_DATETIME, nullable=True))
    orders = sa.table(
        "feedamp_orders",
        sa.column("state", sa.String),
        sa.column("marketplace_state", sa.String),
        sa.column("last_seen_at", UTC_DATETIME),
        sa.column("updated_at", UTC_DATETIME),
        sa.column("refreshed_at", UTC_DATETIME),
        sa.column("final_at", UTC_DATETIME),
    )
    op.execute(orders.update().values(refreshed_at=orders.c.last_seen_at))
    op.execute(
        orders.update()
        .where(
            sa.or_(
                sa.func.upper(orders.c.state).in_(FINAL_STATES),
                sa.func.upper(orders.c.marketplace_state).in_(FINAL_MARKETPLACE_STATES),
            )
        )
        .values(final_at=orders.c.updated_at)
    )
    op.create_index(
        op.f("ix_feedamp_orders_account_final_at_refreshed_at"),
        "feedamp_orders",
        ["account", "final_at", "refreshed_at"],
    )
    op.create_table(
        "feedamp_order_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("feedamp_id", sa.String(64), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("from_value", sa.String(64), nullable=True),
        sa.Column("to_value", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["feedamp_orders.id"],
            name=op.f("fk_feedamp_order_events_order_id_feedamp_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_order_events")),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_feedamp_order_events_order_id_id"), "feedamp_order_events", ["order_id", "id"]
    )
    op.create_index(
        op.f("ix_feedamp_order_events_account_at"), "feedamp_order_events", ["account", "at"]
    )


def downgrade() -> None:
    op.drop_table("feedamp_order_events")  # its indexes with it (MariaDB's foreign key needs one)
    op.drop_index(
        op.f("ix_feedamp_orders_account_final_at_refreshed_at"), table_name="feedamp_orders"
    )
    with op.batch_alter_table("feedamp_orders") as batch:
        batch.drop_column("final_at")
        batch.drop_column("refreshed_at")
