"""A database the 0002 version wrote (one release) upgrades to releases without losing or re-posting anything."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from alembic import command
from sqlalchemy import JSON, Boolean, Integer, String, column, create_engine, insert, select, table, text

from bot.schedule import due
from bot.schedule.deliverer import Deliverer
from bot.schedule.models import Commitment, ScheduleFile
from bot.schedule.occurrence import Occurrence, states_by_commitment
from bot.schedule.store import LEGACY_RELEASE_ID, Store, UtcDateTime, _alembic_config, head_revision
from tests.schedule.test_deliverer import make_poster
from tests.schedule.test_store import race
from tests.slack_standin import SlackStandIn

# Wednesday 18 November 2026, 09:10 in Tokyo: a business day, the week's digest and four reminders at 09:00.
NOW = dt.datetime(2026, 11, 18, 0, 10, tzinfo=dt.UTC)
NINE = dt.datetime(2026, 11, 18, 0, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)
TOKYO = "C0TOKYO001"
DIGITAL = "meti-2026-03-15-g7-digital"  # a release the library now files two of the old commitments under
RELEASE_OF = {"fr-presidency": LEGACY_RELEASE_ID, "uk-ai-policy": DIGITAL, "de-hydrogen": DIGITAL}
SNOOZED_UNTIL = NINE + dt.timedelta(minutes=5)
TTL = dt.timedelta(minutes=5)

SCHEDULE = ScheduleFile.model_validate(
    {
        "timezone": "Asia/Tokyo",
        "digests": [{"id": "tokyo-weekly", "channel": TOKYO, "cron": "0 9 * * WED"}],
        "reminders": {"channel": TOKYO},
    }
)


def commitment(cid: str, due_on: dt.date, reminders: list[int]) -> Commitment:
    return Commitment.model_validate(
        {
            "id": cid,
            "title": {"ja": cid, "en": cid},
            "detail": {"ja": cid, "en": cid},
            "source": {"kind": "meeting", "ref": "meeting"},
            "owner_desk": "desk",
            "due": due_on,
            "due_is_assumption": False,
            "reminders": reminders,
            # ca-steel is in no mapping: the migration files it under the release earlier versions shipped.
            "release_id": RELEASE_OF.get(cid, LEGACY_RELEASE_ID),
        }
    )


COMMITMENTS = [
    commitment("fr-presidency", dt.date(2026, 11, 25), [14, 7]),  # both sent before the upgrade
    commitment("ca-steel", dt.date(2026, 11, 19), [1]),  # its d1 failed once before the upgrade: pending
    commitment("uk-ai-policy", dt.date(2026, 11, 20), [9, 2]),  # d9 sent, then a user pressed Done
    commitment("de-hydrogen", dt.date(2026, 11, 20), [2]),  # snoozed past its d2, until 09:05
]

# ---- the database as the 0002 version writes it ----------------------------------------------------

# The 0002 tables as its code wrote them: UtcDateTime (naive UTC text in SQLite, timestamptz in PostgreSQL).
v2_deliveries = table(
    "deliveries",
    column("kind", String),
    column("key", String),
    column("channel", String),
    column("scheduled_at", UtcDateTime()),
    column("status", String),
    column("late", Boolean),
    column("attempts", Integer),
    column("lease_owner", String),
    column("lease_until", UtcDateTime()),
    column("next_attempt_at", UtcDateTime()),
    column("last_error", String),
    column("message_ts", String),
    column("sent_at", UtcDateTime()),
    column("created_at", UtcDateTime()),
    column("occurrence", JSON),
    column("lease_epoch", Integer),
    column("send_started_at", UtcDateTime()),
    column("checks", Integer),
)
v2_states = table(
    "commitment_states",
    column("commitment_id", String),
    column("status", String),
    column("snoozed_until", UtcDateTime()),
    column("updated_by", String),
    column("updated_at", UtcDateTime()),
)
v2_seen = table("seen_requests", column("key", String), column("seen_at", UtcDateTime()))


def v2_occurrence(kind: str, key: str, at: dt.datetime, **ids: str) -> dict[str, Any]:
    """The occurrence JSON 0002 stored: its Occurrence had no release_id (and forbade unknown fields)."""
    return {
        "kind": kind,
        "key": key,
        "channel": TOKYO,
        "at": at.isoformat(),
        "lang": "ja",
        "timezone": "Asia/Tokyo",
    } | {
        "commitment_id": ids.get("commitment_id"),
        "digest_id": ids.get("digest_id"),
    }


def v2_row(kind: str, key: str, at: dt.datetime, status: str, **extra: Any) -> dict[str, Any]:
    ids = {"digest_id": key.split(":")[1]} if kind == "digest" else {"commitment_id": key.split(":")[1]}
    row: dict[str, Any] = {
        "kind": kind,
        "key": key,
        "channel": TOKYO,
        "scheduled_at": at,
        "status": status,
        "late": False,
        "attempts": 0,
        "created_at": at,
        "occurrence": v2_occurrence(kind, key, at, **ids),
        "lease_epoch": 1,
        "checks": 0,
        "lease_owner": None,
        "lease_until": None,
        "next_attempt_at": None,
        "last_error": None,
        "message_ts": None,
        "sent_at": None,
        "send_started_at": None,
    }
    if status == "sent":
        row.update(lease_owner="old:1", message_ts=f"{at.timestamp():.6f}", sent_at=at + dt.timedelta(seconds=1))
    return row | extra


V2_ROWS = [
    v2_row("digest", "digest:tokyo-weekly", NINE - WEEK, "sent"),
    v2_row("digest", "digest:tokyo-weekly", NINE, "sent"),
    v2_row("reminder", "reminder:fr-presidency:d14", NINE - WEEK, "sent"),
    v2_row("reminder", "reminder:fr-presidency:d7", NINE, "sent"),
    v2_row("reminder", "reminder:uk-ai-policy:d9", NINE - WEEK, "sent"),
    # Slack refused it (rate limited), nothing was posted: released, to be retried at 09:01.
    v2_row(
        "reminder",
        "reminder:ca-steel:d1",
        NINE,
        "pending",
        attempts=1,
        last_error="ratelimited",
        next_attempt_at=NINE + dt.timedelta(minutes=1),
    ),
]
V2_STATES = [
    {
        "commitment_id": "uk-ai-policy",
        "status": "done",
        "updated_by": "U0DONE",
        "updated_at": NINE - dt.timedelta(days=1),
    },
    {"commitment_id": "de-hydrogen", "status": "open", "snoozed_until": SNOOZED_UNTIL, "updated_by": "U0SNOOZE"}
    | {"updated_at": NINE - dt.timedelta(days=2)},
]


def write_v0002_database(url: str) -> None:
    """Migrate a new database to 0002 with Alembic, then write what the 0002 code writes."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "0002")
        with engine.begin() as conn:
            conn.execute(insert(v2_deliveries), V2_ROWS)
            conn.execute(insert(v2_states), [{"snoozed_until": None} | s for s in V2_STATES])
            conn.execute(insert(v2_seen), [{"key": "sig:before", "seen_at": NOW - dt.timedelta(minutes=1)}])
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
    finally:
        engine.dispose()


