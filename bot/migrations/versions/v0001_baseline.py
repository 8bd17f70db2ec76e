"""Baseline: the delivery log exactly as metadata.create_all made it before migrations existed."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(255)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrence", sa.JSON),
        sa.UniqueConstraint("kind", "key", "channel", "scheduled_at", name="uq_deliveries_identity"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'skipped')", name="ck_deliveries_status"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_scheduled_at", "deliveries", ["scheduled_at"])
    op.create_index("ix_deliveries_message", "deliveries", ["channel", "message_ts"])
    op.create_table(
        "commitment_states",
        sa.Column("commitment_id", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True)),
        sa.Column("updated_by", sa.String(255)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_commitment_states_status"),
    )


def downgrade() -> None:
    op.drop_table("commitment_states")
    op.drop_table("deliveries")
