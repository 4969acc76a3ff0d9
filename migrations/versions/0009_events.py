"""The event log for the seller's systems: ``feedamp_events``, its writers' lock, and NOTIFY.

A seller's ERP learnt of a new order, a cancellation after confirm or a dead shipment only by
polling our tables. Each such fact is now also a row of ``feedamp_events``, written in the
transaction that stores the fact; ``id`` is the consumers' cursor (``events list --after``,
the webhook fan-out), ``(type, id)`` serves a cursor read filtered by type, and retention
prunes by ``occurred_at``.

A cursor must never pass an event still to be committed: with ids handed out at insert and
transactions committing in any order, a reader could see id 11 before id 10 commits and skip
it for good. The row ``events_writer`` of ``feedamp_meta`` is the writers' lock: every
transaction that writes events locks it first (``SELECT ... FOR UPDATE``, as its last work,
so the lock is held only until the commit), so events commit in id order on PostgreSQL and
MariaDB; SQLite writes one transaction at a time anyway.

On PostgreSQL a row-level ``AFTER INSERT`` trigger sends the event's id on the channel
``feedamp_events`` (the literal of ``feedamp_sync.db.events.EVENTS_CHANNEL``, repeated here
as migration 0003 repeats its own), for sellers whose systems share the database: the
consumer reads the row. SQLite and MariaDB have no NOTIFY.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID: Final = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME: Final = sa.DateTime(timezone=True).with_variant(
    mysql.DATETIME(fsp=6), "mysql", "mariadb"
)
JSON: Final = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MYSQL_OPTIONS: Final = {"engine": "InnoDB", "charset": "utf8mb4", "collate": "utf8mb4_bin"}
TABLE_OPTIONS: Final[dict[str, Any]] = {
    "sqlite_autoincrement": True,
    **{f"{dialect}_{k}": v for dialect in ("mysql", "mariadb") for k, v in MYSQL_OPTIONS.items()},
}
WRITER_LOCK_KEY: Final = "events_writer"
CHANNEL: Final = "feedamp_events"

NOTIFY_UPGRADE: Final = (
    f"""
    CREATE FUNCTION feedamp_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', NEW.id::text);
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE TRIGGER feedamp_events_notify_insert
    AFTER INSERT ON feedamp_events
    FOR EACH ROW EXECUTE FUNCTION feedamp_events_notify()
    """,
)
NOTIFY_DOWNGRADE: Final = (
    "DROP TRIGGER feedamp_events_notify_insert ON feedamp_events",
    "DROP FUNCTION feedamp_events_notify()",
)


def _on_postgresql(statements: Sequence[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "feedamp_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedamp_events")),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_feedamp_events_type_id"), "feedamp_events", ["type", "id"])
    meta = sa.table("feedamp_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(meta.insert().values(key=WRITER_LOCK_KEY, value=""))
    _on_postgresql(NOTIFY_UPGRADE)


def downgrade() -> None:
    _on_postgresql(NOTIFY_DOWNGRADE)
    meta = sa.table("feedamp_meta", sa.column("key", sa.String))
    op.execute(meta.delete().where(meta.c.key == WRITER_LOCK_KEY))
    op.drop_index(op.f("ix_feedamp_events_type_id"), table_name="feedamp_events")
    op.drop_table("feedamp_events")
