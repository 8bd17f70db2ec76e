"""Slack surfaces the bot listens on, one package each, each with `register(app, runtime)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import commands
from bot.runtime import Runtime


def register_listeners(app: AsyncApp, runtime: Runtime) -> None:
    commands.register(app, runtime)
