"""/readyz tells the truth: a lost database, a revoked bot token, a stalled scheduler; /healthz stays 200."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import create_engine

from bot.readiness import BUSY_FACTOR, MIN_STALE_SECONDS, ReadinessChecks
from bot.schedule.store import Store
from tests.helpers import free_port
from tests.slack_standin import Fault, SlackStandIn
from tests.test_http_hardening import serving

NOW = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)
REVOKED = {"ok": False, "error": "token_revoked"}


@dataclass
class FakeService:
    now: dt.datetime
    last_tick: dt.datetime | None = None
    ticking: bool = False

    def clock(self) -> dt.datetime:
        return self.now


def checks(**kwargs: Any) -> ReadinessChecks:
    values: dict[str, Any] = {"store": None, "client": None, "service": None, "tick_seconds": 15, "auth_every": 60}
    values.update(kwargs)
    return ReadinessChecks(**values)


def report(readiness: ReadinessChecks) -> tuple[bool, dict[str, Any]]:
    return asyncio.run(readiness.report())


# --- through `serve` ----------------------------------------------------------------------------------------


def test_readyz_says_503_with_the_reason_while_the_sqlite_file_is_gone(tmp_path: Path, slack: SlackStandIn) -> None:
    with serving(tmp_path, slack) as server:
        status, _, body = server.request("GET", "/readyz")
        assert status == 200, body
        database = tmp_path / "g7bot.sqlite3"
        moved = tmp_path / "moved.sqlite3"
        database.rename(moved)
        status, headers, body = server.request("GET", "/readyz")
        healthz, _, _ = server.request("GET", "/healthz")
        moved.rename(database)
        again, _, _ = server.request("GET", "/readyz")
    assert status == 503
    assert headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert answer["status"] == "not ready"
    assert answer["checks"]["database"].startswith("unreachable")
    assert answer["checks"]["slack_token"] == "ok"
    assert answer["reasons"] == [f"database: {answer['checks']['database']}"]
    assert str(tmp_path) not in body.decode()  # no path on an unauthenticated endpoint
    assert healthz == 200  # alive, just not ready
    assert again == 200


def test_readyz_says_503_while_the_bot_token_is_revoked(tmp_path: Path, slack: SlackStandIn) -> None:
    with serving(tmp_path, slack, G7BOT_AUTH_CHECK_SECONDS="0.001") as server:
        assert server.request("GET", "/readyz")[0] == 200
        slack.add_fault(Fault("auth.test", status=200, body=REVOKED, times=1000))
        status, _, body = server.request("GET", "/readyz")
        assert server.request("GET", "/healthz")[0] == 200
    assert status == 503
    assert json.loads(body)["checks"]["slack_token"] == "bot token refused by Slack (token_revoked)"
    assert "readiness: slack_token: bot token refused by Slack (token_revoked)" in server.stderr()


# --- the checks one by one ----------------------------------------------------------------------------------


def test_a_postgresql_url_with_nothing_listening_is_not_ready(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    dead = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")

    @dataclass
    class DeadPostgres:
        dialect: str = "postgresql"
        url: str = "postgresql+psycopg://postgres@127.0.0.1/test"
        engine: Any = dead

    ok, answer = report(checks(store=DeadPostgres()))
    assert not ok
    assert answer["checks"]["database"] == "unreachable (OperationalError)"
    ok, _ = report(checks(store=store))
    assert ok


def test_a_sqlite_file_that_is_not_a_database_is_not_ready(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    store = Store(f"sqlite:///{path}")
    assert report(checks(store=store))[0]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    ok, answer = report(checks(store=store))
    assert not ok
    assert answer["checks"]["database"] == "unreachable (DatabaseError)"


def test_an_unreadable_sqlite_file_is_not_ready(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file: removal and corruption are tested instead")
    path = tmp_path / "x.sqlite3"
    store = Store(f"sqlite:///{path}")
    path.chmod(0)
    try:
        assert not report(checks(store=store))[0]
    finally:
        path.chmod(0o600)


def test_the_token_is_checked_at_most_every_n_seconds(slack: SlackStandIn) -> None:
    clock = [0.0]
    client = AsyncWebClient(token="xoxb-readiness", base_url=slack.api_url)
    readiness = checks(client=client, auth_every=30, monotonic=lambda: clock[0])

    async def probe(times: int) -> list[bool]:
        return [(await readiness.report())[0] for _ in range(times)]

    assert asyncio.run(probe(5)) == [True] * 5
    assert len(slack.calls_to("auth.test")) == 1
    slack.add_fault(Fault("auth.test", status=200, body={"ok": False, "error": "invalid_auth"}, times=100))
    clock[0] = 29.0
    assert asyncio.run(probe(1)) == [True]  # not asked again yet
    clock[0] = 31.0
    assert asyncio.run(probe(2)) == [False, False]
    assert len(slack.calls_to("auth.test")) == 2


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("auth.test", status=500, times=100), id="slack-500"),
        pytest.param(Fault("auth.test", status=429, retry_after=30, times=100), id="rate-limited"),
        pytest.param(
            Fault("auth.test", status=200, body={"ok": False, "error": "fatal_error"}, times=100), id="not-ok"
        ),
    ],
)
def test_slack_trouble_is_not_a_dead_token(slack: SlackStandIn, fault: Fault) -> None:
    slack.add_fault(fault)
    client = AsyncWebClient(token="xoxb-readiness", base_url=slack.api_url)
    ok, answer = report(checks(client=client))
    assert ok, answer


@pytest.mark.parametrize(
    ("last_tick_ago", "ready"),
    [
        pytest.param(dt.timedelta(seconds=15), True, id="ticked-15-s-ago"),
        pytest.param(dt.timedelta(seconds=MIN_STALE_SECONDS), True, id="at-the-limit"),
        pytest.param(dt.timedelta(seconds=MIN_STALE_SECONDS + 1), False, id="past-the-limit"),
        pytest.param(dt.timedelta(hours=1), False, id="an-hour"),
    ],
)
def test_a_scheduler_that_stopped_ticking_is_not_ready(last_tick_ago: dt.timedelta, ready: bool) -> None:
    service = FakeService(now=NOW, last_tick=NOW)
    readiness = checks(service=service)
    service.now = NOW + last_tick_ago
    ok, answer = report(readiness)
    assert ok is ready, answer
    if not ready:
        assert answer["checks"]["scheduler"].startswith("no tick for")


def test_a_long_tick_in_progress_is_alive_up_to_a_limit() -> None:
    service = FakeService(now=NOW, last_tick=NOW, ticking=True)
    readiness = checks(service=service)
    service.now = NOW + dt.timedelta(minutes=5)  # a fan-out to hundreds of channels at Slack's pace
    assert report(readiness)[0]
    service.now = NOW + dt.timedelta(seconds=MIN_STALE_SECONDS * BUSY_FACTOR + 1)
    ok, answer = report(readiness)
    assert not ok
    assert answer["checks"]["scheduler"].startswith("one tick has been running for")


def test_before_the_first_tick_the_start_counts(tmp_path: Path) -> None:
    service = FakeService(now=NOW)
    readiness = checks(service=service)
    assert report(readiness)[0]
    service.now = NOW + dt.timedelta(minutes=5)
    assert not report(readiness)[0]


def test_the_tick_records_when_it_ran(tmp_path: Path, slack: SlackStandIn) -> None:
    from tests.signed_app import start_http_mode

    started = start_http_mode(tmp_path, slack.api_url)
    assert started.service.last_tick is None
    asyncio.run(started.service.tick(NOW))
    assert started.service.last_tick == NOW
