"""Assignments and admin dates: commitment_states learns who took a follow-up and the date an admin set.

`assignee` / `assigned_at`: who pressed "I'll take it", and when. `due_override`: the date an admin set with
`/g7 admin due` (NULL: the data file's). `due_confirmed`: that date is confirmed (true) or still an assumption
(false); NULL: as the data file says. Every existing row keeps what it had and gets NULLs: nothing assigned,
every date as in the file. Delivery keys do not change (see bot.schedule.due.reminder_key).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

_COLUMNS = ("assignee", "assigned_at", "due_override", "due_confirmed")


def _new_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("assignee", sa.String(255)),
        sa.Column("assigned_at", sa.DateTime(timezone=True)),
        sa.Column("due_override", sa.Date),
        sa.Column("due_confirmed", sa.Boolean),
    ]


def _states_at_0005() -> sa.Table:
    """commitment_states as this revision leaves it: what SQLite's table copy starts from on the way down.

    Reflected, SQLite would lose the CHECK constraint in the copy (SQLAlchemy does not reflect it there).
    """
    return sa.Table(
        "commitment_states",
        sa.MetaData(),
        sa.Column("commitment_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True)),
        sa.Column("updated_by", sa.String(255)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("release_id", sa.String(255), nullable=False),
        *_new_columns(),
        sa.PrimaryKeyConstraint("release_id", "commitment_id", name="pk_commitment_states"),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_commitment_states_status"),
    )


def upgrade() -> None:
    # Nullable columns only: ALTER TABLE ADD COLUMN on both databases, no table copy, no row rewritten.
    with op.batch_alter_table("commitment_states") as batch:
        for column in _new_columns():
            batch.add_column(column)


def downgrade() -> None:
    # Assignments and admin dates go with their columns (their audit entries stay): 0004 has nowhere to keep them.
    with op.batch_alter_table("commitment_states", copy_from=_states_at_0005()) as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
