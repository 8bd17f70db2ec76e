"""The follow-up service wired as `serve` wires it: ticks, buttons, admin commands, reload."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from pydantic import SecretStr
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.schedule.wiring import run_tick, start_scheduler
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from tests.helpers import SettableClock, set_clock
from tests.slack_standin import SlackStandIn

TOKYO_CHANNEL = "C0TOKYO001"
PARIS_CHANNEL = "C0PARIS001"
ADMIN = "U0ADMIN01"
# Monday 30 November 2026, 09:00 in Tokyo.
MONDAY_9_TOKYO = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)

SCHEDULE = f"""
timezone: Asia/Tokyo
digests:
  - id: tokyo-weekly
    channel: {TOKYO_CHANNEL}
    cron: "0 9 * * MON"
    lang: ja
  - id: paris-weekly
    channel: {PARIS_CHANNEL}
    cron: "0 9 * * MON"
    timezone: Europe/Paris
    lang: en
reminders:
  channel: {TOKYO_CHANNEL}
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    (folder / "schedule.yml").write_text(SCHEDULE, encoding="utf-8")
    return folder


@pytest.fixture
def started(data_dir: Path, tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[Started]:
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'g7bot.sqlite3'}")
    monkeypatch.setenv("G7BOT_ADMIN_USERS", ADMIN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    settings = load_settings()
    poster = Poster(build_post_client("xoxb-test", slack.api_url))
    yield start(settings, poster=poster, clock=SettableClock())


def slash(started: Started, text: str, *, user: str = ADMIN) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        message = await started.ask(text, user_id=user)
        await started.service.settle()
        return message

    return asyncio.run(go())


def posts_to(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.posts() if c.args.get("channel") == channel]


def blocks_text(args: dict[str, Any]) -> str:
    blocks = args.get("blocks")
    return json.dumps(json.loads(blocks) if isinstance(blocks, str) else blocks, ensure_ascii=False)


def test_a_tick_at_nine_on_monday_posts_the_tokyo_digest_once(started: Started, slack: SlackStandIn) -> None:
    with freeze_time(MONDAY_9_TOKYO, real_asyncio=True):
        clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731 - the frozen wall clock, as serve reads it
        asyncio.run(run_tick(started.service, clock))
        asyncio.run(run_tick(started.service, clock))
    tokyo = posts_to(slack, TOKYO_CHANNEL)
    assert len(tokyo) == 1
    assert "ダイジェスト" in blocks_text(tokyo[0])
    # 09:00 in Paris is eight hours later: nothing there yet.
    assert posts_to(slack, PARIS_CHANNEL) == []
    assert started.service.store.counts().get("sent") == 1


def test_the_paris_digest_follows_paris_time(started: Started, slack: SlackStandIn) -> None:
    paris_nine = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)  # 09:00 CET
    with freeze_time(paris_nine, real_asyncio=True):
        asyncio.run(run_tick(started.service, lambda: dt.datetime.now(dt.UTC)))
    paris = posts_to(slack, PARIS_CHANNEL)
    assert len(paris) == 1
    assert "digest" in blocks_text(paris[0]).lower()


def test_the_scheduler_ticks_at_once_then_on_the_clock(started: Started) -> None:
    async def first_runs() -> tuple[dt.datetime, dt.datetime]:
        scheduler = start_scheduler(started.service, lambda: MONDAY_9_TOKYO)
        try:
            job = scheduler.get_job("g7bot-tick")
            after = job.trigger.get_next_fire_time(None, MONDAY_9_TOKYO + dt.timedelta(seconds=1))
            return job.next_run_time, after
        finally:
            scheduler.shutdown(wait=False)

    first, after = asyncio.run(first_runs())
    assert first == MONDAY_9_TOKYO
    assert after == MONDAY_9_TOKYO + dt.timedelta(seconds=started.settings.tick_seconds)


