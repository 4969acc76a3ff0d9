"""Initial schema: every table of feedamp_sync/db/tables.py.

Generated with ``alembic revision --autogenerate`` and reviewed by hand. It is
self-contained on purpose: plain SQLAlchemy types that give exactly the DDL
``feedamp_sync.db.types`` gives today (timestamptz and JSONB on PostgreSQL, DATETIME(6)
holding naive UTC on MariaDB), so a later change to the application's types can never
rewrite an applied migration. The "UTC now" server defaults are spelled per backend: a
seller's system may insert outbox rows with plain SQL and must still get UTC times.
Ids never repeat on SQLite (AUTOINCREMENT); on MariaDB every table is InnoDB, utf8mb4 with a
binary collation (tables.py says why).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID: Final = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME: Final = sa.DateTime(timezone=True).with_variant(
    mysql.DATETIME(fsp=6), "mysql", "mariadb"
)
JSON: Final = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MONEY: Final = sa.Numeric(14, 4)
MYSQL_OPTIONS: Final = {"engine": "InnoDB", "charset": "utf8mb4", "collate": "utf8mb4_bin"}
TABLE_OPTIONS: Final[dict[str, Any]] = {
    "sqlite_autoincrement": True,
    **{f"{dialect}_{k}": v for dialect in ("mysql", "mariadb") for k, v in MYSQL_OPTIONS.items()},
}
UTC_NOW_SQL: Final = {
    "postgresql": "now()",
    "sqlite": "(strftime('%Y-%m-%d %H:%M:%f', 'now'))",
    "mysql": "(UTC_TIMESTAMP(6))",
    "mariadb": "(UTC_TIMESTAMP(6))",
}


def upgrade() -> None:
    utc_now = sa.text(UTC_NOW_SQL[op.get_context().dialect.name])
    op.create_table(
        "feedamp_orders",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("feedamp_id", sa.String(64), nullable=False),
        sa.Column("mp_order_number", sa.String(128), nullable=True),
        sa.Column("marketplace", sa.String(128), nullable=True),
        sa.Column("state", sa.String(64), nullable=True),
        sa.Column("marketplace_state", sa.String(64), nullable=True),
        sa.Column("purchase_date", UTC_DATETIME, nullable=True),
        sa.Column("cp_order_number", sa.String(128), nullable=True),
        sa.Column("confirmed_at", UTC_DATETIME, nullable=True),
        sa.Column("first_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_orders")),
        sa.UniqueConstraint(
            "account", "feedamp_id", name=op.f("uq_feedamp_orders_account_feedamp_id")
        ),
        sa.UniqueConstraint("cp_order_number", name=op.f("uq_feedamp_orders_cp_order_number")),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_feedamp_orders_mp_order_number"), "feedamp_orders", ["mp_order_number"]
    )

    op.create_table(
        "feedamp_order_lines",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("mp_line_number", sa.String(128), nullable=False),
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("product_name", sa.String(512), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("unit_price", MONEY, nullable=True),
        sa.Column("sales_tax", MONEY, nullable=True),
        sa.Column("shipping_price", MONEY, nullable=True),
        sa.Column("shipping_tax", MONEY, nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["feedamp_orders.id"],
            name=op.f("fk_feedamp_order_lines_order_id_feedamp_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_order_lines")),
        sa.UniqueConstraint(
            "order_id",
            "mp_line_number",
            name=op.f("uq_feedamp_order_lines_order_id_mp_line_number"),
        ),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_feedamp_order_lines_sku"), "feedamp_order_lines", ["sku"])

    op.create_table(
        "feedamp_returns",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("feedamp_id", sa.String(64), nullable=False),
        sa.Column("order_feedamp_id", sa.String(64), nullable=True),
        sa.Column("mp_return_number", sa.String(128), nullable=True),
        sa.Column("mp_order_number", sa.String(128), nullable=True),
        sa.Column("merchant_return_number", sa.String(128), nullable=True),
        sa.Column("state", sa.String(64), nullable=True),
        sa.Column("request_date", UTC_DATETIME, nullable=True),
        sa.Column("respond_by_date", UTC_DATETIME, nullable=True),
        sa.Column("state_changed_at", UTC_DATETIME, nullable=True),
        sa.Column("first_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_returns")),
        sa.UniqueConstraint(
            "account", "feedamp_id", name=op.f("uq_feedamp_returns_account_feedamp_id")
        ),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_feedamp_returns_state"), "feedamp_returns", ["state"])

    op.create_table(
        "feedamp_return_lines",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("return_id", ID, nullable=False),
        sa.Column("mp_return_line_number", sa.String(128), nullable=False),
        sa.Column("feedamp_return_line_id", sa.String(64), nullable=True),
        sa.Column("mp_order_line_number", sa.String(128), nullable=True),
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("product_name", sa.String(512), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(128), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["feedamp_returns.id"],
            name=op.f("fk_feedamp_return_lines_return_id_feedamp_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_return_lines")),
        sa.UniqueConstraint(
            "return_id",
            "mp_return_line_number",
            name=op.f("uq_feedamp_return_lines_return_id_mp_return_line_number"),
        ),
        **TABLE_OPTIONS,
    )

    op.create_table(
        "feedamp_outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, server_default=utc_now, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("response", JSON, nullable=True),
        sa.Column("created_at", UTC_DATETIME, server_default=utc_now, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("unique_key", sa.String(255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'sent', 'dead', 'cancelled')",
            name=op.f("ck_feedamp_outbox_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_outbox")),
        sa.UniqueConstraint("unique_key", name=op.f("uq_feedamp_outbox_unique_key")),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_feedamp_outbox_status_next_attempt_at"),
        "feedamp_outbox",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_feedamp_outbox_account_target_id_id"),
        "feedamp_outbox",
        ["account", "target_id", "id"],
    )

    op.create_table(
        "feedamp_outbox_attempts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("request", JSON, nullable=True),
        sa.Column("response", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["feedamp_outbox.id"],
            name=op.f("fk_feedamp_outbox_attempts_message_id_feedamp_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_outbox_attempts")),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_feedamp_outbox_attempts_message_id_attempt"),
        "feedamp_outbox_attempts",
        ["message_id", "attempt"],
    )

    op.create_table(
        "feedamp_sync_state",
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("job", sa.String(32), nullable=False),
        sa.Column("checkpoint", JSON, nullable=True),
        sa.Column("last_started_at", UTC_DATETIME, nullable=True),
        sa.Column("last_success_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, server_default=utc_now, nullable=False),
        sa.PrimaryKeyConstraint("account", "job", name=op.f("pk_feedamp_sync_state")),
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    for table in (
        "feedamp_sync_state",
        "feedamp_outbox_attempts",
        "feedamp_outbox",
        "feedamp_return_lines",
        "feedamp_returns",
        "feedamp_order_lines",
        "feedamp_orders",
    ):
        op.drop_table(table)
