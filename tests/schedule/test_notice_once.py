"""Admins hear once about a channel that fails for good (issue 8, issue 9 item 8), with the bot wired as `serve`
wires it: across a restart (a new process's Store and service on the same database) and across two instances
ticking at once on one PostgreSQL database, for a refused channel and for a Slack Connect one alike."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.schedule.connect import EXTERNAL_CHANNEL
from bot.schedule.deliverer import TickReport
from bot.schedule.notices import notice_key
from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.schedule.store import Store, deliveries
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from tests.helpers import SettableClock, set_clock
from tests.postgres import postgres_url
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.timeout(120)

ADMINS = ("U0ADMIN01", "U0ADMIN02")
BROKEN = "C0BROKEN01"  # the bot was removed from it: chat.postMessage answers not_in_channel
SHARED = "C0SHARED01"  # shared with another organisation (Slack Connect), not allowed
GOOD = "C0GOOD0001"
# Monday 30 November 2026, 09:00 in Tokyo, then the same time on the following days.
MONDAY = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
EXPECTED_NOTICES = {(notice_key(BROKEN, "not_in_channel"), a) for a in ADMINS} | {
    (notice_key(SHARED, EXTERNAL_CHANNEL), a) for a in ADMINS
}

SCHEDULE = f"""
timezone: Asia/Tokyo
digests:
  - id: broken
    channel: {BROKEN}
    cron: "0 9 * * MON-FRI"
    on_holiday: post
  - id: shared
    channel: {SHARED}
    cron: "0 9 * * MON-FRI"
    on_holiday: post
  - id: good
    channel: {GOOD}
    cron: "0 9 * * MON-FRI"
    on_holiday: post
reminders:
  channel: {GOOD}
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    (folder / "schedule.yml").write_text(SCHEDULE, encoding="utf-8")
    return folder


@pytest.fixture
def broken_slack(slack: SlackStandIn) -> SlackStandIn:
    slack.channel_errors[BROKEN] = "not_in_channel"
    slack.channel_info[SHARED] = {"is_shared": True, "is_ext_shared": True}
    return slack


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_url() as url:
        yield url


@contextlib.contextmanager
def serving(
    slack: SlackStandIn, data_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Started]:
    """One process's lifetime: its settings, Store, service and poster, then its Store closed."""
    with monkeypatch.context() as env:
        env.setenv("G7BOT_DATA_DIR", str(data_dir))
        env.setenv("G7BOT_DATABASE_URL", database_url)
        env.setenv("G7BOT_ADMIN_USERS", ",".join(ADMINS))
        env.setenv("G7BOT_DEFAULT_LANG", "en")
        env.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        env.setenv("SLACK_API_URL", slack.api_url)
        settings = load_settings()
    poster = Poster(build_post_client("xoxb-test", slack.api_url, timeout=5, max_retries=2, backoff_factor=0.01))
    started = start(settings, poster=poster, clock=SettableClock())
    try:
        yield started
    finally:
        started.service.store.close()


def tick(*instances: Started, now: dt.datetime) -> list[TickReport]:
    """Each instance ticks at `now`, all at once (one event loop, as two processes would race)."""
    for started in instances:
        set_clock(started, lambda: now)

    async def all_at_once() -> list[TickReport]:
        return list(await asyncio.gather(*(s.service.tick(now) for s in instances)))

    return asyncio.run(all_at_once())


def to(slack: SlackStandIn, channel: str) -> int:
    return sum(1 for c in slack.posts() if c.args.get("channel") == channel)


def assert_told_once(slack: SlackStandIn, database_url: str) -> None:
    """Each admin has exactly one DM per channel and error; the log has one notice row each, sent."""
    for admin in ADMINS:
        texts = [str(m["text"]) for m in slack.dms(admin)]
        assert len(texts) == 2, texts
        assert sum(BROKEN in t and "not_in_channel" in t for t in texts) == 1
        assert sum(SHARED in t and "Slack Connect" in t for t in texts) == 1
    with Store(database_url) as store:
        notices = store.deliveries(kind="notice")
    assert {(n.key, n.channel) for n in notices} == EXPECTED_NOTICES
    assert len(notices) == len(EXPECTED_NOTICES) and {n.status for n in notices} == {"sent"}


def assert_each_day_ended(database_url: str, days: int) -> None:
    """Every day's digests from MONDAY on ended once each (the first start also logs, as skipped, what it missed)."""
    with Store(database_url) as store:
        rows = [d for d in store.deliveries(kind="digest") if d.scheduled_at >= MONDAY]
    broken = [d for d in rows if d.channel == BROKEN]
    shared = [d for d in rows if d.channel == SHARED]
    good = [d for d in rows if d.channel == GOOD]
    assert len(broken) == days and {d.status for d in broken} == {"failed"}
    assert len(shared) == days and {d.status for d in shared} == {"skipped"}
    assert len(good) == days and {d.status for d in good} == {"sent"}


