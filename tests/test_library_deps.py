"""The dependencies listeners get are frozen and complete before any listener is registered."""

from __future__ import annotations

import dataclasses

import pytest
from slack_bolt.async_app import AsyncApp

from bot.library import Library
from bot.library.owner import LibraryOwner
from bot.listeners import Registered, register_listeners
from bot.runtime import Installation, Runtime
from bot.settings import load_settings
from bot.startup import start
from bot.transports.local import ConsolePoster


def test_the_dependencies_are_frozen() -> None:
    runtime = start(load_settings(), local=True).runtime
    with pytest.raises(dataclasses.FrozenInstanceError):
        runtime.services = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        runtime.library = LibraryOwner(runtime.library.current)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        runtime.settings = runtime.settings  # type: ignore[misc]


def test_services_and_everything_else_are_there_when_listeners_register(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[Runtime] = []

    def watching(app: AsyncApp, runtime: Runtime) -> Registered:
        given.append(runtime)
        assert runtime.services is not None, "services exist before the first listener is registered"
        assert isinstance(runtime.library.current, Library)
        assert runtime.installed == Installation(team_id="TLOCAL"), "locally the console's workspace, at once"
        return register_listeners(app, runtime)

    monkeypatch.setattr("bot.app.register_listeners", watching)
    started = start(load_settings(), local=True)
    assert given == [started.runtime]
    assert started.runtime.services is started.service
    assert started.registered.commands == (started.manifest.command,)
    # The record of handled requests is fixed at construction: the delivery log here, which records them.
    assert started.runtime.seen is started.service.store


def test_the_installed_workspace_is_the_one_fact_learnt_later() -> None:
    runtime = start(load_settings(bot_token="xoxb-test"), local=False, poster=ConsolePoster()).runtime
    assert runtime.installed is None
    assert not runtime.admits(team_id="T0INSTALLED", enterprise_id=None)
    runtime.workspace.learn(Installation(team_id="T0INSTALLED"))
    assert runtime.installed == Installation(team_id="T0INSTALLED")
    assert runtime.admits(team_id="T0INSTALLED", enterprise_id=None)
    assert runtime.services is not None
    runtime.services.store.close()

