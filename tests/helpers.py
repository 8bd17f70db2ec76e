"""Helpers several test modules share: child processes of the bot and the bodies Slack sends."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.reply import Reply
from bot.runtime import utc_now
from bot.startup import Started
from bot.transports.local import slash_command_body

ROOT = Path(__file__).resolve().parents[1]
# The shipped release's folder inside a data folder (the library layout: data/releases/<id>/).
RELEASE_IN_DATA = "releases/meti-2025-12-10-g7-idt"
RELEASE_YML = f"{RELEASE_IN_DATA}/release.yml"
COMMITMENTS_YML = f"{RELEASE_IN_DATA}/commitments.yml"


class SettableClock:
    """The clock of a bot a test drives: `start(..., clock=SettableClock())`, then `set_clock(started, ...)`."""

    def __init__(self, now: Callable[[], dt.datetime] = utc_now):
        self._now = now

    def __call__(self) -> dt.datetime:
        return self._now()

    def set(self, now: Callable[[], dt.datetime]) -> None:
        self._now = now


def set_clock(started: Started, now: Callable[[], dt.datetime]) -> None:
    """Move the clock of a bot started with a SettableClock (the dependencies are frozen; the clock is not)."""
    clock = started.runtime.clock
    assert isinstance(clock, SettableClock), "start the bot with clock=SettableClock()"
    clock.set(now)


SHIPPED_RELEASE = ROOT / "data" / RELEASE_IN_DATA


def copy_data_dir(target: Path) -> Path:
    """A copy of the shipped data folder (library layout) at `target`, for a test to edit."""
    shutil.copytree(ROOT / "data", target)
    return target


def write_release(
    folder: Path,
    release_id: str,
    *,
    published: str = "2026-01-15",
    title: tuple[str, str] | None = None,
    commitment_prefix: str | None = "",
    extra: str = "",
) -> Path:
    """A release folder made from the shipped release under another id, date and title, with its original text.

    `commitment_prefix`: the shipped follow-ups with ids prefixed by it ("" keeps the ids; None: no commitments.yml).
    `extra`: YAML appended to release.yml (untranslated: ..., say).
    """
    folder.mkdir(parents=True)
    text = (SHIPPED_RELEASE / "release.yml").read_text(encoding="utf-8")
    text = _replace_once(text, "\nid: meti-2025-12-10-g7-idt\n", f"\nid: {release_id}\n")
    text = _replace_once(text, "\npublished: 2025-12-10\n", f"\npublished: {published}\n")
    if title is not None:
        ja, en = title
        text, n = re.subn(r"^title:\n  ja: .*\n  en: .*\n", f"title:\n  ja: {ja}\n  en: {en}\n", text, flags=re.M)
        assert n == 1, "expected the shipped release's title once"
    (folder / "release.yml").write_text(text + extra, encoding="utf-8")
    shutil.copy(SHIPPED_RELEASE / "source.txt", folder / "source.txt")
    if commitment_prefix is not None:
        commitments = (SHIPPED_RELEASE / "commitments.yml").read_text(encoding="utf-8")
        renamed = re.sub(r"^  - id: (\S+)$", lambda m: f"  - id: {commitment_prefix}{m[1]}", commitments, flags=re.M)
        (folder / "commitments.yml").write_text(renamed, encoding="utf-8")
    return folder


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected {old!r} once in the shipped release"
    return text.replace(old, new)


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
