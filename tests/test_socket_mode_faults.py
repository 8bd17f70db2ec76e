"""Socket Mode under faults: `g7bot serve` against disconnects, drops, silence, refusals and signals."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from bot.messages import msg
from bot.transports.socket_mode import backoff_delay, redact
from tests.helpers import child_env, free_port
from tests.slack_standin import Fault, SlackStandIn
from tests.test_socket_mode import APP_TOKEN, BOT_TOKEN, envelope

ROOT = Path(__file__).resolve().parents[1]
CONNECT_WITHIN = 20.0
ACK_WITHIN = 10.0
# The promise: serve stops "within a few seconds" in every state.
STOP_WITHIN = 5.0
# Small enough that backoff and the watchdog act within a test, large enough for a loaded machine.
FAST = {
    "G7BOT_SOCKET_BACKOFF_SECONDS": "0.1",
    "G7BOT_SOCKET_BACKOFF_MAX_SECONDS": "0.4",
    "G7BOT_SOCKET_PING_SECONDS": "0.5",
}


class Child:
    """`python -m bot serve` with its stderr read line by line, so a test can wait for a log line."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="child-stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stream: IO[bytes] | None = self.process.stderr
        assert stream is not None
        for raw in stream:
            with self._changed:
                self.lines.append(raw.decode("utf-8", errors="replace"))
                self._changed.notify_all()

    def log(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def count(self, pattern: str) -> int:
        with self._changed:
            return sum(1 for line in self.lines if re.search(pattern, line))

    def wait_for(self, pattern: str, *, count: int = 1, timeout: float = CONNECT_WITHIN) -> None:
        with self._changed:
            found = self._changed.wait_for(
                lambda: (
                    sum(1 for line in self.lines if re.search(pattern, line)) >= count
                    or self.process.poll() is not None
                ),
                timeout,
            )
        if not found or self.count(pattern) < count:
            pytest.fail(f"no {count}× /{pattern}/ in the log (exit code {self.process.poll()}):\n{self.log()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, float]:
        """Send `sig`; the exit code and how long the process took to end."""
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=STOP_WITHIN * 3)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_WITHIN * 3:.0f} s after {sig.name}:\n{self.log()}")
        return code, time.monotonic() - started

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running after {timeout:.0f} s:\n{self.log()}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(10)
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    children: list[Child] = []

    def start(api_url: str, **values: str) -> Child:
        env = child_env(
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_API_URL=api_url,
            G7BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
            **FAST,
        )
        env.update(values)
        child = Child(env)
        children.append(child)
        return child

    yield start
    for child in children:
        child.close()


@pytest.fixture
def fast_slack() -> Iterator[SlackStandIn]:
    # Slack pings every few seconds; a quarter second lets the watchdog's threshold be small.
    with SlackStandIn(ws_ping_interval=0.25) as standin:
        standin.locales.update({"U_EN": "en-US"})
        yield standin


def connected(slack: SlackStandIn, child: Child, count: int = 1) -> None:
    if not slack.wait_for_connections(count, CONNECT_WITHIN):
        pytest.fail(f"{count} Socket Mode connection(s) expected, {slack.ws_connections} made:\n{child.log()}")


def answered(slack: SlackStandIn, child: Child, envelope_id: str) -> dict[str, Any]:
    """Push `/g7 summary en` and return the ack, which must carry the reply."""
    slack.ack_received.clear()
    assert slack.push_envelope(envelope(envelope_id, "summary en", user_id="U_EN")) == 1
    deadline = time.monotonic() + ACK_WITHIN
    while not any(a.get("envelope_id") == envelope_id for a in slack.acks):
        if not slack.ack_received.wait(max(0.0, deadline - time.monotonic())):
            pytest.fail(f"no ack for {envelope_id} within {ACK_WITHIN:.0f} s:\n{child.log()}")
        slack.ack_received.clear()
    (ack,) = [a for a in slack.acks if a.get("envelope_id") == envelope_id]
    assert ack["payload"]["blocks"][0]["text"]["text"] == msg("summary.title", "en")
    return ack


def assert_clean_stop(child: Child, sig: signal.Signals = signal.SIGTERM) -> None:
    code, took = child.stop(sig)
    log = child.log()
    assert code == 0, log
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop:\n{log}"
    assert "Traceback" not in log
    assert f"{sig.name} received" in log


