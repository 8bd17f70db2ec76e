"""The Slack Connect guard: no internal follow-up is posted into a channel shared with another organisation,
unless the digest's or the reminders' own setting says `allow_external: true`. conversations.info is asked
through the stand-in, cached per channel for a TTL counted from the tick's `now`."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from bot.schedule.connect import EXTERNAL_CHANNEL, MISSING_SCOPE_HINT, SharedChannelGuard, is_external
from bot.schedule.deliverer import PERMANENT_ERRORS, Deliverer, TickReport
from bot.schedule.models import ScheduleFile
from bot.schedule.notices import AdminNotices, notice_key
from bot.schedule.occurrence import Occurrence
from bot.schedule.store import Delivery, Store
from tests.helpers import set_clock
from tests.schedule.test_deliverer import NOW, Schedule, make_poster, occ, plan, render
from tests.schedule.test_service import ADMIN, PARIS_CHANNEL, Started, data_dir, slash, started
from tests.slack_standin import Fault, SlackStandIn

__all__ = ["data_dir", "started"]  # fixtures, used by name

ADMINS = ("U0ADMIN01",)
EXT = "C0EXTERNAL1"
INTERNAL = "C0INTERNAL1"
TTL = dt.timedelta(minutes=10)
SLACK_CONNECT = {"is_shared": True, "is_ext_shared": True}


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def make(
    store: Store,
    slack: SlackStandIn,
    items: Sequence[Occurrence],
    *,
    allow: Any = lambda delivery: False,
    ttl: dt.timedelta = TTL,
) -> Deliverer:
    poster = make_poster(slack)
    return Deliverer(
        store,
        poster,
        owner="a",
        occurrences=Schedule(list(items)),
        plan=plan,
        render=render,
        notices=AdminNotices(store, ADMINS, lang="en"),
        guard=SharedChannelGuard(poster.channel_info, ttl=ttl),
        allow_external=allow,
    )


def tick(deliverer: Deliverer, now: dt.datetime) -> TickReport:
    deliverer.clock = lambda: now
    return asyncio.run(deliverer.tick(now))


def posts_to(slack: SlackStandIn, channel: str) -> int:
    return sum(1 for c in slack.posts() if c.args.get("channel") == channel)


def info_calls(slack: SlackStandIn, channel: str | None = None) -> int:
    return sum(1 for c in slack.calls_to("conversations.info") if channel is None or c.args.get("channel") == channel)


# ---- what counts as external -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "external"),
    [
        ({}, False),
        ({"is_shared": False, "is_ext_shared": False, "is_pending_ext_shared": False}, False),
        ({"is_shared": True, "is_ext_shared": True}, True),
        ({"is_ext_shared": True}, True),
        ({"is_pending_ext_shared": True}, True),
        ({"pending_connected_team_ids": ["T0OTHER"]}, True),
        ({"connected_team_ids": ["T0OTHER"]}, True),
        ({"is_shared": True}, True),
        # Shared between workspaces of one Enterprise Grid organisation: internal.
        ({"is_shared": True, "is_org_shared": True}, False),
        ({"is_shared": True, "is_org_shared": True, "is_ext_shared": True}, True),
    ],
    ids=[
        "empty",
        "plain",
        "slack-connect",
        "ext-shared-only",
        "invitation-pending",
        "pending-teams",
        "connected-teams",
        "shared-not-org",
        "org-shared",
        "org-and-ext-shared",
    ],
)
def test_is_external(info: dict[str, Any], external: bool) -> None:
    assert is_external(info) is external


# ---- refused unless allowed ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [SLACK_CONNECT, {"is_pending_ext_shared": True}, {"is_shared": True}],
    ids=["ext-shared", "pending-ext-shared", "shared"],
)
def test_an_externally_shared_channel_gets_nothing_and_the_skip_is_recorded(
    store: Store, slack: SlackStandIn, flags: dict[str, Any]
) -> None:
    slack.channel_info[EXT] = flags
    items = [occ("digest:daily", channel=EXT), occ("reminder:c1:d1", channel=EXT), occ("digest:ok", channel=INTERNAL)]
    deliverer = make(store, slack, items)
    assert tick(deliverer, NOW) == TickReport(posted=1, skipped=2)
    assert posts_to(slack, EXT) == 0 and posts_to(slack, INTERNAL) == 1
    rows = store.deliveries(channel=EXT)
    assert {r.key for r in rows} == {"digest:daily", "reminder:c1:d1"}
    for row in rows:
        assert row.status == "skipped"
        assert (row.last_error or "").split(":", 1)[0] == EXTERNAL_CHANNEL
        assert "allow_external" in (row.last_error or "")
    # Never tried again, whatever the time.
    for later in (1, 30, 24 * 60):
        assert tick(deliverer, NOW + minutes(later)) == TickReport()
    assert posts_to(slack, EXT) == 0


def test_the_admin_is_told_once_and_the_dm_lists_the_skipped_posts(store: Store, slack: SlackStandIn) -> None:
    slack.channel_info[EXT] = SLACK_CONNECT
    items = [occ("digest:daily", channel=EXT, at=NOW + dt.timedelta(days=d)) for d in range(3)]
    deliverer = make(store, slack, items)
    for day in range(3):
        assert tick(deliverer, NOW + dt.timedelta(days=day)) == TickReport(skipped=1)
    [dm] = slack.dms(ADMINS[0])
    assert EXT in dm["text"] and "digest:daily" in dm["text"] and "allow_external: true" in dm["text"]
    [notice] = store.deliveries(kind="notice")
    assert notice.key == notice_key(EXT, EXTERNAL_CHANNEL) and notice.status == "sent"


def test_allowed_posts_go_to_the_shared_channel(store: Store, slack: SlackStandIn) -> None:
    slack.channel_info[EXT] = SLACK_CONNECT
    deliverer = make(store, slack, [occ("digest:daily", channel=EXT)], allow=lambda delivery: True)
    assert tick(deliverer, NOW) == TickReport(posted=1)
    assert posts_to(slack, EXT) == 1 and slack.dms(ADMINS[0]) == []
    # An allowed post does not need to ask at all.
    assert info_calls(slack) == 0


SCHEDULE = {
    "digests": [
        {"id": "partners", "channel": EXT, "cron": "0 9 * * MON", "allow_external": True},
        {"id": "internal", "channel": EXT, "cron": "0 9 * * MON"},
    ],
    "reminders": {"channel": EXT},
}


@pytest.mark.parametrize(
    ("reminders_allowed", "posted"),
    [(False, {"digest:partners", "digest:partners:now"}), (True, {"digest:partners", "reminder:c1:d1"})],
    ids=["reminders-not-allowed", "reminders-allowed"],
)
def test_each_digest_and_the_reminders_follow_their_own_setting(
    store: Store, slack: SlackStandIn, reminders_allowed: bool, posted: set[str]
) -> None:
    # Two digests to one Slack Connect channel: allowing one must not let the other's internal list through.
    data = {**SCHEDULE, "reminders": {"channel": EXT, "allow_external": reminders_allowed}}
    schedule = ScheduleFile.model_validate(data)
    keys = ["digest:partners", "digest:internal", "reminder:c1:d1"]
    if not reminders_allowed:
        keys.append("digest:partners:now")  # /g7 admin digest-now of the allowed digest
    slack.channel_info[EXT] = SLACK_CONNECT

    def allow(delivery: Delivery) -> bool:
        return schedule.allows_external(delivery.key)

    deliverer = make(store, slack, [occ(k, channel=EXT) for k in keys], allow=allow)
    report = tick(deliverer, NOW)
    assert report.posted == len(posted) and report.skipped == len(keys) - len(posted)
    sent = {r.key for r in store.deliveries(channel=EXT) if r.status == "sent"}
    assert sent == posted


def test_a_digest_now_for_a_channel_outside_the_schedule_is_not_allowed() -> None:
    schedule = ScheduleFile.model_validate(SCHEDULE)
    assert schedule.allows_external("digest:partners")
    assert not schedule.allows_external("digest:internal")
    assert not schedule.allows_external("digest:now")
    assert not schedule.allows_external("digest:missing")
    assert not schedule.allows_external("reminder:c1:d1")


# ---- the cache -------------------------------------------------------------------------------------------


def test_one_lookup_per_channel_per_ttl(store: Store, slack: SlackStandIn) -> None:
    slack.channel_info[EXT] = SLACK_CONNECT
    items = [
        occ(f"reminder:c{i}:d1", channel=c, at=NOW + minutes(m))
        for i, c in enumerate((EXT, INTERNAL))
        for m in (0, 5, 11)
    ]
    items += [occ(f"reminder:x{i}:d1", channel=INTERNAL) for i in range(4)]
    deliverer = make(store, slack, items)
    assert deliverer.guard is not None
    # Five posts to INTERNAL and one to EXT at once: one question per channel.
    assert tick(deliverer, NOW) == TickReport(posted=5, skipped=1)
    assert info_calls(slack, EXT) == 1 and info_calls(slack, INTERNAL) == 1
    # Within the TTL the answer is the cached one.
    assert tick(deliverer, NOW + minutes(5)) == TickReport(posted=1, skipped=1)
    assert info_calls(slack) == 2 and deliverer.guard.lookups == 2
    # Past it, Slack is asked again: and the channel is no longer shared.
    del slack.channel_info[EXT]
    assert tick(deliverer, NOW + minutes(11)) == TickReport(posted=2)
    assert info_calls(slack, EXT) == 2 and info_calls(slack, INTERNAL) == 2


def test_the_guard_cache_expires_by_the_time_passed_in(slack: SlackStandIn) -> None:
    slack.channel_info[EXT] = SLACK_CONNECT
    poster = make_poster(slack)
    guard = SharedChannelGuard(poster.channel_info, ttl=TTL)

    async def run() -> list[bool]:
        return [
            await guard.external(EXT, now=NOW),
            await guard.external(EXT, now=NOW + TTL - dt.timedelta(seconds=1)),
            await guard.external(EXT, now=NOW + TTL),
        ]

    assert asyncio.run(run()) == [True, True, True]
    assert (guard.lookups, guard.hits) == (2, 1) and info_calls(slack) == 2
    guard.forget(EXT)
    assert asyncio.run(guard.external(EXT, now=NOW + TTL)) is True
    assert guard.lookups == 3


# ---- when conversations.info fails -------------------------------------------------------------------


def test_a_channel_that_is_not_found_fails_for_good_without_a_post(store: Store, slack: SlackStandIn) -> None:
    slack.add_fault(Fault("conversations.info", status=200, body={"ok": False, "error": "channel_not_found"}))
    deliverer = make(store, slack, [occ("digest:daily", channel=EXT)])
    assert tick(deliverer, NOW) == TickReport(failed=1)
    assert posts_to(slack, EXT) == 0
    [row] = store.deliveries(channel=EXT)
    assert row.status == "failed" and row.last_error == f"channel_not_found: {PERMANENT_ERRORS['channel_not_found']}"
    assert tick(deliverer, NOW + minutes(60)) == TickReport()
    [dm] = slack.dms(ADMINS[0])
    assert "channel_not_found" in dm["text"]


def test_without_channels_read_nothing_is_posted_and_the_admin_learns_the_scope(
    store: Store, slack: SlackStandIn
) -> None:
    # Fail closed: the guard cannot look, so it cannot say the channel is internal.
    slack.scopes = frozenset({"chat:write", "commands", "im:write", "channels:history"})
    deliverer = make(store, slack, [occ("digest:daily", channel=EXT), occ("digest:other", channel=INTERNAL)])
    assert tick(deliverer, NOW) == TickReport(failed=2)
    assert posts_to(slack, EXT) == 0 and posts_to(slack, INTERNAL) == 0
    rows = store.deliveries(kind="digest")
    assert {r.status for r in rows} == {"failed"}
    assert all(r.last_error == f"missing_scope: {MISSING_SCOPE_HINT}" for r in rows)
    # One notice for the whole app, not one per channel.
    [dm] = slack.dms(ADMINS[0])
    assert "missing_scope" in dm["text"]
    assert {n.key for n in store.deliveries(kind="notice")} == {"notice:*:missing_scope"}


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "retry_after": 120},
        {"status": 200, "body": {"ok": False, "error": "ratelimited"}},
        {"status": 503},
        {"status": 200, "body": {"ok": False, "error": "internal_error"}},
    ],
    ids=["429", "ratelimited", "503", "internal_error"],
)
def test_a_transient_lookup_failure_posts_nothing_now_and_asks_again_later(
    store: Store, slack: SlackStandIn, fault: dict[str, Any]
) -> None:
    slack.add_fault(Fault("conversations.info", times=3, **fault))
    deliverer = make(store, slack, [occ("digest:daily", channel=INTERNAL)])
    assert tick(deliverer, NOW) == TickReport(failed=1)
    assert slack.posts() == [] and slack.dms(ADMINS[0]) == []
    [row] = store.deliveries()
    assert row.status == "pending" and row.next_attempt_at is not None
    if fault.get("retry_after"):
        # Not before Slack's Retry-After.
        assert row.next_attempt_at >= NOW + dt.timedelta(seconds=fault["retry_after"])
    # The failure was not cached: once Slack answers, the channel is looked up and the post goes out.
    slack.faults.clear()
    for later in (3, 10, 30):
        tick(deliverer, NOW + minutes(later))
    [row] = store.deliveries()
    assert row.status == "sent" and posts_to(slack, INTERNAL) == 1
    assert slack.dms(ADMINS[0]) == []


# ---- what admins see ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_admin_schedule_lists_posts_refused_for_a_slack_connect_channel(
    started: Started, slack: SlackStandIn, lang: str
) -> None:
    # The notice says `/g7 admin schedule` lists these posts: it does, with the reason and what to do.
    slack.channel_info[PARIS_CHANNEL] = SLACK_CONNECT
    set_clock(started, lambda: NOW)
    slash(started, f"admin digest-now {PARIS_CHANNEL} en")
    assert [c for c in slack.posts() if c.args.get("channel") == PARIS_CHANNEL] == []
    [row] = [d for d in started.service.store.deliveries(channel=PARIS_CHANNEL)]
    assert row.status == "skipped"
    [dm] = slack.dms(ADMIN)
    assert "admin schedule" in dm["text"]
    text = slash(started, f"admin schedule {lang}")["text"]
    assert row.key in text and PARIS_CHANNEL in text and "allow_external: true" in text
    assert ("Slack Connect" in text) if lang == "en" else ("Slack コネクト" in text)
    # Skips for other reasons (past the grace period, coalesced) are no admin's problem: not listed.
    store = started.service.store
    other = store.claim(occ("digest:old", channel=INTERNAL), now=NOW, owner="x", lease=TTL, late=False)
    assert other is not None
    assert store.finish(other.id, status="skipped", reason="past the grace period", now=NOW, owner="x")
    assert "digest:old" not in slash(started, f"admin schedule {lang}")["text"]