def _press(started: Started, action_id: str, *, channel: str, ts: str, value: str) -> int:
    body = {
        "type": "block_actions",
        "team": {"id": "T0LOCAL"},
        "user": {"id": "U0PRESSER"},
        "api_app_id": "A0LOCAL",
        "container": {"type": "message", "channel_id": channel, "message_ts": ts},
        "actions": [{"action_id": action_id, "block_id": f"g7_followup:{value}", "value": value, "type": "button"}],
    }

    async def go() -> int:
        response = await started.app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
        await started.service.settle()
        return int(response.status)

    return asyncio.run(go())


def _post_reminder(started: Started, commitment_id: str, now: dt.datetime) -> str:
    from bot.schedule.occurrence import Occurrence

    occ = Occurrence(
        kind="reminder",
        key=f"reminder:{commitment_id}:d7",
        channel=TOKYO_CHANNEL,
        at=now,
        lang="en",
        timezone="Asia/Tokyo",
        commitment_id=commitment_id,
    )
    asyncio.run(started.service.deliverer.post_now(occ, now))
    delivery = started.service.store.deliveries()[0]
    assert delivery.message_ts
    return str(delivery.message_ts)


@pytest.mark.parametrize(
    ("action_id", "status", "snoozed_days"),
    [
        pytest.param("g7_followup_done", "done", None, id="done"),
        pytest.param("g7_followup_snooze_1d", "open", 1, id="snooze-1-day"),
        pytest.param("g7_followup_snooze_1w", "open", 7, id="snooze-1-week"),
        # Friday 2026-12-04 09:00 in Tokyo: the next business day is Monday, 09:00 (3 days on).
        pytest.param("g7_followup_snooze_nbd", "open", 3, id="snooze-next-business-day"),
    ],
)
def test_a_button_updates_the_commitment_and_the_message(
    started: Started, slack: SlackStandIn, action_id: str, status: str, snoozed_days: int | None
) -> None:
    now = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)
    ts = _post_reminder(started, "fr-presidency", now)
    reminder = posts_to(slack, TOKYO_CHANNEL)[0]
    assert "g7_followup_done" in blocks_text(reminder)

    set_clock(started, lambda: now)
    assert _press(started, action_id, channel=TOKYO_CHANNEL, ts=ts, value="fr-presidency") == 200

    state = started.service.states()["fr-presidency"]
    assert state.status == status
    assert state.updated_by == "U0PRESSER"
    if snoozed_days is not None:
        assert state.snoozed_until == now + dt.timedelta(days=snoozed_days)
    updates = slack.calls_to("chat.update")
    assert [(u.args["channel"], u.args["ts"]) for u in updates] == [(TOKYO_CHANNEL, ts)]
    updated = blocks_text(updates[0].args)
    assert "<@U0PRESSER>" in updated
    assert "g7_followup_done" not in updated  # buttons gone once resolved


def test_done_stops_the_reminders_and_shows_in_followups(started: Started, slack: SlackStandIn) -> None:
    now = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)
    ts = _post_reminder(started, "fr-presidency", now)
    set_clock(started, lambda: now)
    _press(started, "g7_followup_done", channel=TOKYO_CHANNEL, ts=ts, value="fr-presidency")
    upcoming = started.service.next_runs(now, limit=50)
    assert not [o for o in upcoming if o.commitment_id == "fr-presidency"]
    message = slash(started, "followups en")
    done_section = next(
        b for b in message["blocks"] if b["type"] == "section" and b.get("text", {}).get("text", "").startswith("*Done")
    )
    assert "France" in done_section["text"]["text"]


def test_admin_commands_are_refused_to_others(started: Started, slack: SlackStandIn) -> None:
    for text in ("admin schedule en", "admin digest-now en", "admin reload en"):
        message = slash(started, text, user="U0SOMEONE")
        assert "administrators only" in message["text"]
    assert slack.posts() == []
    help_text = json.dumps(slash(started, "help en", user="U0SOMEONE"))
    assert "admin schedule" not in help_text


