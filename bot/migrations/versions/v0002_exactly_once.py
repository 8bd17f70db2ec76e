"""Exactly-once delivery: lease epochs, send times, failed and held statuses, and seen_requests for replays."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

_NEW = "status IN ('pending', 'sent', 'skipped', 'failed', 'held')"
_OLD = "status IN ('pending', 'sent', 'skipped')"


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("lease_epoch", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("send_started_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("checks", sa.Integer, nullable=False, server_default="0"))
        batch.drop_constraint("ck_deliveries_status", type_="check")
        batch.create_check_constraint("ck_deliveries_status", _NEW)
    # A pending row the previous version had claimed or tried may have reached Slack: the new protocol
    # looks in the channel before posting only when send_started_at is set, so set it for them.
    deliveries = sa.table(
        "deliveries",
        sa.column("status", sa.String),
        sa.column("lease_owner", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("send_started_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        deliveries.update()
        .where(
            deliveries.c.status == "pending",
            sa.or_(deliveries.c.lease_owner.is_not(None), deliveries.c.attempts > 0),
        )
        .values(send_started_at=deliveries.c.created_at)
    )
    op.create_table(
        "seen_requests",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seen_requests_seen_at", "seen_requests", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_requests_seen_at", table_name="seen_requests")
    op.drop_table("seen_requests")
    # The previous version knows neither status: keep the rows (and their reason) as skipped.
    op.execute("UPDATE deliveries SET status = 'skipped' WHERE status IN ('failed', 'held')")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("ck_deliveries_status", type_="check")
        batch.create_check_constraint("ck_deliveries_status", _OLD)
        batch.drop_column("checks")
        batch.drop_column("send_started_at")
        batch.drop_column("lease_epoch")
