"""Alembic migrations of the delivery log; Store.upgrade() runs them to head at start."""
