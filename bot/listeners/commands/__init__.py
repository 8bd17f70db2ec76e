"""Slash command listeners: `/g7` (or whatever manifest.yml names it)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import build_message
from bot.commands import answer, parse
from bot.listeners.guard import guarded
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> tuple[str, ...]:
    @app.command(runtime.command)
    async def handle_slash_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        text = str(command.get("text") or "")
        user_id = str(command.get("user_id") or "")
        _, override = parse(text)
        lang = override or await runtime.locales.lang_for(user_id, client) or runtime.settings.default_lang
        reply = guarded(
            lambda: answer(
                text,
                lookup=runtime.lookup,
                lang=lang,
                now=runtime.clock(),
                command=runtime.command,
                user_id=user_id,
                is_admin=runtime.is_admin(user_id),
                services=runtime.services,
            ),
            lang=lang,
            what=f"{runtime.command} from {user_id}",
        )
        await ack(response_type="ephemeral", **build_message(reply))

    return (runtime.command,)