def test_admin_schedule_lists_the_next_runs(started: Started) -> None:
    set_clock(started, lambda: dt.datetime(2026, 11, 29, 0, 0, tzinfo=dt.UTC))
    text = slash(started, "admin schedule en")["text"]
    assert "2026-11-30 09:00 JST" in text
    assert "2026-11-30 09:00 CET" in text
    assert "digest:tokyo-weekly" in text


@pytest.mark.parametrize(
    ("text", "channels"),
    [
        pytest.param("admin digest-now en", {TOKYO_CHANNEL, PARIS_CHANNEL}, id="every-digest-channel"),
        pytest.param(f"admin digest-now {PARIS_CHANNEL} en", {PARIS_CHANNEL}, id="one-channel"),
        pytest.param(f"admin digest-now <#{PARIS_CHANNEL}|paris> en", {PARIS_CHANNEL}, id="channel-link"),
    ],
)
def test_admin_digest_now_posts_once(started: Started, slack: SlackStandIn, text: str, channels: set[str]) -> None:
    set_clock(started, lambda: dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC))
    reply = slash(started, text)
    assert "queued" in reply["text"]
    assert {c.args["channel"] for c in slack.posts()} == channels
    assert len(slack.posts()) == len(channels)


def test_admin_digest_now_rejects_a_bad_channel(started: Started, slack: SlackStandIn) -> None:
    reply = slash(started, "admin digest-now <!channel> en")
    assert "not a channel id" in reply["text"]
    assert "<!channel>" not in json.dumps(reply)
    assert slack.posts() == []


def test_admin_reload_keeps_the_old_schedule_on_error(started: Started, data_dir: Path) -> None:
    (data_dir / "schedule.yml").write_text(SCHEDULE.replace('"0 9 * * MON"', '"every monday"', 1), encoding="utf-8")
    reply = slash(started, "admin reload en")
    assert "keeps serving the previous" in reply["text"]
    assert "digests.0.cron" in reply["text"]
    assert [d.id for d in started.service.schedule().digests] == ["tokyo-weekly", "paris-weekly"]

    # A renamed digest is a removal as well as an addition: held until confirmed, then applied.
    (data_dir / "schedule.yml").write_text(SCHEDULE.replace("tokyo-weekly", "tokyo-monday"), encoding="utf-8")
    reply = slash(started, "admin reload en")
    assert "confirm" in reply["text"]
    assert [d.id for d in started.service.schedule().digests] == ["tokyo-weekly", "paris-weekly"]
    reply = slash(started, "admin reload confirm en")
    assert "reloaded" in reply["text"]
    assert [d.id for d in started.service.schedule().digests] == ["tokyo-monday", "paris-weekly"]


def test_the_console_never_shares_the_delivery_log_of_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    production = tmp_path / "production.sqlite3"
    monkeypatch.setenv("G7BOT_DATABASE_URL", f"sqlite:///{production}")
    monkeypatch.chdir(tmp_path)
    local = start(load_settings(), local=True)
    assert local.service.store.url.endswith("g7bot-console.sqlite3")
    assert not production.exists()


def test_after_downtime_misses_are_posted_late_or_skipped_once(started: Started, slack: SlackStandIn) -> None:
    # Down from before Monday 09:00 Tokyo until 09:10: the Tokyo digest is 10 minutes late (within the
    # 30-minute grace), last Monday's, a week old, was missed for good: skipped and logged, not posted.
    with freeze_time(MONDAY_9_TOKYO + dt.timedelta(minutes=10), real_asyncio=True):
        asyncio.run(run_tick(started.service, lambda: dt.datetime.now(dt.UTC)))
        asyncio.run(run_tick(started.service, lambda: dt.datetime.now(dt.UTC)))
    assert len(posts_to(slack, TOKYO_CHANNEL)) == 1
    deliveries = {
        (d.key, d.scheduled_at): d
        for d in started.service.store.deliveries()
        if d.channel == TOKYO_CHANNEL and d.kind == "digest"
    }
    this_week = deliveries[("digest:tokyo-weekly", MONDAY_9_TOKYO)]
    assert (this_week.status, this_week.late) == ("sent", True)
    # Last Monday, 23 November, was 勤労感謝の日: that digest was moved to Tuesday 09:00 (on_holiday default).
    last_week = deliveries[("digest:tokyo-weekly", MONDAY_9_TOKYO - dt.timedelta(days=6))]
    assert last_week.status == "skipped"


