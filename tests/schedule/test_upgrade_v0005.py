"""A database the 0004 version wrote upgrades to 0005 (assignments, admin dates) without losing a row, and back."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Boolean, Integer, String, column, create_engine, insert, inspect, table, text
from sqlalchemy.exc import IntegrityError

from bot.audit import Change
from bot.audit.log import AuditLog
from bot.schedule.store import LEGACY_RELEASE_ID, Store, UtcDateTime, _alembic_config, head_revision, metadata

NOW = dt.datetime(2026, 11, 20, 0, 5, tzinfo=dt.UTC)
TOKYO = "C0TOKYO001"
NEW_COLUMNS = {"assignee", "assigned_at", "due_override", "due_confirmed"}

v4_states = table(
    "commitment_states",
    column("release_id", String),
    column("commitment_id", String),
    column("status", String),
    column("snoozed_until", UtcDateTime()),
    column("updated_by", String),
    column("updated_at", UtcDateTime()),
)
v4_deliveries = table(
    "deliveries",
    column("kind", String),
    column("key", String),
    column("channel", String),
    column("scheduled_at", UtcDateTime()),
    column("status", String),
    column("late", Boolean),
    column("attempts", Integer),
    column("message_ts", String),
    column("sent_at", UtcDateTime()),
    column("created_at", UtcDateTime()),
    column("occurrence", JSON),
    column("lease_epoch", Integer),
    column("checks", Integer),
    column("release_id", String),
)
v4_audit = table(
    "audit_log",
    column("at", UtcDateTime()),
    column("actor", String),
    column("surface", String),
    column("action", String),
    column("release_id", String),
    column("commitment_id", String),
    column("before", JSON),
    column("after", JSON),
)

V4_STATES = [
    {"commitment_id": "ca-steel", "status": "done", "snoozed_until": None, "updated_by": "U0DONE"},
    {"commitment_id": "uk-ai-policy", "status": "open", "snoozed_until": NOW + dt.timedelta(days=1)}
    | {"updated_by": "U0SNOOZE"},
]
V4_SENT = {
    "kind": "reminder",
    "key": "reminder:ca-steel:d7",
    "channel": TOKYO,
    "scheduled_at": NOW - dt.timedelta(minutes=5),
    "status": "sent",
    "late": False,
    "attempts": 1,
    "message_ts": "1763596800.000100",
    "sent_at": NOW,
    "created_at": NOW,
    "occurrence": None,
    "lease_epoch": 1,
    "checks": 0,
    "release_id": LEGACY_RELEASE_ID,
}
V4_AUDIT = {
    "at": NOW,
    "actor": "U0DONE",
    "surface": "button",
    "action": "done",
    "release_id": LEGACY_RELEASE_ID,
    "commitment_id": "ca-steel",
    "before": None,
    "after": {"status": "done", "snoozed_until": None},
}


def write_v0004_database(url: str) -> None:
    """Migrate a new database to 0004 with Alembic, then write what the 0004 code writes."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "0004")
        with engine.begin() as conn:
            rows = [s | {"release_id": LEGACY_RELEASE_ID, "updated_at": NOW} for s in V4_STATES]
            conn.execute(insert(v4_states), rows)
            conn.execute(insert(v4_deliveries), [V4_SENT])
            conn.execute(insert(v4_audit), [V4_AUDIT])
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
    finally:
        engine.dispose()


def _columns(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns("commitment_states")}


def test_head_is_0005() -> None:
    assert head_revision() == "0005"


def test_a_0004_database_keeps_every_state_delivery_and_audit_entry(store_url: str) -> None:
    write_v0004_database(store_url)
    with Store(store_url) as store:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0005"
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
        states = store.states()
        assert {k: (s.status, s.snoozed_until, s.updated_by, s.updated_at) for k, s in states.items()} == {
            (LEGACY_RELEASE_ID, "ca-steel"): ("done", None, "U0DONE", NOW),
            (LEGACY_RELEASE_ID, "uk-ai-policy"): ("open", NOW + dt.timedelta(days=1), "U0SNOOZE", NOW),
        }
        # Nothing assigned, every date as in the data file.
        for s in states.values():
            assert (s.assignee, s.assigned_at, s.due_override, s.due_confirmed) == (None, None, None, None)
        (sent,) = store.deliveries()
        assert (sent.key, sent.status, sent.message_ts, sent.scheduled_at) == (
            "reminder:ca-steel:d7",
            "sent",
            "1763596800.000100",
            NOW - dt.timedelta(minutes=5),
        )
        (entry,) = list(AuditLog(store))
        assert (entry.action, entry.actor, entry.after) == ("done", "U0DONE", {"status": "done", "snoozed_until": None})
        # The new columns work on an old row, and leave what it had alone.
        change = Change(
            actor="U0TAKER",
            surface="button",
            action="assign",
            release_id=LEGACY_RELEASE_ID,
            commitment_id="uk-ai-policy",
        )
        assert store.assign("uk-ai-policy", release_id=LEGACY_RELEASE_ID, assignee="U0TAKER", now=NOW, audit=change)
        after = store.state("uk-ai-policy", release_id=LEGACY_RELEASE_ID)
        assert (after.assignee, after.snoozed_until, after.updated_by) == (
            "U0TAKER",
            NOW + dt.timedelta(days=1),
            "U0SNOOZE",
        )
    # A second start finds the schema at head and changes nothing.
    with Store(store_url) as again:
        assert again.state("uk-ai-policy", release_id=LEGACY_RELEASE_ID).assignee == "U0TAKER"


def test_downgrade_to_0004_drops_the_new_columns_and_keeps_every_row(store_url: str) -> None:
    write_v0004_database(store_url)
    with Store(store_url) as store:
        assert store.assign("ca-steel", release_id=LEGACY_RELEASE_ID, assignee="U0TAKER", now=NOW)
        day = dt.date(2026, 12, 4)
        assert store.set_due("uk-ai-policy", release_id=LEGACY_RELEASE_ID, due=day, confirmed=True, now=NOW)
        store.downgrade("0004")
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
            rows = {r.commitment_id: r.status for r in conn.execute(text("SELECT * FROM commitment_states"))}
        assert rows == {"ca-steel": "done", "uk-ai-policy": "open"}
        assert not (_columns(store) & NEW_COLUMNS)
        # SQLite copied the table: its CHECK constraint and key came with it.
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO commitment_states (release_id, commitment_id, status) VALUES ('r', 'x', 'bogus')")
            )
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO commitment_states (release_id, commitment_id, status)"
                    f" VALUES ('{LEGACY_RELEASE_ID}', 'ca-steel', 'open')"
                )
            )
        assert len(store.deliveries()) == 1 and AuditLog(store).count() == 1
        # And up again: the rows as they were, the new columns empty.
        store.upgrade()
        assert _columns(store) >= NEW_COLUMNS
        state = store.state("ca-steel", release_id=LEGACY_RELEASE_ID)
        assert (state.status, state.assignee, state.due_override) == ("done", None, None)
