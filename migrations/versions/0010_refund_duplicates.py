"""What a refund's duplicate refusal can prove: each attempt's outcome, and whose number it is.

FeedAMP v1 cannot list refunds, so a refusal of our ``cp_refund_number`` as taken is the only
sign that an earlier attempt of ours took effect. It proves that only when an earlier attempt
of this message may have applied unseen, and only when no one else can hold the number.
``attempts > 1`` said neither: an operator's ``outbox retry`` of a refund that died on a
duplicate refusal, or a retry after a 429, took someone else's refund for ours.

``feedamp_outbox_attempts.effect_unknown`` records, per attempt, whether it may have changed
something at FeedAMP without our learning the answer (a timeout or a connection lost after
sending, a 5xx). An attempt recorded before this revision is taken as unknown unless FeedAMP
answered it with a 4xx (a refusal, a 429), it never connected, or it was refused before
sending. ``feedamp_outbox.own_number`` marks a number generated here with a random part of its
own (``{nonce}``); numbers stored before this revision have none and keep their values.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KNOWN_NON_EFFECTS: Final = (
    "invalid payload:%",
    "%could not connect to FeedAMP%",
    "%no request slot before the%",
)
"""Errors of this release that reached no FeedAMP endpoint (copied: a migration never
changes): a payload refused while it was prepared, a connection never made, a rate-limit
slot never given."""


def upgrade() -> None:
    with op.batch_alter_table("feedamp_outbox_attempts") as batch:
        batch.add_column(
            sa.Column("effect_unknown", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("feedamp_outbox") as batch:
        batch.add_column(
            sa.Column("own_number", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    attempts = sa.table(
        "feedamp_outbox_attempts",
        sa.column("outcome", sa.String),
        sa.column("status_code", sa.Integer),
        sa.column("error", sa.Text),
        sa.column("effect_unknown", sa.Boolean),
    )
    op.execute(
        attempts.update()
        .where(
            attempts.c.outcome != "sent",
            sa.or_(attempts.c.status_code.is_(None), attempts.c.status_code >= 500),
            sa.or_(
                attempts.c.error.is_(None),
                sa.and_(*(attempts.c.error.not_like(known) for known in KNOWN_NON_EFFECTS)),
            ),
        )
        .values(effect_unknown=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("feedamp_outbox") as batch:
        batch.drop_column("own_number")
    with op.batch_alter_table("feedamp_outbox_attempts") as batch:
        batch.drop_column("effect_unknown")
