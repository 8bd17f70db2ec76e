"""End to end over HTTP: `python -m bot serve` in a subprocess, real signed requests, the Slack stand-in."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.messages import msg
from bot.release.models import Release
from tests.helpers import child_env, free_port
from tests.helpers import slash_form as _slash_form
from tests.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parents[1]
SECRET = "e2e-signing-secret-0123456789"
BOT_TOKEN = "xoxb-e2e-0000-secret"
READY_WITHIN = 20.0
STOP_WITHIN = 10.0


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    slack: SlackStandIn

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def wait_until_healthy(server: Server) -> None:
    """Poll GET /healthz until it answers 200, failing early if the process dies; bounded in total."""
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        try:
            status, _, _ = server.request("GET", "/healthz")
        except OSError:
            status = None
        if status == 200:
            return
        try:
            code = server.process.wait(timeout=0.05)  # doubles as the pause between polls
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"g7bot serve exited with {code} before it was ready:\n{server.stderr()}")
    pytest.fail(f"g7bot serve was not healthy within {READY_WITHIN:.0f} s:\n{server.stderr()}")


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL if it has not stopped in time; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=STOP_WITHIN)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    with SlackStandIn() as slack, log.open("wb") as err:
        host, port = "127.0.0.1", free_port()
        env = child_env(
            HOST=host,
            PORT=str(port),
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_API_URL=slack.api_url,
            G7BOT_DATABASE_URL=f"sqlite:///{log.parent / 'g7bot.sqlite3'}",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        srv = Server(host=host, port=port, process=process, log=log, slack=slack)
        try:
            wait_until_healthy(srv)
            yield srv
        finally:
            code = stop(process)
        # uvicorn shuts down cleanly on SIGTERM, then re-raises the signal: -15 is a clean stop here.
        assert code in (0, -signal.SIGTERM), f"g7bot serve exited with {code}:\n{srv.stderr()}"


def signed(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


def post_command(server: Server, text: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    body = slash_form(text)
    return server.request("POST", "/slack/events", body, signed(body, **kwargs))


def reply(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    message: dict[str, Any] = json.loads(body)
    assert message["response_type"] == "ephemeral"
    assert message["text"]
    assert message["blocks"]
    assert message["blocks"][0]["type"] == "header"
    return message


def test_healthz(server: Server) -> None:
    status, headers, body = server.request("GET", "/healthz")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"status": "ok"}


def test_bilateral_france(server: Server, release: Release) -> None:
    message = reply(*post_command(server, "bilateral france"))
    fr = next(b for b in release.bilaterals if b.id == "fr")
    # The stand-in gives unknown users the ja-JP locale.
    assert message["blocks"][0]["text"]["text"] == msg(
        "bilateral.title", "ja", number=fr.number, organisation=fr.organisation("ja")
    )
    assert fr.counterpart.name("ja") in json.dumps(message["blocks"], ensure_ascii=False)
    assert any(c.args.get("user") == "U_E2E" for c in server.slack.calls_to("users.info"))


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        pytest.param("payload", "「payload」", id="payload-alone"),
        pytest.param("bilateral france payload", "アン・ル=エナンフ", id="payload-after-query"),
        pytest.param("payload=x&payload=y", "payload", id="payload-as-form"),
    ],
)
def test_text_with_payload_gets_a_helpful_reply(server: Server, text: str, expect: str) -> None:
    message = reply(*post_command(server, text))
    assert expect in message["text"]


def test_text_of_4000_characters(server: Server) -> None:
    message = reply(*post_command(server, "bilateral " + "ｆ" * 3990))
    assert len(message["blocks"]) <= 50


def test_bad_signature(server: Server) -> None:
    status, _, _ = post_command(server, "bilateral france", secret="not-the-secret")
    assert status == 401


def test_missing_signature_headers(server: Server) -> None:
    body = slash_form("bilateral france")
    status, _, _ = server.request("POST", "/slack/events", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401


def test_stale_timestamp(server: Server) -> None:
    status, _, _ = post_command(server, "bilateral france", timestamp=int(time.time()) - 6 * 60)
    assert status == 401


def test_body_changed_after_signing(server: Server) -> None:
    body = slash_form("help")
    headers = signed(body)
    status, _, _ = server.request("POST", "/slack/events", body.replace(b"help", b"docs"), headers)
    assert status == 401


def test_get_on_the_events_path_is_405(server: Server) -> None:
    status, headers, _ = server.request("GET", "/slack/events")
    assert status == 405
    assert headers["allow"] == "POST"


@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("GET", "/nope"), ("POST", "/slack/event")])
def test_unknown_path_is_404(server: Server, method: str, path: str) -> None:
    status, _, _ = server.request(method, path, b"" if method == "POST" else None)
    assert status == 404


def test_oversized_body_is_413(server: Server) -> None:
    body = slash_form("x" * (1024 * 1024 + 1))
    status, _, _ = server.request("POST", "/slack/events", body, signed(body))
    assert status == 413


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"payload=notjson", "application/x-www-form-urlencoded", id="payload-not-json"),
        pytest.param(b"payload=null", "application/x-www-form-urlencoded", id="payload-null"),
        pytest.param(b"{notjson", "application/x-www-form-urlencoded", id="brace-not-json"),
        pytest.param(b"[1, 2]", "application/json", id="json-array"),
        pytest.param(b"null", "application/json", id="json-null"),
    ],
)
def test_unparseable_body_is_refused_not_a_crash(server: Server, body: bytes, content_type: str) -> None:
    # Unsigned, it is refused before anything parses it; signed (only Slack could), it is a 400.
    status, _, _ = server.request("POST", "/slack/events", body, {"Content-Type": content_type})
    assert status == 401
    status, _, _ = server.request("POST", "/slack/events", body, {**signed(body), "Content-Type": content_type})
    assert status == 400
    status, _, _ = server.request("GET", "/healthz")
    assert status == 200


def _headers(timestamp: str | None, signature: str | None) -> dict[str, Any]:
    headers: dict[str, Any] = {"Content-Type": "application/x-www-form-urlencoded"}
    if timestamp is not None:
        # As UTF-8 bytes: http.client would refuse a non-Latin-1 str, a raw client sends anything.
        headers["X-Slack-Request-Timestamp"] = timestamp.encode()
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    return headers


def _good_signature(body: bytes, timestamp: str) -> str:
    return SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        pytest.param("abc", "v0=" + "0" * 64, id="timestamp-not-a-number"),
        pytest.param("9" * 40, "v0=" + "0" * 64, id="timestamp-huge"),
        pytest.param("-1", "v0=" + "0" * 64, id="timestamp-negative"),
        pytest.param("1e9", "v0=" + "0" * 64, id="timestamp-float"),
        pytest.param("１７００００００００", "v0=" + "0" * 64, id="timestamp-full-width-digits"),
        pytest.param("now", None, id="signature-missing"),
        pytest.param(None, "good", id="timestamp-missing"),
        pytest.param("now", "", id="signature-empty"),
        pytest.param("now", "v1=" + "0" * 64, id="signature-other-version"),
        pytest.param("now", "v0=xyz", id="signature-not-hex"),
        pytest.param("now", "v0=" + "0" * 6400, id="signature-huge"),
        pytest.param("now", "good-uppercase", id="signature-upper-case-hex"),
    ],
)
def test_malformed_slack_headers_get_401(server: Server, timestamp: str | None, signature: str | None) -> None:
    body = slash_form("help")
    ts = str(int(time.time())) if timestamp == "now" or timestamp is None else timestamp
    if signature == "good":
        signature = _good_signature(body, ts)
    elif signature == "good-uppercase":
        signature = "v0=" + _good_signature(body, ts).removeprefix("v0=").upper()
    status, _, response = server.request("POST", "/slack/events", body, _headers(timestamp and ts, signature))
    assert status == 401, response


def test_readyz_is_ready_with_database_token_and_scheduler(server: Server) -> None:
    status, headers, body = server.request("GET", "/readyz")
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    report = json.loads(body)
    assert report["status"] == "ready"
    assert report["checks"] == {"database": "ok", "slack_token": "ok", "scheduler": "ok"}


def test_log_warns_about_the_socket_mode_mismatch_and_keeps_secrets(server: Server) -> None:
    # manifest.yml says socket_mode_enabled: true, and this server has no SLACK_APP_TOKEN.
    log = server.stderr()
    (warning,) = [line for line in log.splitlines() if "socket_mode_enabled" in line]
    assert "WARNING" in warning
    assert "SLACK_APP_TOKEN" in warning
    assert SECRET not in log
    assert BOT_TOKEN not in log
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log
    # Refused requests are summarised; none of their bodies reaches the log.
    assert "command=%2Fg7" not in log
    assert "notjson" not in log


def slash_form(text: str, *, user_id: str = "U_E2E") -> bytes:
    return _slash_form(text, user_id=user_id).encode()
