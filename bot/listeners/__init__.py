"""Slack surfaces the bot listens on, one package each, each with `register(app, runtime)`."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, events
from bot.runtime import Runtime


@dataclass(frozen=True)
class Registered:
    """What the app listens for; tests hold manifest.yml to exactly this."""

    commands: tuple[str, ...]
    events: tuple[str, ...]
    actions: tuple[str, ...]

    @property
    def interactivity(self) -> bool:
        return bool(self.actions)


def register_listeners(app: AsyncApp, runtime: Runtime) -> Registered:
    return Registered(
        commands=commands.register(app, runtime),
        events=events.register(app, runtime),
        actions=actions.register(app, runtime),
    )
