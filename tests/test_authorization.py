"""Only the installed workspace is served; buttons act only on the bot's own reminders; who may press them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.runtime import Installation
from bot.startup import Started
from tests.signed_app import (
    ADMIN,
    PARIS,
    TEAM,
    TOKYO,
    dispatch,
    post_reminder,
    press_body,
    slash_body,
    start_http_mode,
)
from tests.slack_standin import SlackStandIn


@pytest.fixture
def started(tmp_path: Path, slack: SlackStandIn) -> Started:
    return start_http_mode(tmp_path, slack.api_url)


def _done(ts: str, **kwargs: str) -> str:
    return press_body("g7_followup_done", commitment_id=kwargs.pop("commitment_id", "fr-presidency"), ts=ts, **kwargs)


# --- the installed workspace ------------------------------------------------------------------------------


def test_the_installed_workspace_is_learnt_from_auth_test(started: Started, slack: SlackStandIn) -> None:
    response = asyncio.run(dispatch(started, slash_body("summary en")))
    assert response.status == 200 and response.body
    assert started.runtime.installed == Installation(team_id=TEAM)
    assert slack.calls_to("auth.test")


@pytest.mark.parametrize(
    ("team_id", "enterprise_id"),
    [
        pytest.param("T0OTHER", None, id="other-team"),
        pytest.param(TEAM, "E0OTHER", id="same-team-id-other-enterprise"),
        pytest.param("T0OTHER", "E0OTHER", id="other-team-and-enterprise"),
    ],
)
def test_a_command_from_another_workspace_is_refused(
    started: Started, slack: SlackStandIn, team_id: str, enterprise_id: str | None
) -> None:
    body = slash_body(f"admin digest-now {PARIS} en", team_id=team_id, enterprise_id=enterprise_id)
    response = asyncio.run(dispatch(started, body))
    assert (response.status, response.body) == (200, "")
    assert slack.posts() == []
    assert not slack.calls_to("users.info")  # no listener ran


def test_admin_rights_hold_only_in_the_installed_workspace(started: Started) -> None:
    asyncio.run(dispatch(started, slash_body("summary en")))  # learns the installed workspace
    runtime = started.runtime
    assert runtime.is_admin(ADMIN, team_id=TEAM)
    assert not runtime.is_admin(ADMIN, team_id="T0OTHER")
    assert not runtime.is_admin(ADMIN, team_id=TEAM, enterprise_id="E0OTHER")
    assert not runtime.is_admin(ADMIN)
    assert not runtime.is_admin("U0SOMEONE", team_id=TEAM)


def test_a_button_from_another_workspace_is_refused(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started, "fr-presidency")
    asyncio.run(dispatch(started, _done(ts, channel=TOKYO, team_id="T0OTHER")))
    assert "fr-presidency" not in started.service.states()
    assert not slack.calls_to("chat.update")


def test_a_button_from_a_user_of_another_workspace_is_refused(started: Started, slack: SlackStandIn) -> None:
    """A Slack Connect channel: the press comes through our workspace, the user belongs to another one."""
    ts = post_reminder(started, "fr-presidency")
    asyncio.run(dispatch(started, _done(ts, channel=TOKYO, user_team="T0OTHER")))
    assert "fr-presidency" not in started.service.states()
    assert not slack.calls_to("chat.update")


# --- the message to rewrite comes from the delivery log ------------------------------------------------------


def test_a_forged_press_on_a_digest_rewrites_nothing(started: Started, slack: SlackStandIn) -> None:
    asyncio.run(dispatch(started, slash_body(f"admin digest-now {PARIS} en")))
    (digest,) = started.service.store.deliveries(kind="digest")
    assert digest.message_ts
    asyncio.run(dispatch(started, _done(digest.message_ts, channel=PARIS)))
    assert not slack.calls_to("chat.update")
    assert "fr-presidency" not in started.service.states()


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param({"ts": "1.000999"}, id="message-the-bot-never-posted"),
        pytest.param({"channel": PARIS}, id="right-ts-other-channel"),
        pytest.param({"commitment_id": "quantum-wg"}, id="reminder-of-another-commitment"),
        pytest.param({"ts": ""}, id="no-message"),
    ],
)
def test_a_press_acts_only_on_the_bots_reminder_of_that_commitment_in_that_channel(
    started: Started, slack: SlackStandIn, forge: dict[str, str]
) -> None:
    ts = post_reminder(started, "fr-presidency")
    values = {"ts": ts, "channel": TOKYO, "commitment_id": "fr-presidency", **forge}
    asyncio.run(dispatch(started, _done(**values)))
    assert not slack.calls_to("chat.update")
    assert started.service.states() == {}


def test_the_genuine_press_rewrites_the_logged_message(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started, "fr-presidency")
    asyncio.run(dispatch(started, _done(ts, channel=TOKYO)))
    (update,) = slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (TOKYO, ts)


# --- who may press -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actors", "user_id", "acts"),
    [
        pytest.param("members", "U0MEMBER", True, id="members-any-member"),
        pytest.param("admins", "U0MEMBER", False, id="admins-not-a-member"),
        pytest.param("admins", ADMIN, True, id="admins-an-admin"),
    ],
)
def test_followup_actors_decides_who_may_press(
    tmp_path: Path, slack: SlackStandIn, actors: str, user_id: str, acts: bool
) -> None:
    started = start_http_mode(tmp_path, slack.api_url, followup_actors=actors)
    ts = post_reminder(started, "fr-presidency")
    asyncio.run(dispatch(started, _done(ts, channel=TOKYO, user_id=user_id)))
    assert bool(slack.calls_to("chat.update")) is acts
    assert ("fr-presidency" in started.service.states()) is acts
