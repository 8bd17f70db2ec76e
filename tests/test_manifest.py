"""manifest.yml: Slack's schema, the cross-field rules, and the Socket Mode / app token consistency check."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.errors import ConfigError
from bot.manifest import (
    MANIFEST_FILE,
    SCHEMA_FILE,
    AppManifest,
    load_manifest,
    socket_mode_mismatch_warning,
)

REPO = Path(__file__).resolve().parents[1]
SHARED_SLACK = Path(__file__).resolve().parents[2] / "shared" / "slack"
SHARED_SCHEMA = SHARED_SLACK / "manifest.schema.json"

needs_shared = pytest.mark.skipif(
    not SHARED_SCHEMA.is_file(),
    reason=f"Slack's manifest schema is not at {SHARED_SCHEMA} (shared/ is not a sibling of the repo folder)",
)


def _real() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "manifest.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- the real manifest ----------------------------------------------------------------------------------


def test_manifest_file_is_the_repo_root_manifest() -> None:
    assert MANIFEST_FILE == REPO / "manifest.yml"
    assert MANIFEST_FILE.is_file()


@needs_shared
def test_manifest_validates_against_slacks_schema_directly() -> None:
    schema = json.loads(SHARED_SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(schema).iter_errors(_real())]
    assert errors == []


@needs_shared
def test_vendored_schema_is_byte_identical_to_shared_copy() -> None:
    assert SCHEMA_FILE.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_load_manifest_reads_what_the_app_uses() -> None:
    manifest = load_manifest()
    assert manifest.command == "/g7"
    assert manifest.commands == ("/g7",)
    assert manifest.socket_mode is True
    assert manifest.interactivity is True
    assert set(manifest.scopes) == {
        "commands",
        "chat:write",
        "users:read",
        "channels:history",
        "groups:history",
        "files:write",  # the follow-ups export
        "im:write",  # its DM (conversations.open), and the admins' notices
        "channels:read",  # conversations.info: the Slack Connect guard
        "groups:read",
        "usergroups:read",  # usergroups.users.list: DMs to a desk's user group (data/owners.yml)
        "im:history",  # a lost DM's answer looked for in the DM, not sent twice
    }
    assert len(manifest.scopes) == len(set(manifest.scopes))
    assert manifest.events == ("app_home_opened",)  # the Home tab


def test_app_manifest_is_frozen() -> None:
    manifest = load_manifest()
    with pytest.raises(ValueError, match="frozen"):
        manifest.command = "/other"  # type: ignore[misc]


def test_real_manifest_round_trips_through_tmp_copy(tmp_path: Path) -> None:
    assert load_manifest(_write(tmp_path, _real())) == load_manifest()


# --- valid variations -------------------------------------------------------------------------------------


def _http_mode(m: dict[str, Any]) -> None:
    m["settings"]["socket_mode_enabled"] = False


def _renamed(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["command"] = "/g7-ja"


def _with_events(m: dict[str, Any]) -> None:
    m["settings"]["event_subscriptions"] = {"bot_events": ["app_home_opened"]}


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        pytest.param(_http_mode, lambda a: a.socket_mode is False, id="http-mode-with-urls"),
        pytest.param(_renamed, lambda a: a.command == "/g7-ja" and a.commands == ("/g7-ja",), id="renamed"),
        pytest.param(_with_events, lambda a: a.events == ("app_home_opened",), id="events-in-socket-mode"),
    ],
)
def test_valid_variations(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], check: Callable[[AppManifest], bool]
) -> None:
    data = copy.deepcopy(_real())
    mutate(data)
    assert check(load_manifest(_write(tmp_path, data)))


# --- invalid manifests ------------------------------------------------------------------------------------


def _interactivity_without_url(m: dict[str, Any]) -> None:
    m["settings"]["socket_mode_enabled"] = False
    del m["settings"]["interactivity"]["request_url"]


def _events_without_url(m: dict[str, Any]) -> None:
    m["settings"]["socket_mode_enabled"] = False
    m["settings"]["event_subscriptions"] = {"bot_events": ["app_mention"]}


def _command_without_url_in_http_mode(m: dict[str, Any]) -> None:
    m["settings"]["socket_mode_enabled"] = False
    del m["features"]["slash_commands"][0]["url"]


def _bad_display_name(m: dict[str, Any]) -> None:
    m["features"]["bot_user"]["display_name"] = "G7 Bot!"


def _description_too_long(m: dict[str, Any]) -> None:
    m["display_information"]["description"] = "x" * 141


def _long_description_too_short(m: dict[str, Any]) -> None:
    m["display_information"]["long_description"] = "Too short."


def _unknown_top_level_key(m: dict[str, Any]) -> None:
    m["compliance"] = {"fedramp": True}


def _unknown_nested_key(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["shortcut"] = "g"


def _missing_name(m: dict[str, Any]) -> None:
    del m["display_information"]["name"]


def _scopes_not_a_list(m: dict[str, Any]) -> None:
    m["oauth_config"]["scopes"]["bot"] = "chat:write"


def _bad_colour(m: dict[str, Any]) -> None:
    m["display_information"]["background_color"] = "#12345z"


def _two_commands(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"].append({"command": "/g7-ja", "description": "G7 in Japanese"})


def _no_commands(m: dict[str, Any]) -> None:
    del m["features"]["slash_commands"]


def _uppercase_command(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["command"] = "/G7"


def _command_without_slash(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["command"] = "g7"


def _command_too_long(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["command"] = "/" + "g" * 32


def _v2_manifest(m: dict[str, Any]) -> None:
    m["_metadata"]["major_version"] = 2


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        pytest.param(
            _interactivity_without_url,
            "settings.interactivity.request_url",
            "socket_mode_enabled",
            id="interactivity-without-request-url",
        ),
        pytest.param(
            _events_without_url,
            "settings.event_subscriptions.request_url",
            "socket_mode_enabled",
            id="events-without-request-url",
        ),
        pytest.param(
            _command_without_url_in_http_mode,
            "features.slash_commands.0.url",
            "socket_mode_enabled",
            id="command-without-url-in-http-mode",
        ),
        pytest.param(_bad_display_name, "features.bot_user.display_name", "lowercase letters", id="bad-display-name"),
        pytest.param(_description_too_long, "display_information.description", "too long", id="description-too-long"),
        pytest.param(
            _long_description_too_short,
            "display_information.long_description",
            "too short",
            id="long-description-too-short",
        ),
        pytest.param(_unknown_top_level_key, "compliance", "unknown key", id="unknown-top-level-key"),
        pytest.param(_unknown_nested_key, "features.slash_commands.0.shortcut", "unknown key", id="unknown-nested-key"),
        pytest.param(_missing_name, "display_information.name", "is required", id="missing-name"),
        pytest.param(_scopes_not_a_list, "oauth_config.scopes.bot", "must be of type 'array'", id="scopes-type"),
        pytest.param(_bad_colour, "display_information.background_color", "hex colour", id="bad-colour"),
        pytest.param(_two_commands, "features.slash_commands", "exactly one slash command", id="two-commands"),
        pytest.param(_no_commands, "features.slash_commands", "exactly one slash command", id="no-commands"),
        pytest.param(_uppercase_command, "features.slash_commands.0.command", "lowercase", id="uppercase-command"),
        pytest.param(
            _command_without_slash,
            "features.slash_commands.0.command",
            "must match the pattern",
            id="command-without-slash",
        ),
        pytest.param(_command_too_long, "features.slash_commands.0.command", "too long", id="command-too-long"),
        pytest.param(_v2_manifest, "_metadata.major_version", "must be 1", id="v2-manifest"),
    ],
)
def test_invalid_manifest_names_file_field_and_reason(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], field: str, reason: str
) -> None:
    data = copy.deepcopy(_real())
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_manifest(path)
    err = caught.value
    assert err.file == str(path)
    assert str(path) in str(err)
    reasons = [r for f, r in err.problems if f == field]
    assert reasons, f"no problem reported for {field}: {err.problems}"
    assert any(reason in r for r in reasons), reasons


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    data = copy.deepcopy(_real())
    for mutate in (_interactivity_without_url, _bad_display_name, _description_too_long, _two_commands):
        mutate(data)
    with pytest.raises(ConfigError) as caught:
        load_manifest(_write(tmp_path, data))
    fields = [f for f, _ in caught.value.problems]
    assert set(fields) >= {
        "settings.interactivity.request_url",
        "features.bot_user.display_name",
        "display_information.description",
        "features.slash_commands",
    }


def test_a_field_flagged_by_the_schema_is_not_reported_twice(tmp_path: Path) -> None:
    data = copy.deepcopy(_real())
    _command_too_long(data)
    with pytest.raises(ConfigError) as caught:
        load_manifest(_write(tmp_path, data))
    assert [f for f, _ in caught.value.problems] == ["features.slash_commands.0.command"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param(None, "(file)", id="missing-file"),
        pytest.param("", "(top level)", id="empty-file"),
        pytest.param("- a\n- b\n", "(top level)", id="not-a-mapping"),
        pytest.param("display_information: [\n", "line 2, column 1", id="bad-yaml"),
    ],
)
def test_unreadable_manifest(tmp_path: Path, text: str | None, field: str) -> None:
    path = tmp_path / "manifest.yml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_manifest(path)
    assert caught.value.file == str(path)
    assert [f for f, _ in caught.value.problems] == [field]


# --- Socket Mode vs SLACK_APP_TOKEN ---------------------------------------------------------------------


def _manifest(*, socket_mode: bool) -> AppManifest:
    return load_manifest().model_copy(update={"socket_mode": socket_mode})


@pytest.mark.parametrize(
    ("socket_mode", "app_token_set", "expected"),
    [
        pytest.param(True, True, None, id="socket-mode-with-token"),
        pytest.param(False, False, None, id="http-without-token"),
        pytest.param(True, False, "SLACK_APP_TOKEN is not set", id="socket-mode-without-token"),
        pytest.param(False, True, "SLACK_APP_TOKEN is set", id="http-with-token"),
    ],
)
def test_socket_mode_mismatch_warning(socket_mode: bool, app_token_set: bool, expected: str | None) -> None:
    warning = socket_mode_mismatch_warning(_manifest(socket_mode=socket_mode), app_token_set=app_token_set)
    if expected is None:
        assert warning is None
    else:
        assert warning is not None
        assert expected in warning
        assert "socket_mode_enabled" in warning