@pytest.fixture(params=["sqlite-file", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite-file":
        yield f"sqlite:///{tmp_path / 'db' / 'g7bot.sqlite3'}"
    else:
        with postgres_url() as url:
            yield url


def test_a_restart_does_not_tell_the_admins_again(
    broken_slack: SlackStandIn, data_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data_dir.parent / "db").mkdir(exist_ok=True)
    slack = broken_slack
    with serving(slack, data_dir, database_url, monkeypatch) as first:
        tick(first, now=MONDAY)
        assert first.service.deliverer.notices_sent == len(EXPECTED_NOTICES)
    assert_told_once(slack, database_url)
    # A new process on the same database: new Store, service and deliverer, nothing remembered in memory.
    # Each working day the digests fail and are refused again; nobody is told again.
    with serving(slack, data_dir, database_url, monkeypatch) as second:
        for day in (1, 2):
            tick(second, now=MONDAY + day * DAY)
            tick(second, now=MONDAY + day * DAY + dt.timedelta(minutes=30))
        assert second.service.deliverer.notices_sent == 0
    with serving(slack, data_dir, database_url, monkeypatch) as third:
        tick(third, now=MONDAY + 3 * DAY)
    assert_told_once(slack, database_url)
    assert_each_day_ended(database_url, days=4)
    assert to(slack, BROKEN) == 4 and to(slack, SHARED) == 0 and to(slack, GOOD) == 4


def test_a_restart_with_a_dm_half_sent_finds_it_and_sends_no_second(
    broken_slack: SlackStandIn, data_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies between Slack taking a DM and the log recording it: the next finds the DM in history."""
    (data_dir.parent / "db").mkdir(exist_ok=True)
    slack = broken_slack
    with serving(slack, data_dir, database_url, monkeypatch) as first:
        tick(first, now=MONDAY)
    with Store(database_url) as store:
        [notice] = [n for n in store.deliveries(kind="notice") if n.channel == ADMINS[0] and BROKEN in n.key]
        assert notice.status == "sent"
        # As if the process had died after Slack's ok and before mark_sent: pending, its send begun, its
        # lease gone with the process.
        with store.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == notice.id)
                .values(
                    status="pending",
                    message_ts=None,
                    sent_at=None,
                    send_started_at=MONDAY,
                    next_attempt_at=MONDAY + dt.timedelta(minutes=1),
                    lease_owner="gone",
                    lease_until=MONDAY + dt.timedelta(minutes=2),
                )
            )
    with serving(slack, data_dir, database_url, monkeypatch) as second:
        tick(second, now=MONDAY + dt.timedelta(minutes=5))
        tick(second, now=MONDAY + DAY)
    # It looked in the admin's DM, found the first DM there and recorded it: still one DM each.
    assert any(c.args.get("channel") == "D" + ADMINS[0][1:] for c in slack.calls_to("conversations.history"))
    assert_told_once(slack, database_url)


@pytest.mark.postgres
def test_two_instances_on_postgresql_tell_each_admin_once_and_again_once_after_both_restart(
    broken_slack: SlackStandIn, data_dir: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = broken_slack
    with (
        serving(slack, data_dir, pg_url, monkeypatch) as a,
        serving(slack, data_dir, pg_url, monkeypatch) as b,
    ):
        assert a.service.owner != b.service.owner
        tick(a, b, now=MONDAY)
        assert a.service.deliverer.notices_sent + b.service.deliverer.notices_sent == len(EXPECTED_NOTICES)
        tick(a, b, now=MONDAY + dt.timedelta(minutes=1))
        tick(a, b, now=MONDAY + DAY)
    assert_told_once(slack, pg_url)
    # Both restart (a deploy) and race again the next day: the failures recur, the notices do not.
    with (
        serving(slack, data_dir, pg_url, monkeypatch) as a,
        serving(slack, data_dir, pg_url, monkeypatch) as b,
    ):
        tick(a, b, now=MONDAY + 2 * DAY)
        tick(a, b, now=MONDAY + 2 * DAY + dt.timedelta(minutes=30))
        assert a.service.deliverer.notices_sent + b.service.deliverer.notices_sent == 0
    assert_told_once(slack, pg_url)
    assert_each_day_ended(pg_url, days=3)
    assert to(slack, BROKEN) == 3 and to(slack, SHARED) == 0 and to(slack, GOOD) == 3