# ---- after the upgrade ------------------------------------------------------------------------------


def deliverer_for(store: Store, slack: SlackStandIn) -> Deliverer:
    """The planner and deliverer as serve runs them, with the states looked up by each commitment's release."""

    def occurrences(start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
        states = states_by_commitment(store.states(), [(c.release_id or "", c.id) for c in COMMITMENTS])
        return due.occurrences(SCHEDULE, COMMITMENTS, states, start, end)

    return Deliverer(
        store,
        make_poster(slack),
        owner="new:1",
        occurrences=occurrences,
        plan=lambda found, now: due.plan(found, now, grace=dt.timedelta(hours=2)),
        render=lambda occ, now: {"text": occ.key, "blocks": []},
    )


def posted_keys(store: Store, slack: SlackStandIn) -> list[str]:
    keys = []
    for call in slack.posts():
        delivery = store.get(call.args["metadata"]["event_payload"]["delivery_id"])
        assert delivery is not None
        keys.append(delivery.key)
    return sorted(keys)


def test_a_0002_database_keeps_every_row_and_state_with_its_release(store_url: str) -> None:
    write_v0002_database(store_url)
    with Store(store_url, release_of=RELEASE_OF) as store:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
        rows = store.deliveries()
        assert sorted((d.key, d.scheduled_at, d.status) for d in rows) == sorted(
            (r["key"], r["scheduled_at"], r["status"]) for r in V2_ROWS
        )
        release = {d.key: d.release_id for d in rows}
        assert release == {
            "digest:tokyo-weekly": None,  # a digest spans releases
            "reminder:fr-presidency:d14": LEGACY_RELEASE_ID,
            "reminder:fr-presidency:d7": LEGACY_RELEASE_ID,
            "reminder:uk-ai-policy:d9": DIGITAL,  # as release_of says
            "reminder:ca-steel:d1": LEGACY_RELEASE_ID,  # in no mapping: the release earlier versions shipped
        }
        sent = next(d for d in rows if d.key == "reminder:fr-presidency:d7")
        assert (sent.message_ts, sent.lease_epoch) == (f"{NINE.timestamp():.6f}", 1)
        assert sent.to_occurrence().release_id == LEGACY_RELEASE_ID
        assert {k: (s.status, s.snoozed_until, s.updated_by) for k, s in store.states().items()} == {
            (DIGITAL, "uk-ai-policy"): ("done", None, "U0DONE"),
            (DIGITAL, "de-hydrogen"): ("open", SNOOZED_UNTIL, "U0SNOOZE"),
        }
        assert store.state("uk-ai-policy", release_id=DIGITAL).updated_at == NINE - dt.timedelta(days=1)
        # A request executed before the upgrade is still a replay after it.
        assert not store.first_sight("sig:before", now=NOW, ttl=TTL)
        assert store.first_sight("sig:after", now=NOW, ttl=TTL)


def test_after_the_upgrade_nothing_sent_before_is_sent_again_and_the_pending_one_once(
    store_url: str, slack: SlackStandIn
) -> None:
    write_v0002_database(store_url)
    with Store(store_url, release_of=RELEASE_OF) as store:
        deliverer = deliverer_for(store, slack)
        deliverer.clock = lambda: NOW
        # The first tick after a start looks two weeks back, as serve's does.
        asyncio.run(deliverer.tick(NOW, lookback=dt.timedelta(days=14)))
        # The failed one is retried and the snooze falls due; fr-presidency's, the digests and uk-ai-policy's
        # d9 were sent before, uk-ai-policy is done, de-hydrogen's d2 was snoozed past.
        assert posted_keys(store, slack) == ["reminder:ca-steel:d1", "reminder:de-hydrogen:snooze:20261118T0005"]
        for later in (NOW + dt.timedelta(minutes=1), NOW + dt.timedelta(hours=1)):
            deliverer.clock = lambda later=later: later
            asyncio.run(deliverer.tick(later, lookback=dt.timedelta(days=14)))
        assert len(slack.posts()) == 2
        # One row per identity: nothing sent before was planned again under a new key.
        keys = [(d.key, d.scheduled_at) for d in store.deliveries()]
        assert len(keys) == len(set(keys)) == len(V2_ROWS) + 1
        snooze = store.deliveries(key="reminder:de-hydrogen:snooze:20261118T0005")
        assert [(d.status, d.release_id) for d in snooze] == [("sent", DIGITAL)]
        assert store.counts()["sent"] == 7


def test_instances_starting_together_on_a_0002_database_migrate_it_once(store_url: str) -> None:
    write_v0002_database(store_url)
    stores = race(3, lambda _: Store(store_url, release_of=RELEASE_OF))
    try:
        for s in stores:
            assert set(s.states()) == {(DIGITAL, "uk-ai-policy"), (DIGITAL, "de-hydrogen")}
            assert len(s.deliveries()) == len(V2_ROWS)
        with stores[0].engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    finally:
        for s in stores:
            s.close()


# ---- back to 0002 -----------------------------------------------------------------------------------


def test_downgrade_to_0002_gives_the_0002_schema_and_rows_it_can_read(store_url: str) -> None:
    write_v0002_database(store_url)
    with Store(store_url, release_of=RELEASE_OF) as store:
        reminder = Occurrence(
            kind="reminder", key="reminder:ca-steel:d0", channel=TOKYO, at=NOW, commitment_id="ca-steel"
        )
        assert store.claim(
            reminder.model_copy(update={"release_id": LEGACY_RELEASE_ID}),
            now=NOW,
            owner="a",
            lease=dt.timedelta(minutes=2),
            late=False,
        )
        assert store.set_done("ca-steel", release_id=LEGACY_RELEASE_ID, by="U0NEW", now=NOW)
        store.downgrade("0002")
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
            states = {r.commitment_id: r.status for r in conn.execute(select(v2_states))}
            occurrences = [r.occurrence for r in conn.execute(select(v2_deliveries.c.occurrence))]
            columns = {c["name"] for c in _columns(conn, "deliveries")}
        assert states == {"uk-ai-policy": "done", "de-hydrogen": "open", "ca-steel": "done"}
        assert "release_id" not in columns
        # 0002's Occurrence forbids unknown fields: no stored occurrence may carry a release any more.
        assert len(occurrences) == len(V2_ROWS) + 1 and all("release_id" not in o for o in occurrences)
        # And up again: the same states, each under its release.
        store.upgrade(release_of=RELEASE_OF)
        assert set(store.states()) == {
            (DIGITAL, "uk-ai-policy"),
            (DIGITAL, "de-hydrogen"),
            (LEGACY_RELEASE_ID, "ca-steel"),
        }


def test_downgrade_is_refused_when_one_commitment_has_states_in_two_releases(store_url: str) -> None:
    with Store(store_url) as store:
        assert store.set_done("c1", release_id=LEGACY_RELEASE_ID, by="U1", now=NOW)
        assert store.set_done("c1", release_id=DIGITAL, by="U2", now=NOW)
        with pytest.raises(RuntimeError, match=r"refused, nothing changed.*: c1$"):
            store.downgrade("0002")
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
        assert len(store.states()) == 2


def _columns(conn: Any, name: str) -> list[dict[str, Any]]:
    from sqlalchemy import inspect

    return list(inspect(conn).get_columns(name))
