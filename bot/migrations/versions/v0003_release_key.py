"""Releases in the database: commitment states keyed by (release, commitment), deliveries carry their release.

A database written before this revision came from a bot with one release. Store.upgrade(release_of=...)
passes the loaded library's commitment id -> release id (config.attributes["release_of"]); an id it does
not name goes under LEGACY_RELEASE, the only release those versions shipped. Delivery keys do not change,
so a reminder posted before the upgrade is still in the log under the identity the planner looks for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from alembic import context, op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

LEGACY_RELEASE = "meti-2025-12-10-g7-idt"
# Rows per UPDATE ... IN (...): far below every driver's limit on bound parameters.
_CHUNK = 500

_states = sa.table(
    "commitment_states",
    sa.column("commitment_id", sa.String),
    sa.column("release_id", sa.String),
)
_deliveries = sa.table(
    "deliveries",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("occurrence", sa.JSON),
    sa.column("release_id", sa.String),
)


def _states_without_key() -> sa.Table:
    """commitment_states with a release_id column and no primary key: what SQLite's table copy starts from.

    Reflected, the old key would stay on commitment_id beside the new one (SQLAlchemy warns and picks one).
    """
    return sa.Table(
        "commitment_states",
        sa.MetaData(),
        sa.Column("commitment_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True)),
        sa.Column("updated_by", sa.String(255)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("release_id", sa.String(255)),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_commitment_states_status"),
    )


def _release_of() -> Mapping[str, str]:
    given = context.config.attributes.get("release_of") or {}
    return {str(k): str(v) for k, v in dict(given).items()}


def _chunks(values: list[object]) -> Iterable[list[object]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _reminder_commitment(key: str, occurrence: object) -> str | None:
    """The commitment a reminder row is about: its occurrence says, else its key (reminder:<id>:<label>)."""
    if isinstance(occurrence, dict) and isinstance(occurrence.get("commitment_id"), str):
        return str(occurrence["commitment_id"])
    parts = key.split(":")
    return parts[1] if len(parts) >= 3 and parts[0] == "reminder" and parts[1] else None


def upgrade() -> None:
    release_of = _release_of()
    conn = op.get_bind()

    with op.batch_alter_table("commitment_states") as batch:
        batch.add_column(sa.Column("release_id", sa.String(255)))
    by_release: dict[str, list[object]] = defaultdict(list)
    for commitment_id in conn.execute(sa.select(_states.c.commitment_id)).scalars():
        by_release[release_of.get(commitment_id, LEGACY_RELEASE)].append(commitment_id)
    for release_id, ids in by_release.items():
        for chunk in _chunks(ids):
            conn.execute(_states.update().where(_states.c.commitment_id.in_(chunk)).values(release_id=release_id))
    # SQLite: the table is copied with the new key; PostgreSQL: the key is dropped and made again.
    with op.batch_alter_table("commitment_states", copy_from=_states_without_key()) as batch:
        batch.alter_column("release_id", existing_type=sa.String(255), nullable=False)
        if conn.dialect.name != "sqlite":
            batch.drop_constraint("commitment_states_pkey", type_="primary")
        batch.create_primary_key("pk_commitment_states", ["release_id", "commitment_id"])

    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("release_id", sa.String(255)))
    rows = conn.execute(
        sa.select(_deliveries.c.id, _deliveries.c.key, _deliveries.c.occurrence).where(_deliveries.c.kind == "reminder")
    )
    by_release = defaultdict(list)
    for delivery_id, key, occurrence in rows:
        commitment_id = _reminder_commitment(key, occurrence)
        if commitment_id is not None:
            by_release[release_of.get(commitment_id, LEGACY_RELEASE)].append(delivery_id)
    for release_id, ids in by_release.items():
        for chunk in _chunks(ids):
            conn.execute(_deliveries.update().where(_deliveries.c.id.in_(chunk)).values(release_id=release_id))


def downgrade() -> None:
    conn = op.get_bind()
    twice = (
        conn.execute(
            sa.select(_states.c.commitment_id)
            .group_by(_states.c.commitment_id)
            .having(sa.func.count() > 1)
            .order_by(_states.c.commitment_id)
        )
        .scalars()
        .all()
    )
    if twice:
        raise RuntimeError(
            "downgrade to 0002 refused, nothing changed: 0002 keys commitment states by commitment id alone, "
            f"and these have states in more than one release: {', '.join(twice)}"
        )
    with op.batch_alter_table("commitment_states", copy_from=_states_without_key()) as batch:
        if conn.dialect.name != "sqlite":
            batch.drop_constraint("pk_commitment_states", type_="primary")
        batch.create_primary_key("commitment_states_pkey", ["commitment_id"])
        batch.drop_column("release_id")

    # 0002's Occurrence forbids unknown fields: the release leaves the stored occurrences with its column.
    rows = conn.execute(
        sa.select(_deliveries.c.id, _deliveries.c.occurrence).where(_deliveries.c.occurrence.is_not(None))
    )
    for delivery_id, occurrence in list(rows):
        if isinstance(occurrence, dict) and "release_id" in occurrence:
            stripped = {k: v for k, v in occurrence.items() if k != "release_id"}
            conn.execute(_deliveries.update().where(_deliveries.c.id == delivery_id).values(occurrence=stripped))
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("release_id")
