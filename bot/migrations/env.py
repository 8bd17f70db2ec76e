"""Alembic environment: runs on the connection Store.upgrade() passes in (no alembic.ini, no URL here)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through bot.schedule.store.Store.upgrade(), which passes a connection")
# render_as_batch: SQLite cannot ALTER a CHECK constraint, so batch operations recreate the table there.
context.configure(connection=connection, render_as_batch=True, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
