"""Alembic revisions, oldest first: v0001 is the schema the first release created with create_all."""
