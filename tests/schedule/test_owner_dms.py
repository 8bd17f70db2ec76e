"""notify: dm: a desk's reminders go to each of its owners by DM (the members of its user groups read with
usergroups.users.list), each DM a delivery sent exactly once, across a restart and across two instances."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.schedule.content import ACTION_DONE, ACTION_SNOOZE_NEXT_BUSINESS_DAY
from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.schedule.store import Store
from bot.settings import load_settings
from bot.startup import Started, start
from tests.helpers import SettableClock, copy_data_dir
from tests.postgres import postgres_url
from tests.slack_standin import Fault, SlackStandIn

CHANNEL = "C0TOKYO001"
RELEASE_ID = "meti-2025-12-10-g7-idt"
OWNER = "U0DM00001"
MEMBER = "U0DM00002"
GROUP = "S0GRP0001"
TOKEN = "xoxb-test"
# Friday 11 December 2026, 09:00 in Tokyo: the commitment's due date and its d0 reminder.
DUE_9 = dt.datetime(2026, 12, 11, 0, 0, tzinfo=dt.UTC)
# Monday 14 December, 09:00 in Tokyo: the first business day after it, its first overdue re-reminder.
MONDAY_9 = dt.datetime(2026, 12, 14, 0, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)

SCHEDULE = f"""
timezone: Asia/Tokyo
digests: []
reminders:
  channel: {CHANNEL}
  lang: en
  overdue_every_business_day_limit: 2
