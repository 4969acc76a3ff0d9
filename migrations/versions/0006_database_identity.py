"""A per-database identity, created once, that generated seller numbers carry.

Refund numbers generated from a local message id repeat in every new database (a move from
SQLite to PostgreSQL, a staging copy on the same FeedAMP client): FeedAMP then refuses the
number as in use, or, worse, a refusal after an unknown outcome reads as our own earlier
success. A random identity written here when the schema is created makes every database's
numbers its own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: Final = {"engine": "InnoDB", "charset": "utf8mb4", "collate": "utf8mb4_bin"}
TABLE_OPTIONS: Final[dict[str, Any]] = {
    **{f"{dialect}_{k}": v for dialect in ("mysql", "mariadb") for k, v in MYSQL_OPTIONS.items()},
}


def new_identity() -> str:
    """Eight characters of base32 (40 random bits): short enough for a seller number."""
    return base64.b32encode(secrets.token_bytes(5)).decode()


def upgrade() -> None:
    meta = op.create_table(
        "feedamp_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feedamp_meta")),
        **TABLE_OPTIONS,
    )
    op.bulk_insert(meta, [{"key": "database_identity", "value": new_identity()}])


def downgrade() -> None:
    op.drop_table("feedamp_meta")
