"""`python -m bot serve` as real processes for the scheduler's crash and scale-out tests: data, start, wait, stop."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import http.client
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

from bot.schedule.poster import EVENT_TYPE
from bot.schedule.store import Store
from tests.helpers import RELEASE_IN_DATA, child_env, free_port
from tests.slack_standin import Call, Fault, SlackStandIn

ROOT = Path(__file__).resolve().parents[2]
# One digest per channel; the poster sends to at most 16 channels at once, so 40 take three rounds.
CHANNELS = tuple(f"C0TEST{i:04d}" for i in range(1, 41))
REMINDER_CHANNEL = "C0TESTREMIND"
SIGNING_SECRET = "serve-helpers-signing-secret"
# Ticks every second; a dead instance's claims can be taken over 3 s after it made them.
BOT_SETTINGS = {
    "G7BOT_TICK_SECONDS": "1",
    "G7BOT_LEASE_SECONDS": "3",
    # A post whose answer was lost is looked for 2 s after it was sent (the stand-in shows posts at once,
    # or after its delay, which the tests keep below this).
    "G7BOT_SETTLE_SECONDS": "2",
    "G7BOT_GRACE_MINUTES": "30",
    "G7BOT_POST_RATE": "50",
}
READY_WITHIN = 20.0
DONE_WITHIN = 45.0
STOP_WITHIN = 10.0
_POLL = 0.05


# ---- the data folder ---------------------------------------------------------------------------


def last_minute(now: dt.datetime) -> dt.datetime:
    """The start of the minute before `now`, in UTC: when every test digest falls due."""
    return (now.astimezone(dt.UTC) - dt.timedelta(minutes=1)).replace(second=0, microsecond=0)


def cron_for(at: dt.datetime) -> str:
    """A crontab firing at `at` (UTC) and then not again for a year: minute, hour, day and month pinned.

    The day of the week stays "*": the schedule refuses crontabs that restrict both kinds of day.
    """
    at = at.astimezone(dt.UTC)
    return f"{at.minute} {at.hour} {at.day} {at.month} *"


def write_data_dir(folder: Path, *, due_at: dt.datetime, channels: Sequence[str] = CHANNELS) -> Path:
    """A data folder: the real release, one commitment due in 2099, one digest per channel due at `due_at`."""
    own = folder / RELEASE_IN_DATA
    own.mkdir(parents=True)
    source = ROOT / "data" / RELEASE_IN_DATA
    shutil.copy(source / "release.yml", own / "release.yml")
    release = yaml.safe_load((source / "release.yml").read_text(encoding="utf-8"))
    shutil.copy(source / release["source_file"], own / release["source_file"])

    # A real entry as the template, so it keeps passing the checks against the release; due so far
    # ahead that no reminder falls anywhere near the test.
    template = yaml.safe_load((source / "commitments.yml").read_text(encoding="utf-8"))["commitments"][0]
    commitment = copy.deepcopy(template)
    commitment.pop("channel", None)
    commitment.pop("done_on", None)
    commitment.update(status="open", window_start=dt.date(2099, 1, 1), due=dt.date(2099, 12, 31))
    _write_yaml(own / "commitments.yml", {"commitments": [commitment]})

    schedule = {
        "timezone": "UTC",
        "digests": [
            # on_holiday: post: `due_at` comes from the real clock, which may fall on a weekend or a holiday.
            {
                "id": f"digest-{i:02d}",
                "channel": channel,
                "cron": cron_for(due_at),
                "timezone": "UTC",
                "lang": "en",
                "on_holiday": "post",
            }
            for i, channel in enumerate(channels, start=1)
        ],
        "reminders": {"channel": REMINDER_CHANNEL},
    }
    _write_yaml(folder / "schedule.yml", schedule)
    return folder


def _write_yaml(path: Path, value: object) -> None:
    path.write_text(yaml.safe_dump(value, allow_unicode=True, sort_keys=False), encoding="utf-8")


# ---- processes ---------------------------------------------------------------------------------


@dataclass
class Serve:
    """One `python -m bot serve` process; its bot token tells the stand-in's calls apart."""

    name: str
    token: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    _log_file: IO[bytes]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def exited(self) -> int | None:
        return self.process.poll()

    def healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not stopped in time; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=STOP_WITHIN)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(timeout=STOP_WITHIN)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self._log_file.close()


class Launcher:
    """Starts serve processes against one stand-in; on exit stops whatever still runs."""

    def __init__(self, folder: Path, slack: SlackStandIn):
        self.folder = folder
        self.slack = slack
        self.started: list[Serve] = []

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        errors: list[BaseException] = []
        for serve in self.started:
            try:
                serve.close()
            except BaseException as exc:  # stop every process, then report the first failure
                errors.append(exc)
        if errors:
            raise errors[0]

    def start(self, name: str, *, data_dir: Path, database_url: str) -> Serve:
        port = free_port()
        token = f"xoxb-test-{name}"
        env = child_env(
            HOST="127.0.0.1",
            PORT=str(port),
            SLACK_BOT_TOKEN=token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.slack.api_url,
            G7BOT_DATA_DIR=str(data_dir),
            G7BOT_DATABASE_URL=database_url,
            **BOT_SETTINGS,
        )
        workdir = self.folder / name
        workdir.mkdir()
        log = workdir / "serve.log"
        log_file = log.open("wb")
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                cwd=workdir,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            log_file.close()
            raise
        serve = Serve(name=name, token=token, port=port, process=process, log=log, _log_file=log_file)
        self.started.append(serve)
        return serve

    def stop_all(self) -> None:
        """SIGTERM every live process; each must exit cleanly (uvicorn re-raises SIGTERM: -15 is clean)."""
        for serve in self.started:
            if serve.exited() is None:
                code = serve.stop()
                assert code in (0, -signal.SIGTERM), f"{serve.name} exited with {code}:\n{serve.log_text()}"


