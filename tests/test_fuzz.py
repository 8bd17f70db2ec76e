"""Property tests: whatever a user types after /g7, the App answers 200 with blocks and echoes no markup."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from bot.blocks import MAX_BLOCKS
from bot.messages import msg
from bot.schedule.owners import load_owners
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from bot.transports import local
from bot.transports.http import build_bolt_request

SECRET = "fuzz-signing-secret"
USER = "UFUZZ"

# "<" opens a mention, a broadcast or a link in mrkdwn. The only ones the bot may send are channel
# references it builds itself from configuration (admin replies); nothing a user typed.
_MARKUP = re.compile(r"<(?!#[CGD][A-Z0-9]{8,}[|>])")

SPECIAL = [
    "payload",
    "payload=",
    "payload={}",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0123>",
    "<@U123>",
    "<@W123|someone>",
    "<#C0123456789>",
    "<https://evil.example|click>",
    "<mailto:a@b.c|x>",
    "&",
    "&lt;",
    "&amp;lt;!channel&amp;gt;",
    "<",
    ">",
    "*",
    "`",
    "_",
    "~",
    "```",
    "bilateral",
    "contact",
    "summary",
    "outcomes",
    "docs",
    "help",
    "followups",
    "admin",
    "bilatral",
    "france",
    "ﾌﾗﾝｽ",
    "ＦＲＡＮＣＥ",
    "カナダ",
    "ai",
    "ＡＩ",
    "出張",
    "en",
    "ja",
    "日本語",
    "English",
    "🇫🇷",
    "👍🏽",
    "🤖",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\t",
    "　",
]

words = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=24))
phrases = st.lists(words, max_size=12).flatmap(
    lambda ws: st.sampled_from([" ", "", "\n", "　"]).map(lambda sep: sep.join(ws))
)
long_texts = st.builds(
    lambda head, unit, n: (head + " " + unit * n)[:4000],
    st.sampled_from(SPECIAL),
    st.text(min_size=1, max_size=4),
    st.integers(min_value=500, max_value=4000),
)
texts = st.one_of(phrases, st.text(max_size=4000), long_texts)


@pytest.fixture(scope="module")
def started() -> Iterator[Started]:
    # Module scope runs before the autouse env-cleaning fixture: clear the environment here too.
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("SLACK_", "G7BOT_")) or name in {"PORT", "HOST"}:
                mp.delenv(name)
        # A signing secret for HTTP mode; no bot token, so no Web API call is ever attempted.
        yield start(load_settings(signing_secret=SECRET))


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as r:
        yield r


# Slack gives every request a trigger id of its own; identical bodies in one second are a replay (refused).
_TRIGGERS = itertools.count(1)


def http_form(text: str) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": local.LOCAL_TEAM,
            "channel_id": "C0FUZZ",
            "user_id": USER,
            "user_name": "fuzz",
            "command": "/g7",
            "text": text,
            "api_app_id": "A0FUZZ",
            "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": f"1.2.{next(_TRIGGERS)}",
        }
    )


async def over_http(started: Started, text: str) -> dict[str, Any]:
    body = http_form(text)
    ts = str(int(time.time()))
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }
    request = build_bolt_request(body, headers)
    assert request.body.get("text") == text, "the form must reach Bolt intact"
    response = await started.app.async_dispatch(request)
    assert response.status == 200, response.body
    message: dict[str, Any] = json.loads(response.body)
    return message


# data/owners.yml's people, as /g7 followups shows them with each desk: the only mentions a reply may hold.
OWNER_MENTIONS = {m for entry in load_owners(ROOT / "data" / "owners.yml").owners for m in entry.mentions()}


def check(message: dict[str, Any]) -> None:
    assert message["response_type"] == "ephemeral"
    assert isinstance(message["text"], str)
    assert message["text"].strip()
    blocks = message["blocks"]
    assert 1 < len(blocks) <= MAX_BLOCKS
    assert blocks[0]["type"] == "header"
    serialized = json.dumps(message, ensure_ascii=False)
    # Never <!channel>, <!here>, <@…> or anything the text typed could have produced; only the owners.
    for mention in OWNER_MENTIONS:
        serialized = serialized.replace(mention, "")
    assert "<!" not in serialized
    assert "<@" not in serialized
    # A helpful reply, not the apology the guard gives for a bug.
    for lang in ("ja", "en"):
        assert msg("error.bug", lang, ref="").split("`")[0] not in message["text"]
    assert _MARKUP.search(serialized) is None, serialized[:2000]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
@example(text="payload")
@example(text="bilateral <!channel> <@U123> <https://evil|x>")
@example(text="<!channel>")
@example(text="&lt;!channel&gt;")
@example(text="bilateral " + "ﾌ" * 3990)
@example(text="")
@example(text="\x00")
@example(text="payload=%7B%7D")
def test_any_text_is_answered_safely_over_both_transports(started: Started, runner: asyncio.Runner, text: str) -> None:
    via_socket = runner.run(local.ask(started.app, started.runtime.command, text, user_id=USER))
    via_http = runner.run(over_http(started, text))

    check(via_socket)
    check(via_http)
    assert via_socket == via_http
