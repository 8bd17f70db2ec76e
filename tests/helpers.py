"""Helpers several test modules share: child processes of the bot and the bodies Slack sends."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.reply import Reply
from bot.transports.local import slash_command_body

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(**values: str) -> dict[str, str]:
    """The test process's environment without any Slack or bot setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "G7BOT_")) and k not in {"PORT", "HOST"}}
    env["PYTHONPATH"] = str(ROOT)
    env.update(values)
    return env


def slash_payload(text: str, *, user_id: str, command: str = "/g7") -> dict[str, Any]:
    """What Slack sends for `/g7 text` from a user in a channel (HTTP form fields, or a Socket Mode payload)."""
    body = slash_command_body(command, text, user_id=user_id)
    body.update(
        token="legacy-verification-token",
        team_id="T0LOCAL",
        channel_id="C0LOCAL",
        channel_name="general",
        user_name=user_id.lower(),
        api_app_id="A0LOCAL",
        response_url="https://hooks.slack.invalid/commands/1",
        trigger_id="1.2.3",
    )
    return body


def slash_form(text: str, *, user_id: str, command: str = "/g7") -> str:
    """The form-encoded body Slack POSTs for `/g7 text` in HTTP mode."""
    return urlencode(slash_payload(text, user_id=user_id, command=command))


def text_of(reply: Reply) -> str:
    """Every mrkdwn string of a reply (title, section texts and fields, footer), in order."""
    parts = [reply.title]
    for section in reply.sections:
        parts.append(section.text)
        parts.extend(section.fields)
    parts.extend(reply.footer)
    return "\n".join(parts)