"""


def owners_yml(*, users: list[str], usergroups: list[str], notify: str = "dm") -> str:
    entry: dict[str, Any] = {"release": RELEASE_ID, "desk": "ai-digital", "notify": notify}
    if users:
        entry["users"] = users
    if usergroups:
        entry["usergroups"] = usergroups
    return yaml.safe_dump({"owners": [entry]})


def write_data(
    folder: Path, *, owners: str, due: str = "2026-12-11", remind_at: str = "09:00", extra: str = ""
) -> Path:
    """The shipped data with one confirmed follow-up of the ai-digital desk, due DUE_9, reminded on the day."""
    data = copy_data_dir(folder)
    path = data / "releases" / RELEASE_ID / "commitments.yml"
    shipped = yaml.safe_load(path.read_text(encoding="utf-8"))["commitments"][0]
    for key in ("assumption_note", "window_start", "channel"):
        shipped.pop(key, None)
    shipped.update(owner_desk="ai-digital", due=due, due_is_assumption=False, reminders=[0], remind_at=remind_at)
    path.write_text(yaml.safe_dump({"commitments": [shipped]}, allow_unicode=True), encoding="utf-8")
    (data / "schedule.yml").write_text(SCHEDULE + extra, encoding="utf-8")
    (data / "owners.yml").write_text(owners, encoding="utf-8")
    return data


def started_bot(data: Path, database: str, slack: SlackStandIn, **settings: Any) -> Started:
    values: dict[str, Any] = {
        "data_dir": data,
        "database_url": database,
        "bot_token": TOKEN,
        "api_url": slack.api_url,
        "settle_seconds": 5,
        "lease_seconds": 10,
        **settings,
    }
    poster = Poster(build_post_client(TOKEN, slack.api_url, timeout=2, max_retries=0))
    return start(load_settings(**values), poster=poster, clock=SettableClock())


def tick(*bots: Started, now: dt.datetime) -> None:
    for bot in bots:
        bot.runtime.clock.set(lambda: now)  # type: ignore[attr-defined]

    async def go() -> None:
        await asyncio.gather(*(bot.service.tick(now) for bot in bots))

    asyncio.run(go())


def channel_posts(slack: SlackStandIn) -> list[dict[str, Any]]:
    return [c.args for c in slack.posts() if c.args.get("channel") == CHANNEL]


def dm_keys(slack: SlackStandIn, user: str) -> list[str]:
    return [str((m.get("metadata") or {}).get("event_payload", {}).get("key")) for m in slack.dms(user)]


def reminder_rows(store: Store) -> list[tuple[str, str, str]]:
    return sorted((d.key, d.channel, d.status) for d in store.deliveries() if d.kind == "reminder")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_data(tmp_path / "data", owners=owners_yml(users=[OWNER], usergroups=[GROUP]))


@pytest.fixture
def workspace(slack: SlackStandIn) -> SlackStandIn:
    slack.usergroups[GROUP] = [MEMBER, OWNER]  # the owner is in the group too: still one DM
    # Both read Slack in English (users.info locale): their DMs are in English, as the reminder setting says.
    slack.locales.update({OWNER: "en-US", MEMBER: "en-US"})
    return slack


@pytest.fixture
def bot(data: Path, store_url: str, workspace: SlackStandIn) -> Iterator[Started]:
    started = started_bot(data, store_url, workspace)
    yield started
    started.service.store.close()


# --- who gets what -------------------------------------------------------------------------------


def test_each_owner_gets_the_reminder_by_dm_once_and_the_channel_nothing(bot: Started, workspace: SlackStandIn) -> None:
    tick(bot, now=DUE_9)
    tick(bot, now=DUE_9 + MINUTE)
    assert dm_keys(workspace, OWNER) == ["reminder:fr-presidency:d0"]
    assert dm_keys(workspace, MEMBER) == ["reminder:fr-presidency:d0"]
    assert channel_posts(workspace) == []
    # One delivery per user, in the log like every post.
    assert reminder_rows(bot.service.store) == [
        ("reminder:fr-presidency:d0", OWNER, "sent"),
        ("reminder:fr-presidency:d0", MEMBER, "sent"),
    ]
    assert [c.args.get("usergroup") for c in workspace.calls_to("usergroups.users.list")] == [GROUP]
    # The DM names the desk and its people, in its person's language (users.info: en-US).
    text = str(workspace.dms(OWNER)[0]["blocks"])
    assert f"<@{OWNER}> <!subteam^{GROUP}>" in text and "International Affairs Office" in text
    # Overdue on Monday: re-reminded by DM too, once each.
    tick(bot, now=MONDAY_9)
    tick(bot, now=MONDAY_9 + MINUTE)
    assert dm_keys(workspace, OWNER) == ["reminder:fr-presidency:d0", "reminder:fr-presidency:overdue:1"]
    assert dm_keys(workspace, MEMBER) == ["reminder:fr-presidency:d0", "reminder:fr-presidency:overdue:1"]
    assert channel_posts(workspace) == []


def test_done_pressed_in_a_dm_ends_the_re_reminders(bot: Started, workspace: SlackStandIn) -> None:
    tick(bot, now=DUE_9)
    dm = workspace.dms(OWNER)[0]

    async def press(user: str) -> None:
        await bot.service.press(
            action_id=ACTION_DONE,
            commitment_id="fr-presidency",
            user_id=user,
            channel=dm["channel"],
            ts=dm["ts"],
            now=DUE_9 + MINUTE,
        )

    # Another user's press with this DM's ts is not this DM's (a DM is logged under its one user).
    asyncio.run(press(MEMBER))
    assert bot.service.store.state("fr-presidency", release_id=RELEASE_ID).status == "open"
    asyncio.run(press(OWNER))
    assert bot.service.store.state("fr-presidency", release_id=RELEASE_ID).status == "done"
    updates = workspace.calls_to("chat.update")
    # The pressed DM, then the other owner's: neither keeps a Done button that no longer applies.
    other = workspace.dms(MEMBER)[0]
    expected = [(dm["channel"], dm["ts"]), (other["channel"], other["ts"])]
    assert [(c.args["channel"], c.args["ts"]) for c in updates] == expected
    assert updates[0].args["blocks"] == updates[1].args["blocks"]
    tick(bot, now=MONDAY_9)
    assert dm_keys(workspace, OWNER) == ["reminder:fr-presidency:d0"]


def test_snooze_pressed_in_a_dm_through_the_app_updates_that_dm(bot: Started, workspace: SlackStandIn) -> None:
    tick(bot, now=DUE_9)
    dm = workspace.dms(MEMBER)[0]
    body = {
        "type": "block_actions",
        "team": {"id": "T0LOCAL"},
        "user": {"id": MEMBER, "team_id": "T0LOCAL"},
        "api_app_id": "A0LOCAL",
        "container": {"type": "message", "channel_id": dm["channel"], "message_ts": dm["ts"]},
        "actions": [
            {
                "action_id": ACTION_SNOOZE_NEXT_BUSINESS_DAY,
                "block_id": "g7_followup:fr-presidency",
                "value": "fr-presidency",
                "type": "button",
            }
        ],
    }
    bot.runtime.clock.set(lambda: DUE_9 + MINUTE)  # type: ignore[attr-defined]

    async def go() -> int:
        response = await bot.app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
        await bot.service.settle()
        return response.status

    assert asyncio.run(go()) == 200
    state = bot.service.store.state("fr-presidency", release_id=RELEASE_ID)
    # Friday 09:01 in Tokyo: snoozed to Monday 09:00, the reminder channel's zone and calendar.
    assert state.snoozed_until is not None and state.snoozed_until.replace(tzinfo=dt.UTC) == MONDAY_9
    assert state.updated_by == MEMBER
    # That DM, then the other owner's, both saying who snoozed it until when.
    other = workspace.dms(OWNER)[0]
    updates = workspace.calls_to("chat.update")
    expected = [(dm["channel"], dm["ts"]), (other["channel"], other["ts"])]
    assert [(c.args["channel"], c.args["ts"]) for c in updates] == expected
    assert f"<@{MEMBER}>" in str(updates[1].args["blocks"]) and "g7_followup_done" not in str(updates[1].args)
    # Snoozed: no overdue re-reminder on Monday, the snooze's own reminder instead, to each owner.
    tick(bot, now=MONDAY_9)
    assert dm_keys(workspace, MEMBER)[1].startswith("reminder:fr-presidency:snooze:")
    assert not any(":overdue:" in k for k in dm_keys(workspace, OWNER) + dm_keys(workspace, MEMBER))


def test_each_owner_gets_the_dm_in_their_own_slack_language_under_the_same_key(
    bot: Started, workspace: SlackStandIn
) -> None:
    workspace.locales[OWNER] = "ja-JP"  # MEMBER: en-US; the reminder setting says en
    tick(bot, now=DUE_9)
    tick(bot, now=DUE_9 + MINUTE)
    (ja,) = workspace.dms(OWNER)
    (en,) = workspace.dms(MEMBER)
    assert ja["text"].startswith("リマインダー: ") and "本日が期限です。" in str(ja["blocks"])
    assert en["text"].startswith("Reminder: ") and "Due today." in str(en["blocks"])
    # The language is the rendering's: the deliveries and their keys are those of any other DM.
    assert dm_keys(workspace, OWNER) == dm_keys(workspace, MEMBER) == ["reminder:fr-presidency:d0"]
    assert reminder_rows(bot.service.store) == [
        ("reminder:fr-presidency:d0", OWNER, "sent"),
        ("reminder:fr-presidency:d0", MEMBER, "sent"),
    ]
    asked = workspace.calls_to("users.info")
    assert {c.args.get("user") for c in asked} == {OWNER, MEMBER}
    assert all(c.args.get("include_locale") in {"1", "true", True} for c in asked)
    # Done pressed in the Japanese DM: each DM is rewritten in its own person's language.
    asyncio.run(
        bot.service.press(
            action_id=ACTION_DONE,
            commitment_id="fr-presidency",
            user_id=OWNER,
            channel=ja["channel"],
            ts=ja["ts"],
            now=DUE_9 + 2 * MINUTE,
        )
    )
    updates = {c.args["channel"]: str(c.args["blocks"]) for c in workspace.calls_to("chat.update")}
    assert f"<@{OWNER}> さんが " in updates[ja["channel"]] and "に完了にしました。" in updates[ja["channel"]]
    assert f"Marked done by <@{OWNER}> on " in updates[en["channel"]]
    assert len(workspace.calls_to("users.info")) == len(asked), "each person's language is cached"


@pytest.mark.parametrize(
    "unknown",
    [
        pytest.param(lambda s: s.locales.update({OWNER: "fr-FR"}), id="a-locale-of-neither-language"),
        pytest.param(
            lambda s: s.add_fault(Fault("users.info", status=200, body={"ok": False, "error": "user_not_found"})),
            id="users-info-fails",
        ),
    ],
)
def test_a_dm_whose_persons_language_is_unknown_is_in_the_reminder_settings_lang(
    tmp_path: Path, store_url: str, workspace: SlackStandIn, unknown: Any
) -> None:
    data = write_data(tmp_path / "data", owners=owners_yml(users=[OWNER], usergroups=[]))
    (data / "schedule.yml").write_text(SCHEDULE.replace("lang: en", "lang: ja"), encoding="utf-8")
    workspace.locales[OWNER] = "en-US"
    unknown(workspace)
    bot = started_bot(data, store_url, workspace)
    try:
        tick(bot, now=DUE_9)
    finally:
        bot.service.store.close()
    (dm,) = workspace.dms(OWNER)
    assert dm["text"].startswith("リマインダー: "), "the reminder setting's lang (ja)"


def test_notify_channel_mentions_them_in_the_channel(tmp_path: Path, store_url: str, workspace: SlackStandIn) -> None:
    data = write_data(tmp_path / "data", owners=owners_yml(users=[OWNER], usergroups=[GROUP], notify="channel"))
    bot = started_bot(data, store_url, workspace)
    try:
        tick(bot, now=DUE_9)
    finally:
        bot.service.store.close()
    posts = channel_posts(workspace)
    assert len(posts) == 1 and f"<@{OWNER}> <!subteam^{GROUP}>" in str(posts[0]["blocks"])
    assert workspace.dms(OWNER) == [] and workspace.calls_to("usergroups.users.list") == []


@pytest.mark.parametrize("error", ["user_disabled", "user_not_found", "cannot_dm_bot"])
def test_an_owner_slack_refuses_a_dm_to_fails_once_and_each_admin_is_told_once(
    data: Path, store_url: str, workspace: SlackStandIn, error: str
) -> None:
    workspace.user_errors[MEMBER] = error
    bot = started_bot(data, store_url, workspace, admin_users="U0ADMIN01")
    try:
        tick(bot, now=DUE_9)
        tick(bot, now=DUE_9 + 31 * MINUTE)  # past the retry backoff: nothing retried
        rows = reminder_rows(bot.service.store)
    finally:
        bot.service.store.close()
    assert rows == [("reminder:fr-presidency:d0", OWNER, "sent"), ("reminder:fr-presidency:d0", MEMBER, "failed")]
    assert dm_keys(workspace, OWNER) == ["reminder:fr-presidency:d0"] and workspace.dms(MEMBER) == []
    # One notice, naming the user (not as a channel) and saying to check data/owners.yml.
    notices = workspace.dms("U0ADMIN01")
    assert len(notices) == 1
    text = str(notices[0]["blocks"])
    assert f"<@{MEMBER}>" in text and error in text and "owners.yml" in text and f"<#{MEMBER}>" not in text


# --- usergroups.users.list ----------------------------------------------------------------------


def test_a_user_group_slack_does_not_know_dms_the_entry_s_users_and_says_why(
    data: Path, store_url: str, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    bot = started_bot(data, store_url, slack)  # no user groups in this workspace: no_such_subteam
    try:
        with caplog.at_level(logging.WARNING):
            tick(bot, now=DUE_9)
            tick(bot, now=DUE_9 + MINUTE)
    finally:
        bot.service.store.close()
    assert dm_keys(slack, OWNER) == ["reminder:fr-presidency:d0"] and slack.dms(MEMBER) == []
    warnings = [r.getMessage() for r in caplog.records if "user group" in r.getMessage()]
    assert len(warnings) == 1 and "no_such_subteam" in warnings[0] and GROUP in warnings[0]
    # A permanent error is not asked again at every tick.
    assert len(slack.calls_to("usergroups.users.list")) == 1


def test_without_usergroups_read_a_group_only_desk_falls_back_to_the_channel(
    tmp_path: Path, store_url: str, workspace: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    workspace.scopes = frozenset({"chat:write", "im:write", "im:history", "channels:read", "groups:read"})
    data = write_data(tmp_path / "data", owners=owners_yml(users=[], usergroups=[GROUP]))
    bot = started_bot(data, store_url, workspace)
    try:
        with caplog.at_level(logging.WARNING):
            tick(bot, now=DUE_9)
    finally:
        bot.service.store.close()
    assert any("missing_scope" in r.getMessage() and "usergroups:read" in r.getMessage() for r in caplog.records)
    # Nobody known to DM: the reminder is not lost, it is posted in the channel, mentioning the group.
    posts = channel_posts(workspace)
    assert len(posts) == 1 and f"<!subteam^{GROUP}>" in str(posts[0]["blocks"])


def test_the_stand_in_answers_usergroups_users_list_as_slack_does(workspace: SlackStandIn) -> None:
    client = build_post_client(TOKEN, workspace.api_url, timeout=2, max_retries=0)
    poster = Poster(client)

    async def members(group: str) -> tuple[str, ...]:
        return await poster.usergroup_members(group)

    assert asyncio.run(members(GROUP)) == (MEMBER, OWNER)
    from bot.schedule.poster import SlackDeliveryError

    with pytest.raises(SlackDeliveryError) as caught:
        asyncio.run(members("S0NOPE001"))
    assert caught.value.error == "no_such_subteam"


# --- exactly once across a restart and two instances ------------------------------------------------


def test_a_restart_sends_no_dm_twice(data: Path, tmp_path: Path, workspace: SlackStandIn) -> None:
    url = f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
    first = started_bot(data, url, workspace)
    tick(first, now=DUE_9)
    first.service.store.close()
    # Started again five minutes later: its first tick looks back over the downtime.
    second = started_bot(data, url, workspace)
    try:
        tick(second, now=DUE_9 + 5 * MINUTE)
        tick(second, now=DUE_9 + 6 * MINUTE)
    finally:
        second.service.store.close()
    assert dm_keys(workspace, OWNER) == ["reminder:fr-presidency:d0"]
    assert dm_keys(workspace, MEMBER) == ["reminder:fr-presidency:d0"]


def test_a_dm_whose_answer_was_lost_is_found_in_the_dm_after_a_restart_not_sent_again(
    tmp_path: Path, workspace: SlackStandIn
) -> None:
    # The history search starts at the scheduled time and the stand-in stamps messages with the real
    # clock: this reminder falls due in the last minute (every day a reminder day: on_holiday post).
    due = (dt.datetime.now(dt.UTC) - MINUTE).replace(second=0, microsecond=0)
    local = due.astimezone(ZoneInfo("Asia/Tokyo"))
    data = write_data(
        tmp_path / "data",
        owners=owners_yml(users=[OWNER], usergroups=[GROUP]),
        due=local.date().isoformat(),
        remind_at=f"{local:%H:%M}",
        extra="  on_holiday: post\n",
    )
    url = f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
    # Slack posts the first DM, but its answer never comes: the instance cannot know it landed.
    workspace.add_fault(Fault("chat.postMessage", posted_first=True, disconnect=True, times=1))
    first = started_bot(data, url, workspace)
    tick(first, now=due)
    first.service.store.close()
    assert len(workspace.posts()) == 2  # both DMs were sent once
    second = started_bot(data, url, workspace)
    try:
        # After the settle delay and the lease: the unknown one is looked for in its DM's history.
        tick(second, now=due + 2 * MINUTE)
        tick(second, now=due + 3 * MINUTE)
        rows = reminder_rows(second.service.store)
    finally:
        second.service.store.close()
    assert len(workspace.posts()) == 2, "nothing sent again"
    assert [len(workspace.dms(u)) for u in (OWNER, MEMBER)] == [1, 1]
    assert [status for _, _, status in rows] == ["sent", "sent"]
    assert workspace.calls_to("conversations.history")


def test_an_overdue_re_reminder_in_the_channel_posts_once_across_a_restart(
    tmp_path: Path, workspace: SlackStandIn
) -> None:
    data = write_data(tmp_path / "data", owners=owners_yml(users=[OWNER], usergroups=[], notify="channel"))
    url = f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
    first = started_bot(data, url, workspace)
    tick(first, now=DUE_9)
    tick(first, now=MONDAY_9)
    first.service.store.close()
    second = started_bot(data, url, workspace)
    try:
        tick(second, now=MONDAY_9 + 5 * MINUTE)
        # Tuesday 15 December, 09:00 Tokyo: the second and last (limit 2); Wednesday: nothing more.
        tick(second, now=MONDAY_9 + dt.timedelta(days=1))
        tick(second, now=MONDAY_9 + dt.timedelta(days=2))
    finally:
        second.service.store.close()
    keys = [str(p["metadata"]["event_payload"]["key"]) for p in channel_posts(workspace)]
    assert keys == ["reminder:fr-presidency:d0", "reminder:fr-presidency:overdue:1", "reminder:fr-presidency:overdue:2"]
    assert all(f"<@{OWNER}>" in str(p["blocks"]) for p in channel_posts(workspace))


@pytest.mark.postgres
def test_two_instances_on_postgresql_send_each_dm_once(data: Path, workspace: SlackStandIn) -> None:
    # Slow posts: both instances' ticks overlap while the DMs are in flight.
    workspace.add_fault(Fault("chat.postMessage", status=200, delay=0.3, times=1000))
    with postgres_url() as url:
        Store(url).close()
        a, b = started_bot(data, url, workspace), started_bot(data, url, workspace)
        try:
            tick(a, b, now=DUE_9)
            tick(a, b, now=DUE_9 + MINUTE)
            tick(a, b, now=MONDAY_9)
            rows = reminder_rows(a.service.store)
        finally:
            a.service.store.close()
            b.service.store.close()
    expected = ["reminder:fr-presidency:d0", "reminder:fr-presidency:overdue:1"]
    assert dm_keys(workspace, OWNER) == expected and dm_keys(workspace, MEMBER) == expected
    assert len(rows) == 4 and {status for _, _, status in rows} == {"sent"}
