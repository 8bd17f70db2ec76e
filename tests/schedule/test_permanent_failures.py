"""Permanent failures end: the delivery fails once with its reason, and the admins are told once, by DM."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from bot.messages import msg
from bot.schedule.deliverer import PERMANENT_ERRORS, Deliverer, TickReport
from bot.schedule.notices import AdminNotices, build_notice_reply, notice_key, parse_notice_key
from bot.schedule.occurrence import Occurrence
from bot.schedule.pacing import ChannelPacer
from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.schedule.store import Store
from tests.schedule.test_deliverer import NOW, Schedule, occ, plan, render
from tests.slack_standin import Fault, SlackStandIn

ADMINS = ("U0ADMIN01", "U0ADMIN02")
TOKEN = "xoxb-test"
LEASE = dt.timedelta(seconds=20)
SETTLE = dt.timedelta(seconds=30)
BROKEN = "C0BROKEN01"


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def make_poster(slack: SlackStandIn, *, max_in_flight: int = 16) -> Poster:
    client = build_post_client(TOKEN, slack.api_url, timeout=5, max_retries=2, backoff_factor=0.01)
    return Poster(client, pacer=ChannelPacer(0.0, max_in_flight=max_in_flight))


def make(
    store: Store,
    slack: SlackStandIn,
    items: Sequence[Occurrence],
    *,
    owner: str = "a",
    admins: Sequence[str] = ADMINS,
    lang: Any = "en",
    max_in_flight: int = 16,
    **kw: Any,
) -> Deliverer:
    return Deliverer(
        store,
        make_poster(slack, max_in_flight=max_in_flight),
        owner=owner,
        occurrences=Schedule(list(items)),
        plan=plan,
        render=render,
        lease=LEASE,
        settle=SETTLE,
        notices=AdminNotices(store, admins, lang=lang),
        **kw,
    )


def tick(deliverer: Deliverer, now: dt.datetime) -> TickReport:
    deliverer.clock = lambda: now
    return asyncio.run(deliverer.tick(now))


def daily(channel: str, days: int = 3, key: str = "digest:daily") -> list[Occurrence]:
    return [occ(key, channel=channel, at=NOW + dt.timedelta(days=d)) for d in range(days)]


def dm_texts(slack: SlackStandIn, user: str) -> list[str]:
    return [str(m["text"]) for m in slack.dms(user)]


def posts_to(slack: SlackStandIn, channel: str) -> int:
    return sum(1 for c in slack.posts() if c.args.get("channel") == channel)


@pytest.fixture
def sqlite_url(tmp_path: Any) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"


# ---- each permanent error: one failed delivery, never retried, one DM per admin ------------------------


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "is_archived"])
def test_a_refused_channel_fails_once_and_each_admin_hears_once(
    store: Store, slack: SlackStandIn, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    slack.channel_errors[BROKEN] = error
    deliverer = make(store, slack, [occ("digest:daily", channel=BROKEN), occ("digest:ok", channel="C0GOOD0001")])
    with caplog.at_level(logging.WARNING, logger="bot.schedule"):
        assert tick(deliverer, NOW) == TickReport(posted=1, failed=1)
        # Before: retried every 30 minutes forever. Now nothing more is attempted, whatever the time.
        for later in (minutes(1), minutes(30), minutes(60), minutes(24 * 60)):
            assert tick(deliverer, NOW + later) == TickReport()
    assert posts_to(slack, BROKEN) == 1
    [row] = store.deliveries(channel=BROKEN)
    assert row.status == "failed" and row.last_error == f"{error}: {PERMANENT_ERRORS[error]}"
    for admin in ADMINS:
        [text] = dm_texts(slack, admin)
        assert BROKEN in text and error in text and "digest:daily" in text
    assert len(slack.calls_to("conversations.open")) == len(ADMINS)
    # The notices are in the log, sent, one per admin.
    notices = store.deliveries(kind="notice")
    assert sorted(n.channel for n in notices) == sorted(ADMINS)
    assert {n.status for n in notices} == {"sent"} and {n.key for n in notices} == {notice_key(BROKEN, error)}
    assert [r.levelno for r in caplog.records if r.levelno >= logging.WARNING] == [logging.ERROR]


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        ("not_in_channel", "/invite @g7bot"),
        ("channel_not_found", "data/schedule.yml"),
        ("is_archived", "unarchive"),
        ("missing_scope", "reinstall"),
        ("restricted_action", "Slack admin"),
        ("invalid_blocks", "a bug in g7bot"),
    ],
)
def test_the_dm_says_how_to_fix_it(store: Store, slack: SlackStandIn, error: str, fix: str) -> None:
    slack.add_fault(Fault("chat.postMessage", status=200, body={"ok": False, "error": error}))
    deliverer = make(store, slack, [occ("digest:daily", channel=BROKEN)])
    assert tick(deliverer, NOW) == TickReport(failed=1)
    for admin in ADMINS:
        [dm] = slack.dms(admin)
        assert fix in dm["text"] and error in dm["text"]
        assert dm["blocks"][0]["type"] == "header"


def test_the_notice_is_worded_in_the_admins_language(store: Store, slack: SlackStandIn) -> None:
    slack.channel_errors[BROKEN] = "not_in_channel"
    deliverer = make(store, slack, [occ("digest:daily", channel=BROKEN)], lang="ja")
    tick(deliverer, NOW)
    for admin in ADMINS:
        [text] = dm_texts(slack, admin)
        assert msg("notice.title", "ja") in text and "/invite @g7bot" in text


def test_several_failures_in_one_channel_make_one_notice(store: Store, slack: SlackStandIn) -> None:
    slack.channel_errors[BROKEN] = "not_in_channel"
    items = [occ(f"reminder:c{i}:d1", channel=BROKEN) for i in range(5)] + daily(BROKEN, days=3)
    deliverer = make(store, slack, items)
    assert tick(deliverer, NOW) == TickReport(failed=6)
    for day in (1, 2):
        assert tick(deliverer, NOW + dt.timedelta(days=day)) == TickReport(failed=1)
    assert posts_to(slack, BROKEN) == 8
    for admin in ADMINS:
        [dm] = slack.dms(admin)
        # It lists what failed by then, newest first, up to five and a count of the rest.
        assert "reminder:c0:d1" in dm["text"] or "digest:daily" in dm["text"]
    assert len(store.deliveries(kind="notice")) == len(ADMINS)


def test_one_notice_per_channel_and_error(store: Store, slack: SlackStandIn) -> None:
    slack.channel_errors.update({BROKEN: "not_in_channel", "C0BROKEN02": "is_archived"})
    deliverer = make(store, slack, [*daily(BROKEN, days=1), *daily("C0BROKEN02", days=1)])
    assert tick(deliverer, NOW) == TickReport(failed=2)
    for admin in ADMINS:
        texts = dm_texts(slack, admin)
        assert len(texts) == 2
        assert sum(BROKEN in t and "not_in_channel" in t for t in texts) == 1
        assert sum("C0BROKEN02" in t and "is_archived" in t for t in texts) == 1


def test_a_missing_scope_is_told_once_for_every_channel(store: Store, slack: SlackStandIn) -> None:
    # The app lacks chat:write: every channel fails alike, so the admins hear once, not once per channel.
    slack.add_fault(Fault("chat.postMessage", status=200, times=3, body={"ok": False, "error": "missing_scope"}))
    deliverer = make(store, slack, [occ("digest:daily", channel=f"C0CHAN000{i}") for i in range(3)])
    assert tick(deliverer, NOW) == TickReport(failed=3)
    for admin in ADMINS:
        [text] = dm_texts(slack, admin)
        assert "missing_scope" in text and "reinstall" in text
    assert {n.key for n in store.deliveries(kind="notice")} == {"notice:*:missing_scope"}


def test_without_admins_the_failure_is_only_logged_and_listed(store: Store, slack: SlackStandIn) -> None:
    slack.channel_errors[BROKEN] = "not_in_channel"
    deliverer = make(store, slack, [occ("digest:daily", channel=BROKEN)], admins=())
    assert tick(deliverer, NOW) == TickReport(failed=1)
    assert slack.calls_to("conversations.open") == [] and store.deliveries(kind="notice") == []
    assert [d.key for d in store.problems(limit=5)] == ["digest:daily"]


# ---- once across a restart, across two instances, and again once the channel worked -----------------


def test_a_restart_does_not_tell_the_admins_again(sqlite_url: str, slack: SlackStandIn) -> None:
    slack.channel_errors[BROKEN] = "not_in_channel"
    items = daily(BROKEN, days=3)
    with Store(sqlite_url) as store:
        assert tick(make(store, slack, items), NOW) == TickReport(failed=1)
    # A new process: a new Store and Deliverer on the same file; the next day's digest fails too.
    with Store(sqlite_url) as store:
        restarted = make(store, slack, items, owner="b")
        assert tick(restarted, NOW + dt.timedelta(days=1)) == TickReport(failed=1)
        assert tick(restarted, NOW + dt.timedelta(days=1, minutes=30)) == TickReport()
        assert len(store.deliveries(kind="notice")) == len(ADMINS)
    for admin in ADMINS:
        assert len(slack.dms(admin)) == 1


def test_a_dm_whose_answer_was_lost_is_found_after_a_restart_not_sent_again(
    sqlite_url: str, slack: SlackStandIn
) -> None:
    slack.channel_errors[BROKEN] = "not_in_channel"
    items = daily(BROKEN, days=2)

    def drop_next_dm(call: Any) -> None:
        # Armed by the first DM's own call, so it applies to the next one: Slack posts that DM, then the
        # connection drops before its answer (an unknown outcome).
        if call.method == "chat.postMessage" and str(call.args.get("channel", "")).startswith("D"):
            slack.on_call = None
            slack.add_fault(Fault("chat.postMessage", status=200, disconnect=True, posted_first=True))

    slack.on_call = drop_next_dm
    with Store(sqlite_url) as store:
        report = tick(make(store, slack, items), NOW)
        assert report.failed == 1
        unknown = [n for n in store.deliveries(kind="notice") if n.outcome_unknown]
        assert len(unknown) == 1
    with Store(sqlite_url) as store:
        restarted = make(store, slack, items, owner="b")
        # After settle, the new process looks in the DM, finds it, and records it: nothing is re-sent.
        tick(restarted, NOW + minutes(2))
        assert {n.status for n in store.deliveries(kind="notice")} == {"sent"}
    for admin in ADMINS:
        assert len(slack.dms(admin)) == 1


@pytest.mark.timeout(60)
def test_two_instances_send_one_dm_per_admin(store_url: str, slack: SlackStandIn) -> None:
    """On one database (SQLite file or PostgreSQL), two instances ticking at once both meet the failure."""
    slack.channel_errors[BROKEN] = "not_in_channel"
    items = [occ(f"reminder:c{i}:d1", channel=BROKEN) for i in range(6)]
    with Store(store_url) as one, Store(store_url) as two:
        a = make(one, slack, items, owner="a")
        b = make(two, slack, items, owner="b")
        a.clock = b.clock = lambda: NOW

        async def both(now: dt.datetime) -> list[TickReport]:
            return list(await asyncio.gather(a.tick(now), b.tick(now)))

        reports = asyncio.run(both(NOW))
        assert sum(r.failed for r in reports) == 6
        assert a.notices_sent + b.notices_sent == len(ADMINS)
        for later in (minutes(1), minutes(30), dt.timedelta(days=1)):
            a.clock = b.clock = lambda later=later: NOW + later
            assert asyncio.run(both(NOW + later)) == [TickReport(), TickReport()]
        assert len(one.deliveries(kind="notice")) == len(ADMINS)
    assert posts_to(slack, BROKEN) == 6
    for admin in ADMINS:
        assert len(slack.dms(admin)) == 1


def test_once_the_channel_works_again_a_new_failure_is_told_again(store: Store, slack: SlackStandIn) -> None:
    slack.channel_errors[BROKEN] = "not_in_channel"
    deliverer = make(store, slack, daily(BROKEN, days=3))
    assert tick(deliverer, NOW) == TickReport(failed=1)
    # The admin invites the bot: the next day's digest is posted. Later the bot is removed again.
    del slack.channel_errors[BROKEN]
    assert tick(deliverer, NOW + dt.timedelta(days=1)) == TickReport(posted=1)
    slack.channel_errors[BROKEN] = "not_in_channel"
    assert tick(deliverer, NOW + dt.timedelta(days=2)) == TickReport(failed=1)
    for admin in ADMINS:
        assert len(slack.dms(admin)) == 2


# ---- the token itself: every post would fail, so posting stops; no DM can be sent --------------------------


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth", "account_inactive"])
def test_a_refused_token_stops_posting_for_the_tick_and_resumes_once_it_works(
    store: Store, slack: SlackStandIn, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    slack.token_errors[TOKEN] = error
    items = [occ(f"digest:d{i}", channel=f"C0CHAN00{i:02d}") for i in range(8)]
    # One post at a time, so the first answer is in before any other post is attempted.
    deliverer = make(store, slack, items, max_in_flight=1, token_probe=minutes(5))
    now = NOW
    deliverer.clock = lambda: now

    async def ticks() -> None:
        # One event loop for all ticks: the pacer's one slot is an asyncio.Semaphore of that loop.
        nonlocal now
        with caplog.at_level(logging.WARNING, logger="bot.schedule"):
            assert await deliverer.tick(now) == TickReport(failed=1, paused=7)
        assert len(slack.posts()) == 1
        # No DM can be sent with this token: none is tried. One ERROR line says what happened and what to do.
        assert slack.calls_to("conversations.open") == [] and store.deliveries(kind="notice") == []
        [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert error in record.getMessage() and "reinstall" in record.getMessage()
        assert "/readyz" in record.getMessage()
        # Before the probe is due nothing is asked at all; at it, auth.test is asked, and still refused.
        now = NOW + minutes(1)
        assert await deliverer.tick(now) == TickReport()
        assert slack.calls_to("auth.test") == []
        now = NOW + minutes(6)
        assert await deliverer.tick(now) == TickReport()
        assert len(slack.calls_to("auth.test")) == 1 and len(slack.posts()) == 1
        # The app is reinstalled (Slack takes the token again): the paused posts go out; the failed one never.
        del slack.token_errors[TOKEN]
        now = NOW + minutes(12)
        assert await deliverer.tick(now) == TickReport(posted=7)
        now = NOW + minutes(60)
        assert await deliverer.tick(now) == TickReport()

    asyncio.run(ticks())
    assert len(slack.posts()) == 8
    assert store.counts()["failed"] == 1 and store.counts()["sent"] == 7


def test_a_refused_token_in_the_history_check_pauses_without_holding(store: Store, slack: SlackStandIn) -> None:
    # A lost answer, then the token is revoked: the history cannot be read, but that is no reason to hold it.
    slack.add_fault(Fault("chat.postMessage", status=200, disconnect=True, times=1))
    deliverer = make(store, slack, [occ("digest:daily", channel="C0CHAN0001")], max_checks=2)
    assert tick(deliverer, NOW) == TickReport(unknown=1)
    slack.token_errors[TOKEN] = "token_revoked"
    for later in (1, 7, 13):
        tick(deliverer, NOW + minutes(later))
    [row] = store.deliveries(kind="digest")
    assert row.status == "pending" and row.outcome_unknown
    del slack.token_errors[TOKEN]
    assert tick(deliverer, NOW + minutes(30)) == TickReport(posted=1)
    assert len(slack.posts()) == 2 and store.deliveries(kind="digest")[0].status == "sent"


# ---- transient failures keep today's behaviour -----------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 200, "body": {"ok": False, "error": "ratelimited"}},
        {"status": 429, "retry_after": 60},
        {"status": 503},
        {"status": 200, "body": {"ok": False, "error": "internal_error"}},
        {"status": 200, "body": {"ok": False, "error": "fatal_error"}},
        {"status": 200, "delay": 1.0},
    ],
    ids=["ratelimited", "429-long", "503", "internal_error", "fatal_error", "timeout"],
)
def test_a_transient_failure_is_retried_and_tells_nobody(
    store: Store, slack: SlackStandIn, fault: dict[str, Any]
) -> None:
    slack.add_fault(Fault("chat.postMessage", **fault))
    client = build_post_client(TOKEN, slack.api_url, timeout=0.3, max_retries=2, backoff_factor=0.01)
    deliverer = Deliverer(
        store,
        Poster(client, pacer=ChannelPacer(0.0)),
        owner="a",
        occurrences=Schedule([occ("digest:daily", channel="C0CHAN0001")]),
        plan=plan,
        render=render,
        lease=LEASE,
        settle=SETTLE,
        notices=AdminNotices(store, ADMINS, lang="en"),
    )
    first = tick(deliverer, NOW)
    assert first.failed + first.unknown == 1
    for later in (1, 2, 5, 10):
        tick(deliverer, NOW + minutes(later))
    [row] = store.deliveries()
    assert row.status == "sent"
    assert len({(m["channel"], m["ts"]) for m in slack.messages.values() if m["channel"] == "C0CHAN0001"}) == 1
    assert slack.calls_to("conversations.open") == []


# ---- the notice's own pieces ---------------------------------------------------------------------------------


def test_notice_keys_round_trip() -> None:
    assert parse_notice_key(notice_key("C1", "not_in_channel")) == ("C1", "not_in_channel")
    assert notice_key("C1", "missing_scope") == "notice:*:missing_scope"
    with pytest.raises(ValueError, match="not a notice key"):
        parse_notice_key("digest:C1:x")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_notice_lists_at_most_five_posts_and_counts_the_rest(store: Store, lang: Any) -> None:
    for i in range(7):
        d = store.claim(occ(f"reminder:c{i}:d1", channel=BROKEN), now=NOW, owner="a", lease=LEASE, late=False)
        assert d is not None
        store.finish(d.id, status="failed", reason="not_in_channel: invite", now=NOW, owner="a")
    failures = AdminNotices(store, ADMINS)._ended(BROKEN, "not_in_channel")
    reply = build_notice_reply(channel=BROKEN, error="not_in_channel", failures=failures, lang=lang)
    which = reply.sections[1].text
    assert which.count("• ") == 5 and msg("notice.more", lang, count=2) in which
