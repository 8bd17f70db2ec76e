"""The real App: signed HTTP-mode requests through async_dispatch, the user's locale, and the local CLI."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.__main__ import EXIT_CONFIG, main
from bot.messages import msg
from bot.release.models import Lang, Release
from bot.settings import load_settings
from bot.startup import Started, start
from bot.transports.http import MalformedBody, build_bolt_request
from tests.helpers import slash_form as _slash_form
from tests.slack_standin import Fault, SlackStandIn

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-0000"
ROOT = Path(__file__).resolve().parents[1]


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


async def dispatch(started: Started, body: str, headers: dict[str, str]) -> BoltResponse:
    return await started.app.async_dispatch(build_bolt_request(body, headers))


async def slash(started: Started, text: str, *, user_id: str = "U_EN") -> BoltResponse:
    body = slash_form(text, user_id=user_id)
    return await dispatch(started, body, signed_headers(body))


def reply_of(response: BoltResponse) -> dict[str, Any]:
    assert response.status == 200, response.body
    message: dict[str, Any] = json.loads(response.body)
    assert message["response_type"] == "ephemeral"
    assert isinstance(message["text"], str)
    assert message["text"]
    assert isinstance(message["blocks"], list)
    assert message["blocks"]
    return message


def title(message: dict[str, Any]) -> str:
    header = message["blocks"][0]
    assert header["type"] == "header"
    return str(header["text"]["text"])


@pytest.fixture(autouse=True)
def _outside_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ask` and `check` keep their delivery logs under the working directory's var/: a temporary one here."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def started(slack: SlackStandIn, tmp_path: Path) -> Iterator[Started]:
    slack.locales.update({"U_EN": "en-US", "U_JA": "ja-JP"})
    settings = load_settings(
        api_url=slack.api_url,
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        database_url=f"sqlite:///{tmp_path / 'g7bot.sqlite3'}",
    )
    yield start(settings)


def france(release: Release) -> Any:
    return next(b for b in release.bilaterals if b.id == "fr")


# --- HTTP mode through the App ------------------------------------------------------------------------------


def test_signed_slash_command_gets_an_ephemeral_answer(started: Started, release: Release) -> None:
    message = reply_of(asyncio.run(slash(started, "bilateral france")))
    fr = france(release)

    assert title(message) == msg("bilateral.title", "en", number=fr.number, organisation=fr.organisation("en"))
    blocks = json.dumps(message["blocks"], ensure_ascii=False)
    assert fr.counterpart.name("en") in blocks
    assert fr.counterpart.name("en") in message["text"]


@pytest.mark.parametrize(("user_id", "lang"), [("U_EN", "en"), ("U_JA", "ja")])
def test_users_locale_picks_the_language(started: Started, slack: SlackStandIn, user_id: str, lang: Lang) -> None:
    message = reply_of(asyncio.run(slash(started, "summary", user_id=user_id)))

    assert title(message) == msg("summary.title", lang)
    (call,) = slack.calls_to("users.info")
    assert call.args["user"] == user_id
    assert call.token == BOT_TOKEN


def test_locale_is_cached_per_user(started: Started, slack: SlackStandIn) -> None:
    async def run() -> list[BoltResponse]:
        return [
            await slash(started, "summary", user_id="U_EN"),
            await slash(started, "docs", user_id="U_EN"),
            await slash(started, "help", user_id="U_JA"),
        ]

    first, second, third = (reply_of(r) for r in asyncio.run(run()))

    assert title(first) == msg("summary.title", "en")
    assert title(second) == msg("docs.title", "en")
    assert title(third) == msg("help.title", "ja", command="/g7")
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U_EN", "U_JA"]


@pytest.mark.parametrize(("user_id", "text", "lang"), [("U_EN", "summary ja", "ja"), ("U_JA", "summary en", "en")])
def test_trailing_language_word_overrides_the_locale(started: Started, user_id: str, text: str, lang: Lang) -> None:
    message = reply_of(asyncio.run(slash(started, text, user_id=user_id)))
    assert title(message) == msg("summary.title", lang)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("users.info", status=500, times=5), id="500"),
        pytest.param(Fault("users.info", status=404, body={"ok": False, "error": "user_not_found"}), id="not-ok"),
        pytest.param(Fault("users.info", status=429, retry_after=30), id="rate-limited"),
        pytest.param(Fault("users.info", status=200, times=5, disconnect=True), id="disconnect"),
        pytest.param(Fault("users.info", status=200, delay=2.0), id="slow"),
    ],
)
def test_failed_locale_lookup_still_answers_in_the_default_language(
    started: Started, slack: SlackStandIn, fault: Fault
) -> None:
    slack.add_fault(fault)
    message = reply_of(asyncio.run(slash(started, "summary", user_id="U_EN")))
    assert title(message) == msg("summary.title", started.settings.default_lang)


@pytest.mark.parametrize(
    "text",
    [
        "payload",
        "bilateral france payload",
        "payload=1",
        "contact payload ai",
        'payload={"type":"block_actions"}',
    ],
)
def test_text_containing_payload_is_answered(started: Started, release: Release, text: str) -> None:
    """Bolt 1.30 takes any form body containing "payload" for an interactivity payload."""
    body = slash_form(text)
    assert "payload" in body
    request = build_bolt_request(body, signed_headers(body))
    assert request.body["text"] == text
    assert request.body["command"] == "/g7"

    message = reply_of(asyncio.run(started.app.async_dispatch(request)))
    if "france" in text:
        assert france(release).counterpart.name("en") in message["text"]
    elif "ai" in text.split():
        assert release.desk("ai-digital").email in message["text"]
    else:
        assert msg("unknown.command", "en", text="payload").split("“")[0] in message["text"]


@pytest.mark.parametrize(
    "body",
    ["payload=notjson", "payload=", "payload=null", "payload=%5B1%5D", "{notjson", "[1]"],
)
def test_unparseable_body_is_a_malformed_body_error(body: str) -> None:
    """Bolt parses before verifying: such bodies must not escape as JSONDecodeError or AttributeError."""
    with pytest.raises(MalformedBody):
        build_bolt_request(body, {"content-type": "application/json" if body == "[1]" else ""})


def test_interactivity_payload_is_parsed_by_bolt() -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []})})
    request = build_bolt_request(body, {"content-type": "application/x-www-form-urlencoded"})
    assert request.body["type"] == "block_actions"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: signed_headers(body, secret="wrong-secret"), id="wrong-secret"),
        pytest.param(lambda body: signed_headers(body + "&x=1"), id="other-body"),
        pytest.param(lambda body: signed_headers(body, timestamp=int(time.time()) - 600), id="stale"),
        pytest.param(lambda body: {"content-type": "application/x-www-form-urlencoded"}, id="unsigned"),
    ],
)
def test_bad_signature_is_rejected(started: Started, slack: SlackStandIn, headers: Any) -> None:
    body = slash_form("bilateral france")
    response = asyncio.run(dispatch(started, body, headers(body)))
    assert response.status == 401
    assert not slack.calls_to("users.info")


# --- the local path: g7bot ask / check ----------------------------------------------------------------------


def test_ask_prints_readable_text(capsys: pytest.CaptureFixture[str], release: Release) -> None:
    assert main(["ask", "bilateral", "france"]) == 0
    out = capsys.readouterr().out
    fr = france(release)

    lines = out.splitlines()
    assert lines[0] == msg("bilateral.title", "ja", number=fr.number, organisation=fr.organisation("ja"))
    assert set(lines[1]) == {"="}
    assert fr.counterpart.name("ja") in out
    assert fr.summary("ja") in out
    assert "*" not in out
    assert not out.lstrip().startswith("{")


def test_ask_in_english(capsys: pytest.CaptureFixture[str], release: Release) -> None:
    assert main(["ask", "contact", "ai", "en"]) == 0
    out = capsys.readouterr().out
    assert release.desk("ai-digital").email in out.splitlines()
    assert msg("contact.title", "en") == out.splitlines()[0]


def test_ask_json_prints_the_slack_payload(capsys: pytest.CaptureFixture[str], release: Release) -> None:
    assert main(["ask", "--json", "bilateral", "france"]) == 0
    message = json.loads(capsys.readouterr().out)

    assert message["response_type"] == "ephemeral"
    assert message["blocks"][0]["type"] == "header"
    assert france(release).counterpart.name("ja") in json.dumps(message["blocks"], ensure_ascii=False)
    assert message["text"]


def test_ask_makes_no_slack_calls_even_with_tokens_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, slack: SlackStandIn
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    assert main(["ask", "summary"]) == 0
    assert msg("summary.title", "ja") in capsys.readouterr().out
    assert slack.calls == []


def test_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "manifest.yml" in out
    assert "release.yml" in out


@pytest.fixture
def broken_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "manifest.yml"
    shutil.copy(ROOT / "manifest.yml", path)
    text = path.read_text(encoding="utf-8")
    assert "display_name: g7bot" in text
    path.write_text(text.replace("display_name: g7bot", "display_name: G7 Bot"), encoding="utf-8")
    monkeypatch.setenv("G7BOT_MANIFEST", str(path))
    return path


def test_check_fails_with_file_and_field_on_a_broken_manifest(
    broken_manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == EXIT_CONFIG == 78
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "display_name" in line]
    assert str(broken_manifest) in line
    assert "features.bot_user.display_name" in line
    assert "G7 Bot" in line


def test_ask_refuses_to_start_on_a_broken_manifest(broken_manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "summary"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert str(broken_manifest) in err
    assert "features.bot_user.display_name" in err


def slash_form(text: str, *, user_id: str = "U_EN", command: str = "/g7") -> str:
    return _slash_form(text, user_id=user_id, command=command)


def test_a_failure_outside_the_guard_is_logged_with_a_reference_and_answers_500(
    started: Started, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("locale store exploded")

    monkeypatch.setattr(started.runtime.locales, "lang_for", broken)
    response = asyncio.run(slash(started, "summary"))

    assert (response.status, response.body) == (500, "")
    (record,) = [r for r in caplog.records if r.getMessage().startswith("unhandled error (ref ")]
    assert record.exc_info is not None and "locale store exploded" in str(record.exc_info[1])
    assert "summary" not in record.getMessage()  # the kind of request, not what was typed
