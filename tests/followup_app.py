"""The bot as `serve` builds it (settings from the environment), driven in process: slash text, button presses and
a posted reminder, against the Slack stand-in. Shared by the tests of audit, assignment and admin dates."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from tests import signed_app
from tests.helpers import SettableClock, set_clock
from tests.postgres import postgres_url
from tests.slack_standin import SlackStandIn

TOKYO_CHANNEL = "C0TOKYO001"
ADMIN = "U0ADMIN01"
PRESSER = "U0PRESSER"
PRESSED_AT = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)  # Friday 09:00 in Tokyo
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def data_folder(target: Path, schedule: str) -> Path:
    """A copy of the shipped data/ at `target`, with `schedule` as its schedule.yml."""
    shutil.copytree(ROOT / "data", target)
    (target / "schedule.yml").write_text(schedule, encoding="utf-8")
    return target


@contextlib.contextmanager
def started_bot(
    backend: str, *, data_dir: Path, tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Started]:
    """The bot on `data_dir` and a SQLite file or a new PostgreSQL database; ADMIN its admin, its clock PRESSED_AT."""
    with contextlib.ExitStack() as stack:
        sqlite = f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
        url = stack.enter_context(postgres_url()) if backend == "postgres" else sqlite
        monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
        monkeypatch.setenv("G7BOT_DATABASE_URL", url)
        monkeypatch.setenv("G7BOT_ADMIN_USERS", ADMIN)
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        poster = Poster(build_post_client("xoxb-test", slack.api_url))
        bot = start(load_settings(), poster=poster, clock=SettableClock())
        set_clock(bot, lambda: PRESSED_AT)
        stack.callback(bot.service.store.close)
        yield bot


def ask(started: Started, text: str, *, user: str = ADMIN) -> dict[str, Any]:
    """`/g7 text` from `user`: the message the bot answers with, once the work it started is done."""

    async def go() -> dict[str, Any]:
        message = await started.ask(text, user_id=user)
        await started.service.settle()
        return message

    return asyncio.run(go())


def press_body(
    action_id: str, *, ts: str, user: str = PRESSER, value: str = "fr-presidency", user_team: bool = True
) -> dict[str, Any]:
    """A block_actions payload: `user` pressing `action_id` on the reminder at `ts` in TOKYO_CHANNEL."""
    return {
        "type": "block_actions",
        "team": {"id": "T0LOCAL"},
        "user": {"id": user, "team_id": "T0LOCAL"} if user_team else {"id": user},
        "api_app_id": "A0LOCAL",
        "container": {"type": "message", "channel_id": TOKYO_CHANNEL, "message_ts": ts},
        "actions": [{"action_id": action_id, "block_id": f"g7_followup:{value}", "value": value, "type": "button"}],
    }


def dispatch(started: Started, *bodies: dict[str, Any]) -> None:
    """Dispatch the presses together (as Slack delivers near-simultaneous clicks), then wait for their work."""

    async def go() -> None:
        responses = await asyncio.gather(
            *(started.app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode")) for body in bodies)
        )
        await started.service.settle()
        assert [r.status for r in responses] == [200] * len(bodies)

    asyncio.run(go())


def post_reminder(started: Started, commitment_id: str = "fr-presidency") -> str:
    """Post the d7 reminder of `commitment_id` in TOKYO_CHANNEL at PRESSED_AT (in English); its message ts."""
    return signed_app.post_reminder(started, commitment_id, channel=TOKYO_CHANNEL, at=PRESSED_AT)


def blocks_of(args: dict[str, Any]) -> str:
    """The blocks of a chat.postMessage or chat.update call, as JSON text."""
    blocks = args.get("blocks")
    return json.dumps(json.loads(blocks) if isinstance(blocks, str) else blocks, ensure_ascii=False)
