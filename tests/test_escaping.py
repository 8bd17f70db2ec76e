"""Slash text arrives escaped by Slack: unescaped once on input, escaped once in every echo, never live markup."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks import build_message, plain
from bot.commands import answer, parse
from bot.errors import UserError
from bot.release.lookup import ReleaseLookup
from bot.reply import Reply
from bot.settings import load_settings
from bot.startup import start
from bot.text import escape, unescape_slack
from bot.transports import local
from tests.conftest import NOW
from tests.helpers import text_of

# What Slack itself puts in slash text (the manifest sets should_escape): mentions, channels, links.
SLACK_MARKUP = [
    "<@U0123ABCD|sato>",
    "<@U0123ABCD>",
    "<#C0123456789|general>",
    "<!subteam^S0123|@desk>",
    "<https://evil.example/x|click me>",
    "<mailto:a@example.invalid|a@example.invalid>",
]
# What a user may type, before Slack escapes it: attempts at markup, entities, plain words.
TYPED = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0123ABCD>",
    "<https://evil.example>",
    "&amp;",
    "&lt;",
    "R&D",
    "a>b",
]
COMMANDS = ["", "bilateral ", "contact ", "followups ", "zzz", "bilateral france ", "summary "]


class _Digests:
    """Enough of the scheduler for `admin digest-now`: no channel is configured."""

    def request_digest(self, channel: str | None, now: Any, **audit: Any) -> list[str]:
        return []


def reply_to(slack_text: str, lookup: ReleaseLookup, *, is_admin: bool = False) -> Reply:
    services = _Digests() if slack_text.startswith("admin") else None  # followups reads the files without
    try:
        return answer(slack_text, lookup=lookup, lang="en", now=NOW, is_admin=is_admin, services=services)
    except UserError as exc:  # shown to the user verbatim, so it counts as an echo too
        return Reply(title="error", sections=[], footer=[str(exc)])


def mrkdwn_of(message: dict[str, Any]) -> list[str]:
    """Every text Slack reads as mrkdwn (and the fallback `text`); the plain-text header is never markup."""
    found = [str(message["text"])]
    for block in message["blocks"]:
        if block["type"] == "section":
            found += [block["text"]["text"]] if "text" in block else []
            found += [f["text"] for f in block.get("fields", [])]
        elif block["type"] == "context":
            found += [e["text"] for e in block["elements"]]
    return found


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param("R&amp;D", "R&D", id="ampersand"),
        pytest.param("&lt;!channel&gt;", "<!channel>", id="angle-brackets"),
        pytest.param("&amp;lt;", "&lt;", id="typed-an-entity-undone-once"),
        pytest.param("&amp;amp;", "&amp;", id="typed-amp-entity-undone-once"),
        pytest.param("<@U0123ABCD|sato>", "<@U0123ABCD|sato>", id="slack-markup-kept"),
        pytest.param("&quot;x&#39;", "&quot;x&#39;", id="other-entities-are-not-slacks"),
    ],
)
def test_unescape_slack_once(sent: str, expected: str) -> None:
    assert unescape_slack(sent) == expected


@pytest.mark.parametrize(
    ("command", "typed"),
    [
        pytest.param("zzz", "R&D", id="unknown-command"),
        pytest.param("bilateral ", "R&D x", id="bilateral-not-found"),
        pytest.param("contact ", "R&D x", id="contact-unknown"),
        pytest.param("followups ", "R&D x", id="followups-no-match"),
        pytest.param("admin digest-now ", "R&D", id="admin-bad-channel"),
        pytest.param("bilateral ", "&lt;!here&gt;", id="typed-entities-shown-as-typed"),
    ],
)
def test_what_the_user_typed_is_echoed_escaped_once(lookup: ReleaseLookup, command: str, typed: str) -> None:
    # The fault: `&amp;` that Slack sent for a typed `&` was escaped again and shown as `&amp;`.
    reply = reply_to(escape(command + typed), lookup, is_admin=True)
    text = text_of(reply)
    assert escape(typed) in text
    assert escape(escape(typed)) not in text
    assert typed in plain(text)


def test_slack_text_through_the_app_is_echoed_escaped_once() -> None:
    # The whole path: the listener, the reply cache, answer(), build_message().
    started = start(load_settings(signing_secret="test-signing-secret"))
    sent = "bilateral R&amp;D &lt;!channel&gt; <@U0123ABCD|sato> en"
    message = asyncio.run(local.ask(started.app, started.runtime.command, sent, user_id="U0ESCAPE"))
    shown = "\n".join(mrkdwn_of(message))
    assert "R&amp;D &amp;lt;!channel&amp;gt; &amp;lt;@U0123ABCD|sato&amp;gt;" not in shown  # escaped twice: before
    assert "R&amp;D &lt;!channel&gt; &lt;@U0123ABCD|sato&gt;" in shown
    assert "<" not in shown


def test_parse_reads_the_unescaped_words() -> None:
    assert parse("bilateral R&amp;D en") == (["bilateral", "r&d"], "en")


def test_a_channel_slack_linked_is_read_by_admin_digest_now(lookup: ReleaseLookup) -> None:
    reply = reply_to("admin digest-now <#C0123456789|general>", lookup, is_admin=True)
    assert reply.title != "error", reply


@st.composite
def slash_texts(draw: st.DrawFn) -> str:
    """Slash text as Slack sends it: what the user typed escaped, and Slack's own markup raw."""
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(TYPED).map(escape),
                st.sampled_from(SLACK_MARKUP),
                st.text(alphabet="ab &<>!@#|:/^ふ", max_size=10).map(escape),
            ),
            min_size=1,
            max_size=8,
        )
    )
    return draw(st.sampled_from(COMMANDS)) + " ".join(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slack_text=slash_texts(), is_admin=st.booleans())
def test_no_echo_is_ever_a_mention_broadcast_or_link(lookup: ReleaseLookup, slack_text: str, is_admin: bool) -> None:
    message = build_message(reply_to(slack_text, lookup, is_admin=is_admin))
    for text in mrkdwn_of(message):
        # The replies these commands give contain no markup of their own, so any `<` came from the user.
        assert "<" not in text, text
        assert ">" not in text, text
        assert not re.search(r"&(?!(?:amp|lt|gt);)", text), text  # every & is one of Slack's escapes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slack_text=slash_texts())
def test_admin_digest_now_never_echoes_markup(lookup: ReleaseLookup, slack_text: str) -> None:
    message = build_message(reply_to("admin digest-now " + slack_text, lookup, is_admin=True))
    for text in mrkdwn_of(message):
        assert "<" not in text, text
