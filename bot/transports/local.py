"""Local use with no Slack at all: `g7bot ask` and `g7bot console` dispatch through the same App."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.blocks import render_message

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


def as_text(message: dict[str, Any]) -> str:
    return render_message(message)
