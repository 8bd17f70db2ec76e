"""A PostgreSQL database of the test's own, created and dropped, on the server G7BOT_TEST_POSTGRES_URL names."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

# Read at import: the autouse fixture in conftest clears G7BOT_* variables before each test.
# No default: a test run never uses a PostgreSQL server nobody asked it to use.
POSTGRES_URL = os.environ.get("G7BOT_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = bool(os.environ.get("G7BOT_REQUIRE_POSTGRES"))
EXAMPLE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _unavailable(reason: str) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def postgres_url() -> Iterator[str]:
    """The URL of a new database (g7bot_test_<random>) on the server, dropped afterwards with its connections."""
    if not POSTGRES_URL:
        _unavailable(f"PostgreSQL tests need G7BOT_TEST_POSTGRES_URL (e.g. {EXAMPLE}); not set")
    admin: Engine | None = None
    where = make_url(POSTGRES_URL).render_as_string(hide_password=True) if POSTGRES_URL else ""
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (ImportError, SQLAlchemyError) as exc:
        if admin is not None:
            admin.dispose()
        _unavailable(f"PostgreSQL not reachable at {where} (G7BOT_TEST_POSTGRES_URL): {exc}")
    assert admin is not None
    name = f"g7bot_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE: a killed child process's connections must not keep the database alive.
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
