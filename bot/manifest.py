"""Read and validate manifest.yml: Slack's JSON Schema plus the cross-field rules it does not express.

slack_manifest.schema.json beside this module is a verbatim copy of schemas/manifest.schema.1.0.0.json from
https://github.com/slackapi/manifest-schema (MIT License, Copyright (c) Slack Technologies, LLC).

The schema checks each field on its own. Slack's server applies more rules when a manifest is pasted, and
this app has rules of its own; both are checked here so that `g7bot check` reports every problem at once:

* interactivity, event subscriptions and the slash command need a request URL unless Socket Mode is on;
* the bot user's display_name may only contain a-z, 0-9, "-", "_" and ".";
* display_information.background_color is a #rgb or #rrggbb colour (the schema's pattern is not enforced);
* the manifest is a v1 manifest (the vendored schema is the v1 schema);
* g7bot answers exactly one slash command, lowercase, starting with "/", at most 32 characters.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, ValidationError
from pydantic import BaseModel, ConfigDict

from bot.datafiles import read_yaml
from bot.errors import ConfigError

MANIFEST_FILE = Path(__file__).resolve().parents[1] / "manifest.yml"
SCHEMA_FILE = Path(__file__).resolve().with_name("slack_manifest.schema.json")

_DISPLAY_NAME = re.compile(r"[a-z0-9._-]+")
_COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
_COMMAND = re.compile(r"/\S+")
_COMMAND_MAX = 32


class AppManifest(BaseModel):
    """The parts of manifest.yml that the running app depends on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    """The bot's single slash command, e.g. "/g7"."""
    socket_mode: bool
    interactivity: bool
    scopes: tuple[str, ...]
    """Bot token scopes (oauth_config.scopes.bot)."""
    events: tuple[str, ...]
    """Bot events (settings.event_subscriptions.bot_events); empty when the app subscribes to none."""
    commands: tuple[str, ...]
    """All slash command names declared (exactly one after validation)."""


@functools.cache
def _validator() -> Draft7Validator:
    """The compiled validator for the vendored schema, built once per process."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def load_manifest(path: Path = MANIFEST_FILE) -> AppManifest:
    """Read and validate `path`; raise ConfigError listing every problem found."""
    raw = _read(path)
    problems = list(_schema_problems(raw))
    flagged = {field for field, _ in problems}
    # A rule below may restate what the schema already said about a field (e.g. a command over 32
    # characters); report each field's schema problem only.
    problems += [p for p in _cross_field_problems(raw) if p[0] not in flagged]
    if problems:
        raise ConfigError(path, problems)
    return _to_model(raw)


def socket_mode_mismatch_warning(manifest: AppManifest, *, app_token_set: bool) -> str | None:
    """A warning when the manifest's transport and the presence of SLACK_APP_TOKEN disagree."""
    if manifest.socket_mode and not app_token_set:
        return (
            "manifest.yml has socket_mode_enabled: true but SLACK_APP_TOKEN is not set: the bot will serve "
            "HTTP, which Slack will not call while Socket Mode is on. Set SLACK_APP_TOKEN (xapp-...) or set "
            "socket_mode_enabled: false and fill in the request URLs."
        )
    if not manifest.socket_mode and app_token_set:
        return (
            "manifest.yml has socket_mode_enabled: false but SLACK_APP_TOKEN is set: the bot will connect in "
            "Socket Mode, but Slack sends requests to the manifest's request URLs. Unset SLACK_APP_TOKEN or "
            "set socket_mode_enabled: true."
        )
    return None


# --- reading ---------------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    # The same reader as every data file: one line per problem, dates left to the schema, never a traceback.
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else type(raw).__name__
        raise ConfigError(path, [("(top level)", f"expected a mapping (a Slack app manifest), got {got}")])
    return raw


# --- JSON Schema -----------------------------------------------------------------------------------------