def wait_until(condition: Callable[[], bool], *, within: float, what: str, alive: Sequence[Serve] = ()) -> None:
    """Poll `condition` until it holds; fail at the deadline, or as soon as a process in `alive` exits."""
    deadline = time.monotonic() + within
    pause = threading.Event()
    while True:
        if condition():
            return
        for serve in alive:
            code = serve.exited()
            if code is not None:
                pytest.fail(f"{serve.name} exited with {code} while waiting for {what}:\n{serve.log_text()}")
        if time.monotonic() >= deadline:
            logs = "\n".join(f"--- {s.name}:\n{s.log_text()}" for s in alive)
            pytest.fail(f"not within {within:.0f} s: {what}\n{logs}")
        if alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                alive[0].process.wait(timeout=_POLL)  # doubles as the pause between polls
        else:
            pause.wait(_POLL)


def wait_healthy(*serves: Serve) -> None:
    for serve in serves:
        wait_until(serve.healthy, within=READY_WITHIN, what=f"{serve.name} answering /healthz", alive=[serve])


# ---- watching the stand-in ----------------------------------------------------------------------


class PostWatch:
    """The stand-in's on_call hook: counts chat.postMessage calls as they arrive, and can act on the n-th.

    An action runs in the stand-in's thread before it answers the call, so a process killed there has
    sent its post (Slack records it) but never reads the answer.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.count = 0
        self._actions: dict[int, Callable[[Call], None]] = {}

    def at(self, n: int, action: Callable[[Call], None]) -> None:
        with self._changed:
            self._actions[n] = action

    def __call__(self, call: Call) -> None:
        if call.method != "chat.postMessage":
            return
        with self._changed:
            self.count += 1
            action = self._actions.pop(self.count, None)
        if action is not None:
            action(call)
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, n: int, *, within: float, alive: Sequence[Serve] = ()) -> bool:
        """True once `n` posts have arrived; False at the deadline or as soon as a process in `alive` exits."""
        deadline = time.monotonic() + within
        with self._changed:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0 or any(s.exited() is not None for s in alive):
                    return False
                self._changed.wait(min(left, _POLL))
            return True


def delay_posts(slack: SlackStandIn, seconds: float) -> None:
    """Every chat.postMessage is answered (and shows in the channel) `seconds` after it arrives."""
    slack.add_fault(Fault("chat.postMessage", status=200, delay=seconds, times=1_000_000))


def delivery_id(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload") or {}
    return int(payload["delivery_id"]) if "delivery_id" in payload else None


def messages_by_channel(slack: SlackStandIn) -> dict[str, list[dict[str, Any]]]:
    with slack._lock:
        messages = list(slack.messages.values())
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        out[message["channel"]].append(message)
    return out


def all_delivered(slack: SlackStandIn, store: Store, channels: Sequence[str] = CHANNELS) -> Callable[[], bool]:
    """A condition: every channel has a message in Slack and the log has every delivery sent."""

    def check() -> bool:
        posted = messages_by_channel(slack)
        return all(posted.get(c) for c in channels) and store.counts()["sent"] >= len(channels)

    return check


def assert_each_channel_posted_once(slack: SlackStandIn, store: Store, channels: Sequence[str] = CHANNELS) -> None:
    """Slack got exactly one post per channel (calls and messages), and the log matches them one to one.

    Call this once every bot process has exited, so nothing more can arrive.
    """
    # A post the stand-in received but has not answered yet (it delays them) is still on its way.
    wait_until(
        lambda: len(slack.messages) >= len(slack.posts()),
        within=STOP_WITHIN,
        what="the stand-in to finish the posts it received",
    )
    calls: dict[str, list[Call]] = defaultdict(list)
    for call in slack.posts():
        calls[str(call.args.get("channel"))].append(call)
    wrong = {c: [call.token for call in calls.get(c, [])] for c in {*channels, *calls} if len(calls.get(c, [])) != 1}
    assert not wrong, f"chat.postMessage calls per channel should be exactly one; by token: {wrong}"

    messages = messages_by_channel(slack)
    assert sorted(messages) == sorted(channels)
    assert all(len(m) == 1 for m in messages.values())

    rows = store.deliveries()
    assert store.counts() == {"pending": 0, "sent": len(channels), "skipped": 0, "failed": 0, "held": 0}
    assert Counter(r.channel for r in rows) == Counter(channels)
    by_channel = {r.channel: r for r in rows}
    for channel, [message] in messages.items():
        row = by_channel[channel]
        assert delivery_id(message) == row.id, f"{channel}: the post's metadata names another delivery"
        assert row.message_ts == message["ts"], f"{channel}: the log records another message"


def assert_no_traceback(*serves: Serve) -> None:
    for serve in serves:
        log = serve.log_text()
        assert "Traceback" not in log, f"{serve.name} logged a traceback:\n{log}"


@dataclass
class Victim:
    """The process an action killed, and the post it was sending (set from the stand-in's thread)."""

    serve: Serve | None = None
    call: Call | None = None
    killed: threading.Event = field(default_factory=threading.Event)


def kill_sender(launcher: Launcher, victim: Victim) -> Callable[[Call], None]:
    """A PostWatch action: SIGKILL whichever of the launcher's processes sent this post (by its token)."""

    def action(call: Call) -> None:
        serve = next(s for s in launcher.started if s.token == call.token)
        serve.process.kill()
        victim.serve, victim.call = serve, call
        victim.killed.set()

    return action
