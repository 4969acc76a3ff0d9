"""Quarantine: orders and returns FeedAMP sent that cannot be stored as received.

One bad object (text PostgreSQL cannot hold, a number no column fits, an order without an
id) no longer fails its whole page: it is kept here with its raw text and the reason, never
confirmed, while the rest of the page is stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID: Final = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME: Final = sa.DateTime(timezone=True).with_variant(
    mysql.DATETIME(fsp=6), "mysql", "mariadb"
)
LONG_TEXT: Final = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
MYSQL_OPTIONS: Final = {"engine": "InnoDB", "charset": "utf8mb4", "collate": "utf8mb4_bin"}
TABLE_OPTIONS: Final[dict[str, Any]] = {
    "sqlite_autoincrement": True,
    **{f"{dialect}_{k}": v for dialect in ("mysql", "mariadb") for k, v in MYSQL_OPTIONS.items()},
}


def upgrade() -> None:
    op.create_table(
        "feedamp_quarantine",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("feedamp_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", LONG_TEXT, nullable=False),
        sa.Column("page_cursor", sa.String(255)),
        sa.Column("first_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("resolved_at", UTC_DATETIME),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_quarantine")),
        sa.UniqueConstraint(
            "account",
            "kind",
            "fingerprint",
            name=op.f("uq_feedamp_quarantine_account_kind_fingerprint"),
        ),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_feedamp_quarantine_account_kind_feedamp_id"),
        "feedamp_quarantine",
        ["account", "kind", "feedamp_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_feedamp_quarantine_account_kind_feedamp_id"), table_name="feedamp_quarantine"
    )
    op.drop_table("feedamp_quarantine")
