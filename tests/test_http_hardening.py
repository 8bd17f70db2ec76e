"""`serve` over HTTP under hostile input: a flood of badly signed bodies, and DEBUG logs that must keep secrets."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from bot.transports.http import RejectionLog
from tests.helpers import child_env, free_port
from tests.slack_standin import SlackStandIn
from tests.test_http_e2e import BOT_TOKEN, ROOT, SECRET, Server, signed, slash_form, stop, wait_until_healthy

FLOOD = 1000
BODY_SIZE = 1000 * 1000
MARKER = "FLOODMARKER"


@contextmanager
def serving(tmp_path: Path, slack: SlackStandIn, **env: str) -> Iterator[Server]:
    log = tmp_path / "stderr.log"
    with log.open("wb") as err:
        host, port = "127.0.0.1", free_port()
        values = child_env(
            HOST=host,
            PORT=str(port),
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_API_URL=slack.api_url,
            G7BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'g7bot.sqlite3'}",
            **env,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=values, stdout=subprocess.DEVNULL, stderr=err
        )
        server = Server(host=host, port=port, process=process, log=log, slack=slack)
        try:
            wait_until_healthy(server)
            yield server
        finally:
            stop(process)


def test_a_flood_of_badly_signed_megabyte_bodies_leaves_a_few_log_lines(tmp_path: Path, slack: SlackStandIn) -> None:
    body = urlencode({"command": "/g7", "text": MARKER + "\nERROR forged line " + "x" * BODY_SIZE}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    with serving(tmp_path, slack) as server:
        before = server.log.stat().st_size
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        statuses = set()
        try:
            for _ in range(FLOOD):
                conn.request("POST", "/slack/events", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                statuses.add(response.status)
        finally:
            conn.close()
        during = server.log.stat().st_size - before
    log = server.stderr()

    assert statuses == {401}
    assert during < 2000, f"the log grew by {during} bytes during the flood"
    assert MARKER not in log
    assert "forged line" not in log
    refusals = [line for line in log.splitlines() if "refused" in line]
    assert 1 <= len(refusals) <= 4, refusals
    # The first refusal of each 10 s has its own line; every other one is counted in a summary (at the latest on stop).
    firsts = [line for line in refusals if "refused a " in line]
    counted = sum(int(m.group(1)) for line in refusals if (m := re.search(r"refused (\d+) more", line)))
    assert counted + len(firsts) == FLOOD, refusals
    assert "Traceback" not in log


def test_no_secret_reaches_the_log_at_debug(tmp_path: Path, slack: SlackStandIn) -> None:
    with serving(tmp_path, slack, G7BOT_LOG_LEVEL="DEBUG") as server:
        for text in ("help", "bilateral france", "summary en\nERROR forged"):
            body = slash_form(text)
            status, _, _ = server.request("POST", "/slack/events", body, signed(body))
            assert status == 200
        body = slash_form("help")
        assert server.request("POST", "/slack/events", body, signed(body, secret="wrong"))[0] == 401
        press = {
            "type": "block_actions",
            "team": {"id": "T0LOCAL"},
            "user": {"id": "U_E2E"},
            "api_app_id": "A0LOCAL",
            "container": {"type": "message", "channel_id": "C1", "message_ts": "1.0"},
            "actions": [
                {"action_id": "g7_followup_done", "block_id": "b", "value": "x\nERROR forged", "type": "button"}
            ],
        }
        form = urlencode({"payload": json.dumps(press)}).encode()
        assert server.request("POST", "/slack/events", form, signed(form))[0] == 200
        assert server.request("GET", "/readyz")[0] == 200
        deadline = time.monotonic() + 5
        while "ignored" not in server.stderr() and time.monotonic() < deadline:
            # The press is handled after the ack: wait for its log line, bounded (doubles as the pause).
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=0.05)
    log = server.stderr()

    assert "DEBUG" in log
    assert SECRET not in log
    assert BOT_TOKEN not in log
    assert BOT_TOKEN.removeprefix("xoxb-") not in log
    # What users typed never starts a line of its own.
    assert not [line for line in log.splitlines() if line.startswith("ERROR forged")]


def test_rejections_are_summarised_per_interval() -> None:
    now = [0.0]
    log = RejectionLog(interval=10.0, clock=lambda: now[0])
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("bot.transports.http")
    handler = Keep()
    logger.addHandler(handler)
    try:
        for second in range(30):
            now[0] = float(second)
            for _ in range(100):
                log.reject(401, "bad signature", size=10, path="/slack/events")
        log.flush()
    finally:
        logger.removeHandler(handler)

    assert len(records) == 6  # per 10 s: the first refusal, then one summary
    assert sum(int(m.group(1)) for r in records if (m := re.search(r"refused (\d+) more", r))) == 3000 - 3


def test_bytes_that_are_not_http_are_counted_not_logged_one_by_one(tmp_path: Path, slack: SlackStandIn) -> None:
    garbage = [b"GARBAGE\x00\r\n\r\n", b"POST /slack/events HTTP/1.1\r\nHost: x\r\nBad\x01Header: y\r\n\r\n"]
    with serving(tmp_path, slack) as server:
        for i in range(200):
            with socket.create_connection((server.host, server.port), timeout=5) as conn:
                conn.sendall(garbage[i % 2] + MARKER.encode())
                assert conn.recv(100).startswith(b"HTTP/1.1 400")
    log = server.stderr()
    assert "Invalid HTTP request" not in log
    assert MARKER not in log
    refusals = [line for line in log.splitlines() if "refused" in line]
    firsts = [line for line in refusals if "refused a " in line]
    counted = sum(int(m.group(1)) for line in refusals if (m := re.search(r"refused (\d+) more", line)))
    assert counted + len(firsts) == 200, refusals
    assert len(refusals) <= 4, refusals
