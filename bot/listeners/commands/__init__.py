"""Slash command listeners: `/g7` (or whatever manifest.yml names it)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import build_message
from bot.commands import answer, is_static, parse
from bot.listeners.guard import guarded
from bot.release.models import Lang
from bot.runtime import Runtime
from bot.text import log_safe


def register(app: AsyncApp, runtime: Runtime) -> tuple[str, ...]:
    @app.command(runtime.command)
    async def handle_slash_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        text = str(command.get("text") or "")
        user_id = str(command.get("user_id") or "")
        team_id = command.get("team_id")
        enterprise_id = command.get("enterprise_id") or None
        _, override = parse(text)
        lang = override or await runtime.locales.lang_for(user_id, client) or runtime.settings.default_lang
        # The same users.info as the language (cached): times in a reply read as the requester's clock. Only an
        # admin's replies show times (admin audit), so nobody else's command waits for a look-up it does not use.
        admin = runtime.is_admin(user_id, team_id=team_id, enterprise_id=enterprise_id)
        tz = await runtime.locales.tz_for(user_id, client) if admin else None
        message = guarded(
            lambda: reply_message(
                runtime, text, lang=lang, user_id=user_id, team_id=team_id, enterprise_id=enterprise_id, tz=tz
            ),
            lang=lang,
            what=f"{runtime.command} '{log_safe(text, limit=80)}' from {log_safe(user_id)}",
        )
        await ack(response_type="ephemeral", **message)

    return (runtime.command,)


def reply_message(
    runtime: Runtime,
    text: str,
    *,
    lang: Lang,
    user_id: str,
    team_id: str | None = None,
    enterprise_id: str | None = None,
    tz: ZoneInfo | None = None,
) -> dict[str, Any]:
    """The message for `/g7 text`; answers that depend only on the text and the data are reused.
    `tz`: the requester's Slack time zone, when known (never part of a reused answer).

    `team_id` is the workspace the command came from; without it (a caller inside the bot, such as
    the reply cache's tests), the installed workspace.
    """
    installed = runtime.workspace.installation
    if team_id is None and installed is not None:
        team_id, enterprise_id = installed.team_id, installed.enterprise_id
    is_admin = runtime.is_admin(user_id, team_id=team_id, enterprise_id=enterprise_id)
    # Read once: a reload during this request does not change the data it answers from.
    library = runtime.library.current

    def make() -> dict[str, Any]:
        return build_message(
            answer(
                text,
                library=library,
                lang=lang,
                now=runtime.clock(),
                command=runtime.command,
                user_id=user_id,
                is_admin=is_admin,
                services=runtime.services,
                tz=tz,
            )
        )

    if is_static(text):
        return runtime.replies.get(library, (text, lang, is_admin), make)
    return make()