def _schema_problems(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    errors = sorted(_validator().iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        yield from _describe(error)


def _describe(error: ValidationError) -> Iterator[tuple[str, str]]:
    """(field path, reason) for one schema error, pointing at the offending key where possible."""
    path = [str(p) for p in error.absolute_path]
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [str(k) for k in required if k not in instance]
        for key in missing:
            yield _join([*path, key]), "is required"
        if missing:
            return
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        patterns = error.schema.get("patternProperties", {}) if isinstance(error.schema, dict) else {}
        unknown = [str(k) for k in instance if k not in known and not any(re.search(p, str(k)) for p in patterns)]
        for key in unknown:
            where = _join(path) if path else "the top level"
            yield _join([*path, key]), f"unknown key (not allowed in {where} by Slack's manifest schema)"
        if unknown:
            return
    yield _join(path), _reason(error)


def _reason(error: ValidationError) -> str:
    """A short reason that does not echo long values back (jsonschema's messages quote the instance)."""
    value, limit = error.instance, error.validator_value
    if error.validator in ("maxLength", "minLength") and isinstance(value, str):
        bound = "at most" if error.validator == "maxLength" else "at least"
        size = "too long" if error.validator == "maxLength" else "too short"
        return f"is {size}: {len(value)} characters, {bound} {limit} allowed"
    if error.validator in ("maxItems", "minItems") and isinstance(value, list):
        bound = "at most" if error.validator == "maxItems" else "at least"
        return f"has {len(value)} items, {bound} {limit} allowed"
    if error.validator == "pattern" and isinstance(value, str):
        return f"must match the pattern {limit!r}, got {_short(value)}"
    if error.validator == "type":
        return f"must be of type {limit!r}, got {type(value).__name__} {_short(value)}"
    if error.validator == "enum":
        return f"must be one of {limit!r}, got {_short(value)}"
    return error.message


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _join(path: Sequence[str]) -> str:
    return ".".join(path) if path else "(top level)"


# --- rules the schema does not express ---------------------------------------------------------------------


def _cross_field_problems(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    settings = _mapping(raw.get("settings"))
    features = _mapping(raw.get("features"))
    socket_mode = settings.get("socket_mode_enabled") is True
    http_hint = "is required unless settings.socket_mode_enabled is true: in HTTP mode Slack sends {what} there"

    metadata = _mapping(raw.get("_metadata"))
    major = metadata.get("major_version", 1)
    if isinstance(major, int) and major != 1:
        yield (
            "_metadata.major_version",
            f"must be 1: g7bot uses a v1 manifest (checked against Slack's v1 schema), got {major}",
        )

    colour = _mapping(raw.get("display_information")).get("background_color")
    if isinstance(colour, str) and not _COLOUR.fullmatch(colour):
        yield (
            "display_information.background_color",
            f"must be a hex colour like #1d3557 or #fff, got {colour!r}",
        )

    interactivity = _mapping(settings.get("interactivity"))
    if interactivity.get("is_enabled") is True and not socket_mode and not interactivity.get("request_url"):
        yield "settings.interactivity.request_url", http_hint.format(what="button presses")

    events = settings.get("event_subscriptions")
    if isinstance(events, Mapping) and not socket_mode and not events.get("request_url"):
        yield "settings.event_subscriptions.request_url", http_hint.format(what="the subscribed events")

    display_name = _mapping(features.get("bot_user")).get("display_name")
    if isinstance(display_name, str) and display_name and not _DISPLAY_NAME.fullmatch(display_name):
        yield (
            "features.bot_user.display_name",
            f"may only contain lowercase letters a-z, digits 0-9, '-', '_' and '.', got {display_name!r}",
        )

    yield from _command_problems(features.get("slash_commands"), socket_mode=socket_mode, http_hint=http_hint)


def _command_problems(commands: object, *, socket_mode: bool, http_hint: str) -> Iterator[tuple[str, str]]:
    field = "features.slash_commands"
    if commands is None:
        yield field, "g7bot needs exactly one slash command (e.g. /g7); none is declared"
        return
    if not isinstance(commands, list):
        return  # reported by the schema
    if len(commands) != 1:
        names = ", ".join(str(_mapping(c).get("command")) for c in commands) or "none"
        yield (
            field,
            f"g7bot answers exactly one slash command (it reads its name from here), found {len(commands)}: {names}",
        )
    for index, entry in enumerate(commands):
        command = _mapping(entry)
        name = command.get("command")
        if isinstance(name, str):
            if not _COMMAND.fullmatch(name):
                yield f"{field}.{index}.command", f"must start with '/' and contain no spaces, got {name!r}"
            if name != name.lower():
                yield f"{field}.{index}.command", f"must be lowercase, got {name!r}"
            if len(name) > _COMMAND_MAX:
                yield (
                    f"{field}.{index}.command",
                    f"must be at most {_COMMAND_MAX} characters, got {len(name)}",
                )
        if isinstance(entry, Mapping) and not socket_mode and not command.get("url"):
            yield f"{field}.{index}.url", http_hint.format(what="the slash command")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# --- model -----------------------------------------------------------------------------------------------


def _to_model(raw: Mapping[str, Any]) -> AppManifest:
    features = _mapping(raw.get("features"))
    settings = _mapping(raw.get("settings"))
    commands = tuple(str(_mapping(c)["command"]) for c in features.get("slash_commands", []))
    scopes = _mapping(_mapping(raw.get("oauth_config")).get("scopes")).get("bot", [])
    events = _mapping(settings.get("event_subscriptions")).get("bot_events", [])
    return AppManifest(
        command=commands[0],
        socket_mode=settings.get("socket_mode_enabled") is True,
        interactivity=_mapping(settings.get("interactivity")).get("is_enabled") is True,
        scopes=tuple(str(s) for s in scopes),
        events=tuple(str(e) for e in events),
        commands=commands,
    )
