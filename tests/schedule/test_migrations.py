"""The delivery log's schema: Alembic upgrades a database written by the first release without losing a row."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.schedule.occurrence import Occurrence
from bot.schedule.store import LEGACY_RELEASE_ID, DbTimeouts, Store, head_revision, metadata
from tests.postgres import postgres_url

NOW = dt.datetime(2025, 1, 6, 0, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=2)

# The first release's schema exactly, as its metadata.create_all wrote it (CreateTable of each table).
FIRST_RELEASE_DDL = {
    "sqlite": [
        """CREATE TABLE deliveries (
            id INTEGER NOT NULL, kind VARCHAR(32) NOT NULL, "key" VARCHAR(255) NOT NULL,
            channel VARCHAR(64) NOT NULL, scheduled_at DATETIME NOT NULL, status VARCHAR(16) NOT NULL,
            late BOOLEAN NOT NULL, attempts INTEGER NOT NULL, lease_owner VARCHAR(255), lease_until DATETIME,
            next_attempt_at DATETIME, last_error TEXT, message_ts VARCHAR(32), sent_at DATETIME,
            created_at DATETIME NOT NULL, occurrence JSON, PRIMARY KEY (id),
            CONSTRAINT uq_deliveries_identity UNIQUE (kind, "key", channel, scheduled_at),
            CONSTRAINT ck_deliveries_status CHECK (status IN ('pending', 'sent', 'skipped')))""",
        "CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at)",
        "CREATE INDEX ix_deliveries_scheduled_at ON deliveries (scheduled_at)",
        "CREATE INDEX ix_deliveries_message ON deliveries (channel, message_ts)",
        """CREATE TABLE commitment_states (
            commitment_id VARCHAR(255) NOT NULL, status VARCHAR(16) NOT NULL, snoozed_until DATETIME,
            updated_by VARCHAR(255), updated_at DATETIME, PRIMARY KEY (commitment_id),
            CONSTRAINT ck_commitment_states_status CHECK (status IN ('open', 'done')))""",
    ],
    "postgresql": [
        """CREATE TABLE deliveries (
            id SERIAL NOT NULL, kind VARCHAR(32) NOT NULL, key VARCHAR(255) NOT NULL,
            channel VARCHAR(64) NOT NULL, scheduled_at TIMESTAMP WITH TIME ZONE NOT NULL,
            status VARCHAR(16) NOT NULL, late BOOLEAN NOT NULL, attempts INTEGER NOT NULL,
            lease_owner VARCHAR(255), lease_until TIMESTAMP WITH TIME ZONE,
            next_attempt_at TIMESTAMP WITH TIME ZONE, last_error TEXT, message_ts VARCHAR(32),
            sent_at TIMESTAMP WITH TIME ZONE, created_at TIMESTAMP WITH TIME ZONE NOT NULL, occurrence JSON,
            PRIMARY KEY (id), CONSTRAINT uq_deliveries_identity UNIQUE (kind, key, channel, scheduled_at),
            CONSTRAINT ck_deliveries_status CHECK (status IN ('pending', 'sent', 'skipped')))""",
        "CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at)",
        "CREATE INDEX ix_deliveries_scheduled_at ON deliveries (scheduled_at)",
        "CREATE INDEX ix_deliveries_message ON deliveries (channel, message_ts)",
        """CREATE TABLE commitment_states (
            commitment_id VARCHAR(255) NOT NULL, status VARCHAR(16) NOT NULL,
            snoozed_until TIMESTAMP WITH TIME ZONE, updated_by VARCHAR(255),
            updated_at TIMESTAMP WITH TIME ZONE, PRIMARY KEY (commitment_id),
            CONSTRAINT ck_commitment_states_status CHECK (status IN ('open', 'done')))""",
    ],
}

# Rows as the first release wrote them: sent, skipped, one pending claimed by a live instance, one failed
# once (attempts 1, lease released), and one pending nobody touched yet.
ROWS = [
    ("digest", "digest:sent", "C1", "2025-01-05 00:00:00", "sent", 0, None, "1736035200.000100"),
    ("digest", "digest:skipped", "C1", "2025-01-04 00:00:00", "skipped", 0, None, None),
    ("digest", "digest:claimed", "C2", "2025-01-05 23:59:00", "pending", 0, "old:1234", None),
    ("reminder", "reminder:c1:d7", "C3", "2025-01-05 23:00:00", "pending", 1, None, None),
]


def write_first_release_database(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for ddl in FIRST_RELEASE_DDL[engine.dialect.name]:
                conn.execute(text(ddl))
            sqlite = engine.dialect.name == "sqlite"
            for kind, key, channel, when, status, attempts, owner, ts in ROWS:
                # The first release stored naive UTC text in SQLite and timestamptz in PostgreSQL.
                aware = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
                at: object = f"{when}.000000" if sqlite else aware
                conn.execute(
                    text(
                        "INSERT INTO deliveries (kind, key, channel, scheduled_at, status, late, attempts, lease_owner,"
                        " lease_until, message_ts, last_error, created_at, occurrence)"
                        " VALUES (:kind, :key, :channel, :at, :status, false, :attempts, :owner,"
                        " :lease_until, :ts, :error, :at, NULL)"
                    ),
                    {
                        "kind": kind,
                        "key": key,
                        "channel": channel,
                        "at": at,
                        "status": status,
                        "attempts": attempts,
                        "owner": owner,
                        "lease_until": None if owner is None else at,
                        "ts": ts,
                        "error": "not_in_channel" if attempts else None,
                    },
                )
            conn.execute(
                text(
                    "INSERT INTO commitment_states (commitment_id, status, updated_by, updated_at)"
                    " VALUES ('c1', 'done', 'U1', :at)"
                ),
                {"at": "2025-01-05 12:00:00.000000" if sqlite else dt.datetime(2025, 1, 5, 12, tzinfo=dt.UTC)},
            )
    finally:
        engine.dispose()


def test_a_database_of_the_first_release_is_upgraded_without_losing_a_row(store_url: str) -> None:
    write_first_release_database(store_url)
    with Store(store_url) as store:
        rows = {d.key: d for d in store.deliveries()}
        assert sorted(rows) == sorted(r[1] for r in ROWS)
        sent = rows["digest:sent"]
        assert (sent.status, sent.message_ts, sent.channel) == ("sent", "1736035200.000100", "C1")
        assert sent.scheduled_at == dt.datetime(2025, 1, 5, tzinfo=dt.UTC)
        assert rows["digest:skipped"].status == "skipped"
        assert rows["reminder:c1:d7"].last_error == "not_in_channel"
        # The single-release bot's state and reminder are filed under the release it shipped.
        state = store.state("c1", release_id=LEGACY_RELEASE_ID)
        assert (state.status, state.updated_by, state.release_id) == ("done", "U1", LEGACY_RELEASE_ID)
        assert rows["reminder:c1:d7"].release_id == LEGACY_RELEASE_ID and rows["digest:sent"].release_id is None
        # Rows the first release claimed or tried may be in Slack: the new protocol looks before sending.
        assert rows["digest:claimed"].outcome_unknown and rows["reminder:c1:d7"].outcome_unknown
        assert not rows["digest:sent"].outcome_unknown
        assert all(d.lease_epoch == 0 and d.checks == 0 for d in rows.values())
        # The new statuses are allowed, the replay table is there.
        claimed = store.claim_retries(now=NOW + dt.timedelta(days=1), owner="new", lease=LEASE, limit=10)
        assert {d.key for d in claimed} == {"digest:claimed", "reminder:c1:d7"}
        target = next(d for d in claimed if d.key == "reminder:c1:d7")
        assert store.finish(target.id, status="failed", reason="not_in_channel", now=NOW, owner="new")
        assert store.first_sight("sig", now=NOW, ttl=dt.timedelta(minutes=5))
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
        # And the upgraded schema is the declared one: constraints and indexes survived SQLite's table copy.
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
    # A second start finds the schema at head and changes nothing.
    with Store(store_url) as again:
        assert again.counts() == {"pending": 1, "sent": 1, "skipped": 1, "failed": 1, "held": 0}


def test_the_migrations_build_exactly_the_schema_the_code_declares(store_url: str) -> None:
    with Store(store_url) as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_instances_starting_together_on_a_first_release_database_upgrade_it_once(store_url: str) -> None:
    from tests.schedule.test_store import race

    write_first_release_database(store_url)
    stores = race(3, lambda _: Store(store_url))
    try:
        assert all(s.counts()["pending"] == 2 for s in stores)
    finally:
        for s in stores:
            s.close()


# ---- database timeouts -------------------------------------------------------------------------------


def test_sqlite_waits_seconds_not_half_a_minute_for_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "g7bot.sqlite3"
    with Store(f"sqlite:///{path}") as store:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 5000
        blocker = sqlite3.connect(path, timeout=1)
        try:
            blocker.execute("BEGIN IMMEDIATE")  # a peer holding the write lock
            quick = Store(f"sqlite:///{path}", timeouts=DbTimeouts(busy=0.5))
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                quick.claim(
                    Occurrence(kind="digest", key="digest:x", channel="C1", at=NOW),
                    now=NOW,
                    owner="a",
                    lease=LEASE,
                    late=False,
                )
            assert time.monotonic() - started < 5
            quick.close()
        finally:
            blocker.rollback()
            blocker.close()


@pytest.mark.postgres
def test_a_row_locked_by_a_stalled_peer_holds_others_up_for_seconds() -> None:
    with postgres_url() as url, Store(url, timeouts=DbTimeouts(lock=1.0)) as store:
        d = store.claim(
            Occurrence(kind="digest", key="digest:x", channel="C1", at=NOW), now=NOW, owner="a", lease=LEASE, late=False
        )
        assert d is not None
        peer = create_engine(url)
        try:
            with peer.connect() as conn, conn.begin():
                # A frozen instance inside its claim transaction: the row stays locked, the session idle.
                conn.execute(text("SELECT id FROM deliveries WHERE id = :id FOR UPDATE"), {"id": d.id})
                started = time.monotonic()
                with pytest.raises(OperationalError, match="lock timeout"):
                    store.mark_sent(d.id, ts="1.000001", now=NOW, owner="a")
                assert time.monotonic() - started < 5
        finally:
            peer.dispose()
        # Once the peer is gone, the same call goes through.
        assert store.mark_sent(d.id, ts="1.000001", now=NOW, owner="a")


@pytest.mark.postgres
def test_a_peer_frozen_inside_a_transaction_is_ended_by_the_server_within_seconds() -> None:
    with postgres_url() as url:
        frozen = Store(url, timeouts=DbTimeouts(idle_in_transaction=1.0))
        other = Store(url, timeouts=DbTimeouts(lock=10.0))
        try:
            d = other.claim(
                Occurrence(kind="digest", key="digest:x", channel="C1", at=NOW),
                now=NOW,
                owner="a",
                lease=LEASE,
                late=False,
            )
            assert d is not None
            conn = frozen.engine.connect()
            conn.begin()
            conn.execute(text("SELECT id FROM deliveries WHERE id = :id FOR UPDATE"), {"id": d.id})
            # The frozen session never commits; the server ends it after 1 s idle, and its lock goes with it.
            started = time.monotonic()
            assert other.mark_sent(d.id, ts="1.000001", now=NOW, owner="a")
            assert time.monotonic() - started < 8
            # The server's FATAL "idle-in-transaction timeout" reaches the client, or the socket is already
            # closed by the time it reads (psycopg reports either, depending on which it sees first).
            with pytest.raises(DBAPIError, match=r"idle-in-transaction|connection socket closed|server closed"):
                conn.execute(text("SELECT 1"))
            conn.invalidate()
            conn.close()
        finally:
            frozen.close()
            other.close()


def test_the_revisions_read_from_the_files_are_alembics_own() -> None:
    # Start-up reads the head from the migration files (bot.migrations.revisions) instead of importing alembic.
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.migrations.revisions import known_revisions
    from bot.schedule.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert head_revision() == script.get_current_head()
    assert known_revisions() == {s.revision for s in script.walk_revisions()}


def test_a_database_at_head_is_opened_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    Store(url).close()
    code = (
        "import sys\n"
        "from bot.schedule.store import Store\n"
        f"Store({url!r}).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