# ---- pure parts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(1, 40))
def test_backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half(attempt: int) -> None:
    ceiling = min(60.0, 2 ** (attempt - 1))
    delays = {backoff_delay(attempt, base=1.0, cap=60.0, rng=random.Random(seed)) for seed in range(20)}
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 1  # jittered: instances do not reconnect in step


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param("url: wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A1", "ticket=abc-123", id="url"),
        pytest.param("{'ok': True, 'url': 'ws://127.0.0.1:9/ws?ticket=t-1'}", "t-1", id="quoted-url"),
        pytest.param("Bearer xapp-1-A0-123-abcdef", "abcdef", id="app-token"),
        pytest.param("token=xoxb-123-456-secret", "secret", id="bot-token"),
    ],
)
def test_redact_removes_tickets_and_tokens(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "(redacted" in redact(text)


def test_redact_keeps_the_host() -> None:
    assert redact("to wss://wss-primary.slack.com/link/?ticket=x") == "to wss://wss-primary.slack.com/(redacted)"


# ---- missing tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        pytest.param({"SLACK_APP_TOKEN": APP_TOKEN}, ["SLACK_BOT_TOKEN"], id="socket-mode-without-bot-token"),
        pytest.param({}, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"], id="nothing"),
        pytest.param({"SLACK_SIGNING_SECRET": "s"}, ["SLACK_BOT_TOKEN"], id="http-without-bot-token"),
        pytest.param({"SLACK_BOT_TOKEN": BOT_TOKEN}, ["SLACK_SIGNING_SECRET"], id="http-without-secret"),
    ],
)
def test_serve_names_every_missing_variable(
    slack: SlackStandIn, tmp_path: Path, env: dict[str, str], missing: list[str]
) -> None:
    values = {"SLACK_API_URL": slack.api_url, "G7BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **env}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=child_env(**values),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78, result.stderr
    for name in missing:
        assert f"environment: {name}: required" in result.stderr
    for name in {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} - set(missing):
        assert f"{name}: required" not in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert slack.calls_to("apps.connections.open") == []


# ---- signals in every state ----------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_serve_while_connecting(slack: SlackStandIn, spawn: Any, sig: signal.Signals) -> None:
    opening = threading.Event()
    slack.on_call = lambda call: opening.set() if call.method == "apps.connections.open" else None
    # Slack takes its time to answer apps.connections.open: the bot is waiting inside the call.
    slack.add_fault(Fault("apps.connections.open", status=200, delay=4.0, times=1))
    child = spawn(slack.api_url)
    assert opening.wait(CONNECT_WITHIN), child.log()
    assert_clean_stop(child, sig)
    assert slack.ws_connections == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_serve_while_connected(slack: SlackStandIn, spawn: Any, sig: signal.Signals) -> None:
    child = spawn(slack.api_url)
    connected(slack, child)
    child.wait_for("connected to Slack in Socket Mode")
    assert_clean_stop(child, sig)
    assert "Socket Mode stopped" in child.log()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_serve_while_slack_is_unreachable(spawn: Any, sig: signal.Signals) -> None:
    # Nothing listens on this port: every attempt fails at once and the bot is backing off.
    child = spawn(f"http://127.0.0.1:{free_port()}/api/")
    child.wait_for(r"WARNING .*connection attempt 3 failed")
    assert_clean_stop(child, sig)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_serve_during_a_long_backoff(slack: SlackStandIn, spawn: Any, sig: signal.Signals) -> None:
    # A 429 with a long Retry-After: the bot waits it out, and a signal must not wait with it.
    slack.add_fault(Fault("apps.connections.open", status=429, retry_after=120, times=1))
    child = spawn(slack.api_url)
    child.wait_for(
        r"connection attempt 1 failed \(apps.connections.open answered HTTP 429 ratelimited\); next attempt in 120"
    )
    assert_clean_stop(child, sig)


# ---- reconnects ----------------------------------------------------------------------------------


def test_unreachable_slack_is_retried_with_backoff_one_warning_per_attempt(spawn: Any) -> None:
    child = spawn(f"http://127.0.0.1:{free_port()}/api/")
    child.wait_for(r"connection attempt 6 failed")
    assert_clean_stop(child)
    attempts = [line for line in child.lines if "connection attempt" in line]
    assert all(" WARNING " in line for line in attempts)
    numbers = [int(m.group(1)) for line in attempts if (m := re.search(r"attempt (\d+) failed", line))]
    assert numbers == list(range(1, len(numbers) + 1))  # one line per attempt, none skipped or repeated
    delays = [float(m.group(1)) for line in attempts if (m := re.search(r"next attempt in ([\d.]+) s", line))]
    assert max(delays) <= 0.4  # G7BOT_SOCKET_BACKOFF_MAX_SECONDS
    assert "Traceback" not in child.log()


def test_connections_open_failing_for_a_while_then_ok(slack: SlackStandIn, spawn: Any) -> None:
    slack.locales.update({"U_EN": "en-US"})
    slack.add_fault(Fault("apps.connections.open", status=503, times=3))
    child = spawn(slack.api_url)
    connected(slack, child)
    answered(slack, child, "env-after-503s")
    assert len(slack.calls_to("apps.connections.open")) == 4
    assert child.count(r"WARNING .*connection attempt \d failed \(apps.connections.open answered HTTP 503") == 3
    assert_clean_stop(child)


@pytest.mark.parametrize("reason", ["refresh_requested", "link_disabled"])
def test_a_disconnect_message_gets_a_new_connection_that_answers(slack: SlackStandIn, spawn: Any, reason: str) -> None:
    slack.locales.update({"U_EN": "en-US"})
    child = spawn(slack.api_url)
    connected(slack, child)
    answered(slack, child, "env-before")
    assert slack.disconnect(reason) == 1
    connected(slack, child, 2)
    answered(slack, child, "env-after")
    child.wait_for("connected to Slack in Socket Mode", count=2)
    log = child.log()
    assert reason in log
    # Slack's regular refresh is routine; Socket Mode being switched off is worth a warning.
    level = "INFO" if reason == "refresh_requested" else "WARNING"
    assert [line.split()[2] for line in child.lines if reason in line] == [level]
    opened = slack.calls_to("apps.connections.open")
    assert len(opened) == 2
    assert len(set(slack.tickets)) == 2  # each connection has its own ticket
    assert_clean_stop(child)


def test_a_warning_disconnect_keeps_the_connection(slack: SlackStandIn, spawn: Any) -> None:
    slack.locales.update({"U_EN": "en-US"})
    child = spawn(slack.api_url)
    connected(slack, child)
    slack.disconnect("warning")
    answered(slack, child, "env-after-warning")
    assert slack.ws_connections == 1
    assert_clean_stop(child)


def test_a_dropped_socket_is_replaced(slack: SlackStandIn, spawn: Any) -> None:
    slack.locales.update({"U_EN": "en-US"})
    child = spawn(slack.api_url)
    connected(slack, child)
    slack.drop_connections()
    connected(slack, child, 2)
    answered(slack, child, "env-after-drop")
    assert child.count(r"WARNING .*Socket Mode: the connection (was closed|failed)") == 1
    assert "Traceback" not in child.log()
    assert_clean_stop(child)


def test_a_silent_socket_is_detected_and_replaced(fast_slack: SlackStandIn, spawn: Any) -> None:
    slack = fast_slack
    child = spawn(slack.api_url, G7BOT_SOCKET_SILENCE_SECONDS="3")
    connected(slack, child)
    answered(slack, child, "env-before-silence")
    started = time.monotonic()
    # The socket stays open, but Slack no longer pings it or routes anything to it (bolt-python #1529).
    slack.silence_connections()
    connected(slack, child, 2)
    assert time.monotonic() - started < 3 + 5
    child.wait_for(r"WARNING .*Slack sent nothing for 3 s")
    answered(slack, child, "env-after-silence")
    assert slack.ws_connections == 2  # Slack's pings on the new connection keep it: no spurious replacement
    assert_clean_stop(child)


def test_pings_keep_a_quiet_connection(fast_slack: SlackStandIn, spawn: Any) -> None:
    slack = fast_slack
    child = spawn(slack.api_url, G7BOT_SOCKET_SILENCE_SECONDS="1.5")
    connected(slack, child)
    # Three silence thresholds without a single envelope: only Slack's pings show the connection lives.
    assert not slack.wait_for_connections(2, 4.5), child.log()
    answered(slack, child, "env-after-quiet")
    assert "Slack sent nothing" not in child.log()
    assert_clean_stop(child)


# ---- a refused app token -------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "token_revoked", "account_inactive"])
def test_a_refused_app_token_ends_serve_with_78(slack: SlackStandIn, spawn: Any, error: str) -> None:
    slack.add_fault(Fault("apps.connections.open", status=200, body={"ok": False, "error": error}, times=1000))
    child = spawn(slack.api_url)
    code = child.wait(30)
    log = child.log()
    assert code == 78, log
    assert f"environment: SLACK_APP_TOKEN: Slack refused the app-level token ({error}) 3 times" in log
    assert len(slack.calls_to("apps.connections.open")) == 3
    assert child.count(rf"WARNING .*refused SLACK_APP_TOKEN \({error}\), attempt \d of 3") == 2
    assert "Traceback" not in log
    assert APP_TOKEN not in log


def test_a_bot_token_given_as_app_token_ends_serve_with_78(slack: SlackStandIn, spawn: Any) -> None:
    child = spawn(slack.api_url, SLACK_APP_TOKEN="xoxb-not-an-app-token")
    assert child.wait(30) == 78, child.log()
    assert "not_allowed_token_type" in child.log()
    assert "xoxb-not-an-app-token" not in child.log()


# ---- secrets in the log --------------------------------------------------------------------------


def test_debug_log_never_holds_a_token_or_a_ticket(slack: SlackStandIn, spawn: Any) -> None:
    slack.locales.update({"U_EN": "en-US"})
    slack.add_fault(Fault("apps.connections.open", status=503, times=1))
    child = spawn(slack.api_url, G7BOT_LOG_LEVEL="DEBUG")
    connected(slack, child)
    answered(slack, child, "env-1")
    slack.disconnect("refresh_requested")
    connected(slack, child, 2)
    answered(slack, child, "env-2")
    slack.drop_connections()
    connected(slack, child, 3)
    answered(slack, child, "env-3")
    assert_clean_stop(child)
    log = child.log()
    # The log is really at DEBUG, with slack_sdk's and Bolt's lines in it, so the check below means something.
    assert re.search(r" DEBUG slack_sdk\.web\.async_base_client: Received the following response", log)
    assert " DEBUG slack_bolt" in log
    assert len(slack.tickets) == 3
    for secret in [APP_TOKEN, BOT_TOKEN, *slack.tickets]:
        assert secret not in log
    assert "ticket=" not in log
