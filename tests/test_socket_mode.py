"""Socket Mode end to end: `python -m bot serve` with an app token connects to the stand-in, acks commands."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.messages import msg
from bot.release.models import Release
from tests.helpers import child_env, slash_payload
from tests.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parents[1]
APP_TOKEN = "xapp-1-A0LOCAL-1-socket-secret"
BOT_TOKEN = "xoxb-socket-0000-secret"
CONNECT_WITHIN = 20.0
ACK_WITHIN = 10.0
STOP_WITHIN = 10.0


@dataclass
class Bot:
    process: subprocess.Popen[bytes]
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def bot(slack: SlackStandIn, tmp_path: Path) -> Iterator[Bot]:
    slack.locales.update({"U_EN": "en-US", "U_JA": "ja-JP"})
    log = tmp_path / "stderr.log"
    env = child_env(
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack.api_url,
        G7BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        running = Bot(process=process, log=log)
        try:
            if not slack.ws_connected.wait(CONNECT_WITHIN):
                pytest.fail(
                    f"no Socket Mode connection within {CONNECT_WITHIN:.0f} s "
                    f"(exit code {process.poll()}):\n{running.stderr()}"
                )
            yield running
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_WITHIN)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=STOP_WITHIN)
    # Socket Mode installs its own SIGTERM handler: it closes the connection and exits 0.
    assert process.returncode == 0, running.stderr()


def envelope(envelope_id: str, text: str, *, user_id: str) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": slash_payload(text, user_id=user_id),
    }


def send(slack: SlackStandIn, bot: Bot, envelope_id: str, text: str, *, user_id: str) -> dict[str, Any]:
    """Push one slash command envelope and return the ack for it."""
    slack.ack_received.clear()
    slack.push_envelope(envelope(envelope_id, text, user_id=user_id))
    if not slack.ack_received.wait(ACK_WITHIN):
        pytest.fail(f"no ack within {ACK_WITHIN:.0f} s:\n{bot.stderr()}")
    acks = [a for a in slack.acks if a.get("envelope_id") == envelope_id]
    assert len(acks) == 1, slack.acks
    return acks[0]


def test_slash_command_over_socket_mode(slack: SlackStandIn, bot: Bot, release: Release) -> None:
    ack = send(slack, bot, "env-france-1", "bilateral france", user_id="U_EN")
    fr = next(b for b in release.bilaterals if b.id == "fr")

    payload = ack["payload"]
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": msg("bilateral.title", "en", number=fr.number, organisation=fr.organisation("en")),
        },
    }
    blocks = json.dumps(payload["blocks"], ensure_ascii=False)
    assert fr.counterpart.name("en") in blocks
    assert fr.summary("en") in blocks
    assert fr.counterpart.name("en") in payload["text"]

    (connect,) = slack.calls_to("apps.connections.open")
    assert connect.token == APP_TOKEN
    assert [c.token for c in slack.calls_to("users.info")] == [BOT_TOKEN]


def test_several_commands_on_one_connection(slack: SlackStandIn, bot: Bot, release: Release) -> None:
    ja = send(slack, bot, "env-ja", "summary", user_id="U_JA")
    en = send(slack, bot, "env-en", "summary", user_id="U_EN")
    override = send(slack, bot, "env-override", "contact ai en", user_id="U_JA")
    payload = send(slack, bot, "env-payload", "payload", user_id="U_EN")

    assert ja["payload"]["blocks"][0]["text"]["text"] == msg("summary.title", "ja")
    assert en["payload"]["blocks"][0]["text"]["text"] == msg("summary.title", "en")
    assert release.desk("ai-digital").email in override["payload"]["text"]
    assert override["payload"]["blocks"][0]["text"]["text"] == msg("contact.title", "en")
    assert "payload" in payload["payload"]["text"]
    assert len(slack.calls_to("apps.connections.open")) == 1


def test_log_is_clean(slack: SlackStandIn, bot: Bot) -> None:
    send(slack, bot, "env-help", "help", user_id="U_EN")
    log = bot.stderr()
    assert "connected to Slack in Socket Mode" in log
    # manifest.yml says Socket Mode and the app token is set: nothing to warn about.
    assert "socket_mode_enabled" not in log
    assert APP_TOKEN not in log
    assert BOT_TOKEN not in log
    assert "Traceback" not in log
