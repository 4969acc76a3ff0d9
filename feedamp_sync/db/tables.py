"""The tables: the stable contract with the seller's systems (docs/guarantees.md, "Database").

Typed columns are for querying; the ``data`` JSON column keeps every object exactly as
FeedAMP sent it, unknown fields included. All tables carry the ``feedamp_`` prefix, and a
naming convention keeps constraint names identical on every backend.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects import mysql

from feedamp_sync.core.attempts import KIND_MAX_CHARS
from feedamp_sync.db.types import UtcDateTime, json_type, utcnow

metadata: Final = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

OUTBOX_STATUSES: Final = ("pending", "in_flight", "sent", "dead", "cancelled")

# SQLite only auto-increments an INTEGER PRIMARY KEY, so the wide ids narrow there.
Id = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(14, 4, asdecimal=False)
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


# SQLite: AUTOINCREMENT, or it hands out the largest id again once that row is deleted, and
# ids feed generated numbers (cp_order_number, cp_refund_number) that must never repeat.
# MariaDB/MySQL: InnoDB for foreign keys and row locks, and utf8mb4 whatever the database's
# default (upstream MariaDB still defaults to latin1, which cannot hold emoji or CJK product
# names). The binary collation makes text comparison and uniqueness case- and
# trailing-space-sensitive, as on PostgreSQL and SQLite. The "mariadb" dialect reads only
# mariadb_* options, hence both spellings.
_MYSQL_OPTIONS: Final = {"engine": "InnoDB", "charset": "utf8mb4", "collate": "utf8mb4_bin"}
_TABLE_OPTIONS: Final[dict[str, Any]] = {
    "sqlite_autoincrement": True,
    **{f"{dialect}_{k}": v for dialect in ("mysql", "mariadb") for k, v in _MYSQL_OPTIONS.items()},
}


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


orders: Final = Table(
    "feedamp_orders",
    metadata,
    _id(),
    Column("account", String(64), nullable=False),
    Column("feedamp_id", String(64), nullable=False),
    Column("mp_order_number", String(128)),
    Column("marketplace", String(128)),
    Column("state", String(64)),
    Column("marketplace_state", String(64)),
    Column("purchase_date", UtcDateTime()),
    Column("cp_order_number", String(128), unique=True),
    Column("confirmed_at", UtcDateTime()),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("data", json_type(), nullable=False),
    # When FeedAMP's copy was last read (a poll, a refresh or a fetch), and when the order was
    # first seen final (NULL while open): the refresh job reads open orders oldest copy first
    # along the index below, never past the final ones.
    Column("refreshed_at", UtcDateTime()),
    Column("final_at", UtcDateTime()),
    UniqueConstraint("account", "feedamp_id"),
    Index(None, "mp_order_number"),
    Index(None, "account", "final_at", "refreshed_at"),
    **_TABLE_OPTIONS,
)

order_events: Final = Table(
    "feedamp_order_events",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey(orders.c.id, ondelete="CASCADE"), nullable=False),
    Column("account", String(64), nullable=False),
    Column("feedamp_id", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("field", String(32), nullable=False),  # "state" or "marketplace_state"
    Column("from_value", String(64)),
    Column("to_value", String(64)),
    Column("source", String(16), nullable=False),  # "poll", "refresh" or "fetch"
    Index(None, "order_id", "id"),
    Index(None, "account", "at"),
    **_TABLE_OPTIONS,
)

# The event log for the seller's systems (``core/events.py`` holds the catalogue). ``id`` is
# the consumers' cursor: events are committed in id order (``db/events.py``), so a reader
# that has seen id N never sees a smaller one appear later. ``occurred_at`` dates the fact
# (retention prunes by it); ``subject`` is the FeedAMP order or return id, or the message id.
events: Final = Table(
    "feedamp_events",
    metadata,
    _id(),
    Column("type", String(32), nullable=False),
    Column("account", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("body", json_type(), nullable=False),
    Index(None, "type", "id"),
    **_TABLE_OPTIONS,
)

order_lines: Final = Table(
    "feedamp_order_lines",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey(orders.c.id, ondelete="CASCADE"), nullable=False),
    Column("mp_line_number", String(128), nullable=False),
    Column("sku", String(255)),
    Column("product_name", String(512)),
    Column("quantity", Integer),
    Column("unit_price", Money),
    Column("sales_tax", Money),
    Column("shipping_price", Money),
    Column("shipping_tax", Money),
    Column("data", json_type(), nullable=False),
    UniqueConstraint("order_id", "mp_line_number"),
    Index(None, "sku"),
    **_TABLE_OPTIONS,
)

returns: Final = Table(
    "feedamp_returns",
    metadata,
    _id(),
    Column("account", String(64), nullable=False),
    Column("feedamp_id", String(64), nullable=False),
    Column("order_feedamp_id", String(64)),
    Column("mp_return_number", String(128)),
    Column("mp_order_number", String(128)),
    Column("merchant_return_number", String(128)),
    Column("state", String(64)),
    Column("request_date", UtcDateTime()),
    Column("respond_by_date", UtcDateTime()),
    Column("state_changed_at", UtcDateTime()),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("data", json_type(), nullable=False),
    UniqueConstraint("account", "feedamp_id"),
    Index(None, "state"),
    **_TABLE_OPTIONS,
)

return_lines: Final = Table(
    "feedamp_return_lines",
    metadata,
    _id(),
    Column("return_id", Id, ForeignKey(returns.c.id, ondelete="CASCADE"), nullable=False),
    Column("mp_return_line_number", String(128), nullable=False),
    Column("feedamp_return_line_id", String(64)),
    Column("mp_order_line_number", String(128)),
    Column("sku", String(255)),
    Column("product_name", String(512)),
    Column("quantity", Integer),
    Column("reason", String(128)),
    Column("data", json_type(), nullable=False),
    UniqueConstraint("return_id", "mp_return_line_number"),
    **_TABLE_OPTIONS,
)

outbox: Final = Table(
    "feedamp_outbox",
    metadata,
    _id(),
    Column("account", String(64), nullable=False),
    Column("kind", String(KIND_MAX_CHARS), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("payload", json_type(), nullable=False),
    Column("status", String(16), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime(), nullable=False, server_default=utcnow()),
    Column("lease_owner", String(128)),
    Column("lease_expires_at", UtcDateTime()),
    Column("last_error", Text),
    Column("last_status_code", Integer),
    Column("response", json_type()),
    Column("created_at", UtcDateTime(), nullable=False, server_default=utcnow()),
    Column("sent_at", UtcDateTime()),
    # One action, one row: "confirm:<account>:<order>", "refund:<account>:<cp_refund_number>".
    Column("unique_key", String(255), unique=True),
    Column("note", Text),
    # Where the current attempt budget began: an operator's retry sets it to ``attempts``,
    # which itself never goes back (it is the claim's fencing token).
    Column("attempts_budget_start", Integer, nullable=False, server_default=text("0")),
    # The payload's number was generated here with a random part of its own ({nonce}), so
    # FeedAMP can hold it only by this message's doing (migration 0010).
    Column("own_number", Boolean, nullable=False, server_default=false()),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in OUTBOX_STATUSES) + ")", name="status"
    ),
    Index(None, "status", "next_attempt_at", "id"),
    Index(None, "status", "account", "kind", "next_attempt_at", "id"),
    Index(None, "account", "target_id", "id"),
    **_TABLE_OPTIONS,
)

outbox_attempts: Final = Table(
    "feedamp_outbox_attempts",
    metadata,
    _id(),
    Column("message_id", Id, ForeignKey(outbox.c.id, ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("finished_at", UtcDateTime(), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("request", json_type()),
    Column("response", json_type()),
    # The attempt may have changed something at FeedAMP without our learning it (a timeout,
    # a connection lost after sending, a 5xx): a later duplicate refusal may be its doing.
    Column("effect_unknown", Boolean, nullable=False, server_default=false()),
    Index(None, "message_id", "attempt"),
    **_TABLE_OPTIONS,
)

quarantine: Final = Table(
    "feedamp_quarantine",
    metadata,
    _id(),
    Column("account", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # "order" or "return"
    # FeedAMP's id as far as it could be read (shortened), for people; may be empty.
    Column("feedamp_id", String(64), nullable=False),
    # sha256 of the raw text: the same object seen again is the same row.
    Column("fingerprint", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    # The object as received, as JSON with every non-ASCII character escaped, so text no
    # column can hold (a NUL, a lone surrogate) is kept exactly, on every backend. LONGTEXT on
    # MariaDB, whose TEXT stops at 64 KiB: a large order must be held whole, not fail the pass.
    Column("raw", LongText, nullable=False),
    Column("page_cursor", String(255)),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("times_seen", Integer, nullable=False, server_default=text("1")),
    Column("resolved_at", UtcDateTime()),
    UniqueConstraint("account", "kind", "fingerprint"),
    Index(None, "account", "kind", "feedamp_id"),
    **_TABLE_OPTIONS,
)

meta: Final = Table(
    "feedamp_meta",
    metadata,
    # "database_identity": random, written when the schema is created; generated seller
    # numbers carry it, so no two databases issue the same one.
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    **_TABLE_OPTIONS,
)

sync_state: Final = Table(
    "feedamp_sync_state",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("job", String(32), primary_key=True),
    Column("checkpoint", json_type()),
    Column("last_started_at", UtcDateTime()),
    Column("last_success_at", UtcDateTime()),
    Column("last_error_at", UtcDateTime()),
    Column("last_error", Text),
    Column("updated_at", UtcDateTime(), nullable=False, server_default=utcnow()),
    **_TABLE_OPTIONS,
)
