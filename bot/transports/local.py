"""Local use with no Slack at all: `g7bot ask` and `g7bot console` dispatch through the same App."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.blocks import render_message
from bot.errors import LeaseLost

LOCAL_USER = "ULOCAL"
LOCAL_TEAM = "TLOCAL"


def slash_command_body(command: str, text: str, *, user_id: str = LOCAL_USER) -> dict[str, Any]:
    """The body Slack sends for a slash command, as a local user in a local workspace."""
    return {
        "token": "",
        "team_id": LOCAL_TEAM,
        "team_domain": "local",
        "channel_id": "DLOCAL",
        "channel_name": "directmessage",
        "user_id": user_id,
        "user_name": "local",
        "command": command,
        "text": text,
        "api_app_id": "ALOCAL",
        "is_enterprise_install": "false",
        "response_url": "",
        "trigger_id": "",
    }


async def ask(app: AsyncApp, command: str, text: str, *, user_id: str = LOCAL_USER) -> dict[str, Any]:
    """Dispatch `/command text` through `app` and return the message it acknowledged with."""
    request = AsyncBoltRequest(body=slash_command_body(command, text, user_id=user_id), mode="socket_mode")
    response = await app.async_dispatch(request)
    if response.status != 200:
        raise RuntimeError(f"the app answered {response.status}: {response.body}")
    message: dict[str, Any] = json.loads(response.body) if response.body else {}
    return message


class ConsolePoster:
    """Where `serve` posts to Slack, the local console prints: the same scheduler, no Slack."""

    def __init__(self, out: Any = None):
        self.out = out
        self._count = 0

    def _print(self, text: str) -> None:
        import sys

        print(text, file=self.out or sys.stdout, flush=True)

    async def post(
        self,
        channel: str,
        message: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any],
        before_send: Callable[[], Awaitable[bool]] | None = None,
    ) -> str:
        if before_send is not None and not await before_send():
            raise LeaseLost(f"post to #{channel}: no longer ours to send")
        self._count += 1
        self._print(f"\n--- post to #{channel} ---\n{render_message(dict(message))}")
        return f"0.{self._count:06d}"

    async def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        self._print(f"\n--- update of {ts} in #{channel} ---\n{render_message(dict(message))}")

    async def ephemeral(self, channel: str, user: str, message: Mapping[str, Any]) -> None:
        self._print(f"\n--- only for {user} in #{channel} ---\n{render_message(dict(message))}")

    async def find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        return None
