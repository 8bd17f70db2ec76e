"""The bot as `serve` builds it in HTTP mode, driven in-process with signed requests, for the hardening tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.schedule.occurrence import Occurrence
from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from bot.transports.http import build_bolt_request
from tests.helpers import SettableClock, slash_payload

SECRET = "hardening-signing-secret-0123456789"
BOT_TOKEN = "xoxb-hardening-0000-secret"
TOKYO = "C0TOKYO001"
PARIS = "C0PARIS001"
ADMIN = "U0ADMIN01"
# The stand-in's auth.test answers this team: the installed workspace.
TEAM = "T0LOCAL"
NOW = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)

SCHEDULE = f"""
timezone: Asia/Tokyo
digests:
  - id: tokyo-weekly
    channel: {TOKYO}
    cron: "0 9 * * MON"
    lang: ja
  - id: paris-weekly
    channel: {PARIS}
    cron: "0 9 * * MON"
    timezone: Europe/Paris
    lang: en
reminders:
  channel: {TOKYO}
"""


def start_http_mode(
    tmp_path: Path, api_url: str, *, database: str | None = None, serving: bool = False, **settings: Any
) -> Started:
    """The app `serve` runs in HTTP mode (signing secret, bot token), on its own data folder and database."""
    data = tmp_path / "data"
    if not data.exists():
        shutil.copytree(ROOT / "data", data)
        (data / "schedule.yml").write_text(SCHEDULE, encoding="utf-8")
    values: dict[str, Any] = {
        "data_dir": data,
        "database_url": database or f"sqlite:///{tmp_path / 'g7bot.sqlite3'}",
        "admin_users": frozenset({ADMIN}),
        "bot_token": BOT_TOKEN,
        "signing_secret": SECRET,
        "api_url": api_url,
        **settings,
    }
    clock = SettableClock(lambda: NOW)
    poster = Poster(build_post_client(BOT_TOKEN, api_url))
    return start(load_settings(**values), poster=poster, clock=clock, serving=serving)


def signed_headers(body: str, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }


def slash_body(text: str, *, user_id: str = ADMIN, team_id: str = TEAM, enterprise_id: str | None = None) -> str:
    payload = slash_payload(text, user_id=user_id)
    payload["team_id"] = team_id
    if enterprise_id is not None:
        payload["enterprise_id"] = enterprise_id
    return urlencode(payload)


def press_body(
    action_id: str,
    *,
    commitment_id: str,
    channel: str,
    ts: str,
    user_id: str = "U0PRESSER",
    team_id: str = TEAM,
    user_team: str | None = None,
) -> str:
    user: dict[str, str] = {"id": user_id}
    if user_team is not None:
        user["team_id"] = user_team
    payload = {
        "type": "block_actions",
        "team": {"id": team_id},
        "user": user,
        "api_app_id": "A0LOCAL",
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "container": {"type": "message", "channel_id": channel, "message_ts": ts},
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"g7_followup:{commitment_id}",
                "value": commitment_id,
                "type": "button",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def dispatch(started: Started, body: str, headers: dict[str, str] | None = None) -> BoltResponse:
    """One HTTP-mode request through the App, then the work it started (digest-now, chat.update)."""
    response = await started.app.async_dispatch(build_bolt_request(body, headers or signed_headers(body)))
    await started.service.settle()
    return response


def post_reminder(started: Started, commitment_id: str, *, channel: str = TOKYO, at: dt.datetime = NOW) -> str:
    """Post the d7 reminder of `commitment_id` (in English) at `at` as the scheduler would; its message ts."""
    occ = Occurrence(
        kind="reminder",
        key=f"reminder:{commitment_id}:d7",
        channel=channel,
        at=at,
        lang="en",
        timezone="Asia/Tokyo",
        commitment_id=commitment_id,
    )
    asyncio.run(started.service.deliverer.post_now(occ, at))
    (delivery,) = [d for d in started.service.store.deliveries(kind="reminder") if d.key == occ.key]
    assert delivery.message_ts
    return str(delivery.message_ts)
