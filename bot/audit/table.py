"""The audit_log table: append-only (the database refuses UPDATE and DELETE on it, see v0004_audit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.types import TypeEngine


def define(metadata: MetaData, utc: TypeEngine[Any]) -> Table:
    """Declare audit_log on `metadata` (the delivery log's, so one schema and one migration history hold it).

    `utc` is the store's aware-UTC datetime type: given, not imported, because the store imports this module.
    """
    return Table(
        "audit_log",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", utc, nullable=False),
        # A Slack user id, "admin:<user id>" or "system".
        Column("actor", String(255), nullable=False),
        Column("surface", String(16), nullable=False),
        Column("action", String(32), nullable=False),
        Column("release_id", String(255)),
        Column("commitment_id", String(255)),
        Column("before", JSON),
        Column("after", JSON),
        Column("note", Text),
        Index("ix_audit_log_commitment", "commitment_id", "id"),
    )
