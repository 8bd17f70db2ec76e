"""Replays are no-ops: a request seen before is acknowledged and not run again; Done and Snooze are idempotent."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.listeners.middleware import ENVELOPE_HEADER, REPLAY_WINDOW, SeenInMemory
from bot.startup import Started
from tests.helpers import set_clock, slash_payload
from tests.postgres import postgres_url
from tests.signed_app import (
    NOW,
    PARIS,
    TOKYO,
    dispatch,
    post_reminder,
    press_body,
    signed_headers,
    slash_body,
    start_http_mode,
)
from tests.slack_standin import SlackStandIn


@pytest.fixture
def started(tmp_path: Path, slack: SlackStandIn) -> Started:
    return start_http_mode(tmp_path, slack.api_url)


def test_admin_digest_now_replayed_three_times_posts_one_digest(started: Started, slack: SlackStandIn) -> None:
    # Replays arrive seconds apart, so each would be a digest of its own second.
    seconds = itertools.count()
    set_clock(started, lambda: NOW + dt.timedelta(seconds=next(seconds)))
    body = slash_body(f"admin digest-now {PARIS} en")
    headers = signed_headers(body)

    async def go() -> list[tuple[int, str]]:
        return [((r := await dispatch(started, body, headers)).status, r.body) for _ in range(3)]

    first, *replays = asyncio.run(go())
    assert first[0] == 200 and "queued" in first[1]
    assert replays == [(200, ""), (200, "")]
    assert [c.args["channel"] for c in slack.posts()] == [PARIS]


def test_the_same_command_signed_again_is_a_new_request(started: Started, slack: SlackStandIn) -> None:
    """Slack signs every request anew: the same text a second later is not a replay."""
    body = slash_body("summary en")
    now = _now_ts()

    async def go() -> list[str]:
        return [(await dispatch(started, body, signed_headers(body, timestamp=ts))).body for ts in (now - 1, now)]

    first, second = asyncio.run(go())
    assert first and first == second


def _now_ts() -> int:
    return int(time.time())


def test_a_done_press_replayed_causes_one_update(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started, "fr-presidency")
    body = press_body("g7_followup_done", commitment_id="fr-presidency", channel=TOKYO, ts=ts)
    headers = signed_headers(body)

    async def go() -> list[int]:
        return [(await dispatch(started, body, headers)).status for _ in range(3)]

    assert asyncio.run(go()) == [200, 200, 200]
    assert len(slack.calls_to("chat.update")) == 1
    assert started.service.states()["fr-presidency"].status == "done"


def test_a_second_done_on_a_done_commitment_changes_nothing(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started, "fr-presidency")
    # Two distinct presses (two signatures), by two people, a minute apart.
    first = press_body("g7_followup_done", commitment_id="fr-presidency", channel=TOKYO, ts=ts, user_id="U0FIRST")
    second = press_body("g7_followup_done", commitment_id="fr-presidency", channel=TOKYO, ts=ts, user_id="U0SECOND")
    asyncio.run(dispatch(started, first))
    before = started.service.states()["fr-presidency"]
    set_clock(started, lambda: NOW + dt.timedelta(minutes=1))
    asyncio.run(dispatch(started, second))

    assert started.service.states()["fr-presidency"] == before
    assert before.updated_by == "U0FIRST"
    (update,) = slack.calls_to("chat.update")
    assert "U0FIRST" in json.dumps(update.args)


def test_snooze_while_snoozed_changes_nothing(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started, "fr-presidency")
    asyncio.run(
        dispatch(started, press_body("g7_followup_snooze_1d", commitment_id="fr-presidency", channel=TOKYO, ts=ts))
    )
    snoozed = started.service.states()["fr-presidency"]
    assert snoozed.snoozed_until == NOW + dt.timedelta(days=1)
    set_clock(started, lambda: NOW + dt.timedelta(hours=1))
    asyncio.run(
        dispatch(started, press_body("g7_followup_snooze_1w", commitment_id="fr-presidency", channel=TOKYO, ts=ts))
    )

    assert started.service.states()["fr-presidency"] == snoozed
    assert len(slack.calls_to("chat.update")) == 1


def test_a_replay_after_slacks_window_is_refused_by_its_timestamp(started: Started, slack: SlackStandIn) -> None:
    body = slash_body(f"admin digest-now {PARIS} en")
    old = _now_ts() - int(REPLAY_WINDOW.total_seconds()) - 60
    response = asyncio.run(dispatch(started, body, signed_headers(body, timestamp=old)))
    assert response.status == 401
    assert slack.posts() == []


def _socket_request(text: str, *, envelope_id: str | None, trigger_id: str = "1.2.3") -> AsyncBoltRequest:
    payload = slash_payload(text, user_id="U0ADMIN01")
    payload["trigger_id"] = trigger_id
    headers = {ENVELOPE_HEADER: envelope_id} if envelope_id else None
    return AsyncBoltRequest(mode="socket_mode", body=payload, headers=headers)


@pytest.mark.parametrize(
    "envelope_id", [pytest.param("env-1", id="by-envelope-id"), pytest.param(None, id="by-trigger-id")]
)
def test_a_redelivered_socket_mode_envelope_runs_once(
    started: Started, slack: SlackStandIn, envelope_id: str | None
) -> None:
    seconds = itertools.count()
    set_clock(started, lambda: NOW + dt.timedelta(seconds=next(seconds)))

    async def go() -> list[str]:
        bodies = []
        for _ in range(2):
            response = await started.app.async_dispatch(
                _socket_request(f"admin digest-now {PARIS} en", envelope_id=envelope_id)
            )
            await started.service.settle()
            bodies.append(response.body)
        return bodies

    first, second = asyncio.run(go())
    assert "queued" in first and second == ""
    assert len(slack.posts()) == 1


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    with postgres_url() as url:
        yield url


def test_the_record_of_seen_requests_is_shared_by_instances(
    tmp_path: Path, slack: SlackStandIn, shared_database: str
) -> None:
    database = shared_database
    one = start_http_mode(tmp_path / "one", slack.api_url, database=database)
    two = start_http_mode(tmp_path / "two", slack.api_url, database=database)
    set_clock(two, lambda: NOW + dt.timedelta(seconds=5))  # the replay, seconds later, elsewhere
    assert one.runtime.seen_requests() is one.service.store
    body = slash_body(f"admin digest-now {PARIS} en")
    headers = signed_headers(body)

    async def go() -> list[str]:
        return [(await dispatch(one, body, headers)).body, (await dispatch(two, body, headers)).body]

    try:
        first, on_the_other = asyncio.run(go())
    finally:
        one.service.store.close()
        two.service.store.close()
    assert "queued" in first and on_the_other == ""
    assert len(slack.posts()) == 1


def test_seen_in_memory_forgets_after_the_window() -> None:
    seen = SeenInMemory()
    assert seen.first_sight("k", now=NOW, ttl=REPLAY_WINDOW)
    assert not seen.first_sight("k", now=NOW + REPLAY_WINDOW - dt.timedelta(seconds=1), ttl=REPLAY_WINDOW)
    assert seen.first_sight("k", now=NOW + REPLAY_WINDOW, ttl=REPLAY_WINDOW)
    assert seen.first_sight("other", now=NOW + REPLAY_WINDOW, ttl=REPLAY_WINDOW)


def test_a_replay_flood_is_summarised_in_the_log(
    started: Started, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.listeners import middleware

    middleware.replays.flush()  # a clean interval, whatever ran before in this process
    body = slash_body("summary en")
    headers = signed_headers(body)

    async def go() -> None:
        for _ in range(51):
            await dispatch(started, body, headers)

    caplog.set_level(logging.INFO)
    caplog.clear()
    asyncio.run(go())
    middleware.replays.flush()
    lines = [r.getMessage() for r in caplog.records if "replay" in r.getMessage()]
    assert len(lines) == 2, lines
    assert "refused 49 more" in lines[1]
