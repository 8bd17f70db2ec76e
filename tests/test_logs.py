"""Logs carry user text escaped onto one line, and Bolt never logs a refused request's body."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.startup import Started
from bot.text import log_safe
from tests.signed_app import TOKYO, dispatch, press_body, signed_headers, slash_body, start_http_mode
from tests.slack_standin import SlackStandIn

FORGED = "ok\n2026-12-04 00:00:00,000 ERROR bot: forged line"


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        pytest.param("plain text", "plain text", id="plain"),
        pytest.param("a\nb", "a\\nb", id="newline"),
        pytest.param("a\r\nb", "a\\r\\nb", id="crlf"),
        pytest.param("tab\there", "tab\\there", id="tab"),
        pytest.param("\x1b[31mred", "\\u001b[31mred", id="terminal-escape"),
        pytest.param("line\u2028sep", "line\\u2028sep", id="unicode-line-separator"),
        pytest.param("rtl\u202eevil", "rtl\\u202eevil", id="bidi-override"),
        pytest.param("back\\slash", "back\\\\slash", id="backslash-doubled"),
        pytest.param("フランス", "フランス", id="japanese-kept"),
    ],
)
def test_log_safe_escapes_onto_one_line(text: str, logged: str) -> None:
    assert log_safe(text) == logged


def test_log_safe_shortens_and_says_by_how_much() -> None:
    assert log_safe("x" * 250, limit=200) == "x" * 200 + "…(+50 chars)"


@pytest.fixture
def started(tmp_path: Path, slack: SlackStandIn) -> Started:
    return start_http_mode(tmp_path, slack.api_url)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_a_pressed_value_with_a_newline_stays_on_one_line(started: Started, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = press_body("g7_followup_done", commitment_id=FORGED, channel=TOKYO, ts="1.0")
    asyncio.run(dispatch(started, body))
    messages = _lines(caplog)
    assert any("unknown commitment" in m and "ok\\n2026" in m for m in messages)
    assert not [m for m in messages if "\n" in m and "forged" in m]


def test_bolt_never_logs_the_body_of_a_badly_signed_request(started: Started, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = slash_body("help " + FORGED)
    headers = {**signed_headers(body), "x-slack-signature": "v0=" + "0" * 64}
    response = asyncio.run(dispatch(started, body, headers))
    assert response.status == 401
    messages = _lines(caplog)
    assert any("Invalid request signature" in m for m in messages)
    assert not [m for m in messages if "forged" in m or "command=" in m]


def test_bolts_unhandled_request_line_is_escaped(started: Started, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    event = {
        "type": "event_callback",
        "team_id": "T0LOCAL",
        "api_app_id": "A0LOCAL",
        "event_id": "Ev1",
        "event": {"type": "app_mention", "user": "U1", "text": FORGED, "channel": "C1", "ts": "1.0"},
    }
    body = json.dumps(event)
    headers = {**signed_headers(body), "content-type": "application/json"}
    response = asyncio.run(dispatch(started, body, headers))
    assert response.status == 404
    messages = _lines(caplog)
    (unhandled,) = [m for m in messages if "Unhandled request" in m]
    assert "\n" not in unhandled  # Bolt's multi-line suggestion, kept on one line
    assert not [m for m in messages if "\n" in m and "forged" in m]


def test_a_refused_workspace_is_logged_on_one_line(started: Started, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = urlencode({**dict(_form(slash_body("help"))), "team_id": "T0\nERROR forged"})
    asyncio.run(dispatch(started, body))
    (line,) = [m for m in _lines(caplog) if "refused a request from workspace" in m]
    assert "\n" not in line and "T0\\nERROR forged" in line


def _form(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, keep_blank_values=True)