def test_a_button_press_over_http_is_verified_and_handled(
    started: Started, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack POSTs button presses as a signed form with a `payload` field, to the same /slack/events."""
    from urllib.parse import urlencode

    from bot.app import build_app
    from bot.transports.http import build_bolt_request
    from tests.test_dispatch import SECRET, signed_headers

    now = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)
    ts = _post_reminder(started, "fr-presidency", now)
    set_clock(started, lambda: now)
    signed = started.runtime.settings.model_copy(update={"signing_secret": SecretStr(SECRET)})
    app = build_app(dataclasses.replace(started.runtime, settings=signed)).app
    payload = {
        "type": "block_actions",
        "team": {"id": "T0LOCAL"},
        "user": {"id": "U0PRESSER"},
        "api_app_id": "A0LOCAL",
        "container": {"type": "message", "channel_id": TOKYO_CHANNEL, "message_ts": ts},
        "actions": [
            {
                "action_id": "g7_followup_done",
                "block_id": "g7_followup:fr-presidency",
                "value": "fr-presidency",
                "type": "button",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})

    async def go(headers: dict[str, str]) -> int:
        response = await app.async_dispatch(build_bolt_request(body, headers))
        await started.service.settle()
        return int(response.status)

    forged = {**signed_headers(body), "X-Slack-Signature": "v0=" + "0" * 64}
    assert asyncio.run(go(forged)) == 401
    assert "fr-presidency" not in started.service.states()
    assert asyncio.run(go(signed_headers(body))) == 200
    assert started.service.states()["fr-presidency"].status == "done"
    assert len(slack.calls_to("chat.update")) == 1


def test_admin_schedule_shows_posts_waiting_to_be_retried(started: Started, slack: SlackStandIn) -> None:
    from tests.slack_standin import Fault

    # A refusal that may pass (Slack's own "ratelimited" answer) waits for a retry; not_in_channel would
    # end the delivery for good (tests/schedule/test_admin_problems.py).
    slack.add_fault(Fault("chat.postMessage", status=200, times=10, body={"ok": False, "error": "ratelimited"}))
    set_clock(started, lambda: dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC))
    slash(started, f"admin digest-now {PARIS_CHANNEL} en")
    assert started.service.store.counts()["pending"] == 1
    text = slash(started, "admin schedule en")["text"]
    assert "Failed posts waiting to be retried" in text
    assert "ratelimited" in text
    assert PARIS_CHANNEL in text


def test_admin_schedule_shows_a_post_refused_for_good(started: Started, slack: SlackStandIn) -> None:
    from tests.slack_standin import posts_by_channel

    slack.channel_errors[PARIS_CHANNEL] = "not_in_channel"
    set_clock(started, lambda: dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC))
    slash(started, f"admin digest-now {PARIS_CHANNEL} en")
    counts = started.service.store.counts()
    assert (counts["pending"], counts["failed"]) == (0, 1), "the digest failed; the admin's DM is its own delivery"
    assert len(posts_by_channel(slack.posts())[PARIS_CHANNEL]) == 1, "a permanent refusal is not retried"
    text = slash(started, "admin schedule en")["text"]
    assert "not_in_channel" in text
    assert PARIS_CHANNEL in text
