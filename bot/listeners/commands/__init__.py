"""Slash command listeners: `/g7` (or whatever manifest.yml names it)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import build_message
from bot.commands import answer, is_static, parse
from bot.listeners.guard import guarded
from bot.release.models import Lang
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> tuple[str, ...]:
    @app.command(runtime.command)
    async def handle_slash_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        text = str(command.get("text") or "")
        user_id = str(command.get("user_id") or "")
        _, override = parse(text)
        lang = override or await runtime.locales.lang_for(user_id, client) or runtime.settings.default_lang
        message = guarded(
            lambda: reply_message(runtime, text, lang=lang, user_id=user_id),
            lang=lang,
            what=f"{runtime.command} from {user_id}",
        )
        await ack(response_type="ephemeral", **message)

    return (runtime.command,)


def reply_message(runtime: Runtime, text: str, *, lang: Lang, user_id: str) -> dict[str, Any]:
    """The message for `/g7 text`; answers that depend only on the text and the data are reused."""
    is_admin = runtime.is_admin(user_id)

    def make() -> dict[str, Any]:
        return build_message(
            answer(
                text,
                lookup=runtime.lookup,
                lang=lang,
                now=runtime.clock(),
                command=runtime.command,
                user_id=user_id,
                is_admin=is_admin,
                services=runtime.services,
            )
        )

    if is_static(text):
        return runtime.replies.get((text, lang, is_admin), make)
    return make()
