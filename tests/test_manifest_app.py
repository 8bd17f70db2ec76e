"""manifest.yml declares exactly what the app registers: commands, events, interactivity."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.manifest import load_manifest
from bot.settings import load_settings
from bot.startup import start
from bot.transports.local import slash_command_body


@pytest.fixture
def started():  # type: ignore[no-untyped-def]
    return start(load_settings(), local=True)


def test_manifest_declares_exactly_what_the_app_registers(started) -> None:  # type: ignore[no-untyped-def]
    manifest, registered = started.manifest, started.registered
    assert set(manifest.commands) == set(registered.commands)
    assert set(manifest.events) == set(registered.events)
    assert manifest.interactivity == registered.interactivity


def test_every_declared_event_is_registered_and_every_registered_one_declared(started) -> None:  # type: ignore[no-untyped-def]
    manifest, registered = started.manifest, started.registered
    # Both ways, one by one: an event Slack sends that nothing handles, or a listener Slack never calls.
    assert [e for e in manifest.events if e not in registered.events] == []
    assert [e for e in registered.events if e not in manifest.events] == []
    assert registered.events == ("app_home_opened",)
    assert len(set(manifest.events)) == len(manifest.events)


def _dispatch(app, body: dict) -> int:  # type: ignore[no-untyped-def]
    response = asyncio.run(app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode")))
    return int(response.status)


def test_the_declared_command_is_answered_and_no_other(started) -> None:  # type: ignore[no-untyped-def]
    assert _dispatch(started.app, slash_command_body(started.manifest.command, "help")) == 200
    assert _dispatch(started.app, slash_command_body("/not-declared", "help")) == 404


def _event(event: dict[str, object]) -> dict[str, object]:
    return {"type": "event_callback", "team_id": "TLOCAL", "api_app_id": "ALOCAL", "event": event}


def test_an_event_not_declared_is_not_handled(started) -> None:  # type: ignore[no-untyped-def]
    body = _event({"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.0"})
    assert _dispatch(started.app, body) == 404


def test_the_declared_event_is_handled(started) -> None:  # type: ignore[no-untyped-def]
    body = _event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1.0"})
    assert _dispatch(started.app, body) == 200


@pytest.mark.parametrize("action_id", ["g7_followup_done", "g7_followup_snooze_1d", "g7_followup_snooze_1w"])
def test_each_registered_button_is_acked(started, action_id: str) -> None:  # type: ignore[no-untyped-def]
    assert action_id in started.registered.actions
    body = {
        "type": "block_actions",
        "team": {"id": "TLOCAL"},
        "user": {"id": "U1"},
        "api_app_id": "ALOCAL",
        "container": {"type": "message", "channel_id": "C1", "message_ts": "1.0"},
        "actions": [{"action_id": action_id, "block_id": "b", "value": "fr-presidency", "type": "button"}],
    }
    assert _dispatch(started.app, body) == 200


def test_renaming_the_command_in_the_manifest_is_all_it_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Path(load_settings().manifest)
    data = yaml.safe_load(original.read_text(encoding="utf-8"))
    data["features"]["slash_commands"][0]["command"] = "/g7-meti"
    renamed = tmp_path / "manifest.yml"
    renamed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("G7BOT_MANIFEST", str(renamed))
    started = start(load_settings(), local=True)
    assert load_manifest(renamed).command == "/g7-meti"
    message = asyncio.run(started.ask("help"))
    assert "/g7-meti summary" in json.dumps(message, ensure_ascii=False)
    assert _dispatch(started.app, slash_command_body("/g7-meti", "summary")) == 200
    assert _dispatch(started.app, slash_command_body("/g7", "summary")) == 404
