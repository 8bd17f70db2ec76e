"""The App Home tab: what it lists for whom (pure), and app_home_opened, its buttons and views.publish end to end."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.home.select import select_home
from bot.home.view import MAX_VIEW_BLOCKS, build_home_view
from bot.home.viewers import HomeViewers
from bot.library import Library
from bot.release.models import Lang, Release
from bot.schedule.models import Commitment
from bot.schedule.occurrence import CommitmentState, Occurrence
from bot.startup import Started
from tests.signed_app import (
    BOT_TOKEN,
    TEAM,
    dispatch,
    post_reminder,
    press_body,
    signed_headers,
    slash_body,
    start_http_mode,
)
from tests.signed_app import TOKYO as TOKYO_CHANNEL
from tests.slack_standin import Fault, SlackStandIn

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)  # Friday 2026-12-04 09:00 in Tokyo
USER = "U0OWNER01"
RELEASE_ID = "meti-2025-12-10-g7-idt"


def commitment(cid: str, due: str, *, desk: str = "ai-digital", assumed: bool = False, **values: Any) -> Commitment:
    data: dict[str, Any] = {
        "id": cid,
        "title": {"ja": f"{cid} の件", "en": f"Item {cid}"},
        "detail": {"ja": "議論を行いました。", "en": "Discussed."},
        "source": {"kind": "bilateral", "ref": "fr"},
        "owner_desk": desk,
        "due": due,
        "due_is_assumption": assumed,
        "release_id": RELEASE_ID,
        **({"assumption_note": {"ja": "仮の期日", "en": "Date assumed"}} if assumed else {}),
        **values,
    }
    return Commitment.model_validate(data)


SAMPLE = [
    commitment("late", "2026-11-20"),  # confirmed, past: overdue
    commitment("guess", "2026-11-25", assumed=True),  # assumed, past: date to confirm
    commitment("soon", "2026-12-10"),  # within 30 days: upcoming
    commitment("far", "2027-06-30"),  # beyond the lookahead: not on the tab
    commitment("pressed", "2026-12-20"),  # done with the button yesterday
    commitment("filed", "2026-11-01", status="done", done_on="2026-12-02"),  # done in the data file
    commitment("general-one", "2026-11-21", desk="general"),
]
STATES = {
    "pressed": CommitmentState(
        commitment_id="pressed", release_id=RELEASE_ID, status="done", updated_by="U0X", updated_at=NOW
    ),
}


@pytest.fixture(scope="module")
def library(release: Release) -> Library:
    return Library.of([release])


def view_of(
    library: Library,
    *,
    commitments: list[Commitment] = SAMPLE,
    states: dict[str, CommitmentState] = STATES,
    desks: set[tuple[str, str]] | None = None,
    lang: Lang = "en",
    user_id: str = USER,
) -> dict[str, Any]:
    owned = {(RELEASE_ID, "ai-digital")} if desks is None else desks
    selection = select_home(
        commitments, states, NOW, user_id=user_id, desks=owned, default_release_id=RELEASE_ID, tz=TOKYO
    )
    return build_home_view(
        selection, states, user_id=user_id, lang=lang, now=NOW, tz=TOKYO, library=library, command="/g7"
    )


def texts(view: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for block in view["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(e.get("text", "") for e in block.get("elements", []) if e.get("type") in {"mrkdwn", "plain_text"})
    return out


def buttons(view: dict[str, Any]) -> dict[str, list[str]]:
    """Commitment id -> the action ids of its buttons."""
    return {
        b["block_id"].removeprefix("g7_followup:"): [e["action_id"] for e in b["elements"]]
        for b in view["blocks"]
        if b["type"] == "actions"
    }


def section_of(view: dict[str, Any]) -> dict[str, str]:
    """Commitment id -> the heading of the section it is listed under."""
    found: dict[str, str] = {}
    heading = ""
    for block in view["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "section" and text.startswith("*") and not text.startswith("• "):
            heading = text.split("\n")[0]
        elif block["type"] == "section":
            for cid in (c.id for c in SAMPLE):
                if f"Item {cid}*" in text:
                    found[cid] = heading
    return found


# --- pure: what the tab shows ------------------------------------------------------------------------------


def test_sections_follow_the_digest_rules(library: Library) -> None:
    view = view_of(library)
    assert view["type"] == "home"
    assert section_of(view) == {
        "late": "*Overdue (1)*",
        "guess": "*Dates to confirm (1)*",
        "soon": "*Due within 30 days (1)*",
        "pressed": "*Recently done (last 7 days, 2)*",
        "filed": "*Recently done (last 7 days, 2)*",
    }
    headings = [t for t in texts(view) if t.startswith("*") and "(" in t.split("\n")[0]]
    assert [h.split(" (")[0] for h in headings] == [
        "*Overdue",
        "*Dates to confirm",
        "*Due within 30 days",
        "*Recently done",
    ]


def test_an_assumed_date_is_never_overdue(library: Library) -> None:
    view = view_of(library, commitments=[commitment("guess", "2026-11-25", assumed=True)], states={})
    joined = "\n".join(texts(view))
    assert "*Overdue (0)*" in joined and "Nothing is overdue." in joined
    assert "confirm the date" in joined


def test_open_items_carry_the_reminder_buttons_and_done_ones_reopen(library: Library) -> None:
    found = buttons(view_of(library))
    snoozes = ["g7_followup_snooze_1d", "g7_followup_snooze_1w", "g7_followup_snooze_nbd"]
    for cid in ("late", "guess", "soon"):
        assert found[cid] == ["g7_followup_done", *snoozes, "g7_followup_take"]
    assert found["pressed"] == ["g7_followup_reopen"]
    assert "filed" not in found, "done in the data file: no state can reopen it"
    view = view_of(library)
    values = {e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert values == {"late", "guess", "soon", "pressed"}


def test_own_follow_ups_are_the_desks_and_the_assigned_ones(library: Library) -> None:
    states = {
        **STATES,
        "general-one": CommitmentState(commitment_id="general-one", release_id=RELEASE_ID, assignee=USER),
    }
    view = view_of(library, states=states, desks=set())
    assert set(section_of(view)) == {"general-one"}, "nothing of ai-digital: only what was assigned"
    assert "Assigned to you." in texts(view)
    view = view_of(library, states=states)
    assert "general-one" in section_of(view) and "late" in section_of(view)
    assert any("Assigned to you, and those of your desks (" in t for t in texts(view))


def test_someone_else_taking_it_is_shown(library: Library) -> None:
    states = {"soon": CommitmentState(commitment_id="soon", release_id=RELEASE_ID, assignee="U0OTHER1")}
    view = view_of(library, states=states)
    assert any("Taken by <@U0OTHER1>" in t for t in texts(view))
    assert "g7_followup_take" not in buttons(view)["soon"], "somebody has it: no more I'll take it"
    mine = {"soon": CommitmentState(commitment_id="soon", release_id=RELEASE_ID, assignee=USER)}
    assert not any("Taken by" in t for t in texts(view_of(library, states=mine))), "not said to the assignee"


def test_a_snoozed_item_says_until_when(library: Library) -> None:
    until = NOW + dt.timedelta(days=1)
    states = {"late": CommitmentState(commitment_id="late", release_id=RELEASE_ID, snoozed_until=until)}
    (line,) = [t for t in texts(view_of(library, states=states)) if "Item late" in t]
    assert "snoozed until" in line and "09:00 JST" in line
    # Once the snooze has passed, nothing is said of it.
    past = {"late": CommitmentState(commitment_id="late", release_id=RELEASE_ID, snoozed_until=NOW)}
    assert not any("snoozed until" in t for t in texts(view_of(library, states=past)))


def test_owning_nothing_shows_the_team_and_how_owners_are_assigned(library: Library) -> None:
    view = view_of(library, desks=set(), states={})
    assert set(section_of(view)) == {"late", "guess", "soon", "pressed", "filed", "general-one"}
    assert any("data/owners.yml" in t and "No desk is assigned to you" in t for t in texts(view))
    ja = view_of(library, desks=set(), states={}, lang="ja")
    assert any("data/owners.yml" in t and "チーム全体" in t for t in texts(ja))


def test_a_desk_without_follow_ups_is_an_empty_list_of_ones_own(library: Library) -> None:
    view = view_of(library, commitments=[commitment("general-one", "2026-11-21", desk="general")], states={})
    assert section_of(view) == {}
    assert not any("data/owners.yml" in t for t in texts(view))


@pytest.mark.parametrize(
    ("lang", "title", "done", "overdue"),
    [
        pytest.param("ja", "あなたのG7フォローアップ", "完了", "期限超過(1件)", id="ja"),
        pytest.param("en", "Your G7 follow-ups", "Done", "Overdue (1)", id="en"),
    ],
)
def test_the_tab_speaks_the_persons_language(library: Library, lang: Lang, title: str, done: str, overdue: str) -> None:
    view = view_of(library, lang=lang)
    assert view["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": title}}
    labels = [e["text"]["text"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert done in labels
    assert f"*{overdue}*" in texts(view)


def test_many_follow_ups_stay_within_slacks_limits_and_say_how_many_more(library: Library) -> None:
    long_title = {"ja": "長い" * 70, "en": "<!channel> & " + "long " * 27}  # near the 150-character limit
    many = [commitment(f"c{i:03d}", "2026-11-20", title=long_title) for i in range(150)]
    view = view_of(library, commitments=many, states={})
    blocks = view["blocks"]
    assert len(blocks) <= MAX_VIEW_BLOCKS
    shown = len(buttons(view))
    assert 0 < shown < 150
    assert f"… and {150 - shown} more: `/g7 followups` lists them all" in texts(view)
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert all("<!channel>" not in t for t in texts(view)), "titles are escaped"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))


def test_everything_fits_when_it_can(library: Library) -> None:
    few = [commitment(f"c{i:03d}", "2026-11-20") for i in range(40)]
    view = view_of(library, commitments=few, states={})
    assert len(buttons(view)) == 40
    assert not any("more:" in t for t in texts(view))


def test_recent_viewers_are_bounded_and_expire() -> None:
    viewers = HomeViewers(size=2, ttl=dt.timedelta(minutes=30))
    viewers.opened("U1", now=NOW)
    viewers.opened("U2", now=NOW + dt.timedelta(minutes=1))
    viewers.opened("U3", now=NOW + dt.timedelta(minutes=2))
    assert viewers.recent(now=NOW + dt.timedelta(minutes=2)) == ["U2", "U3"]
    assert viewers.recent(now=NOW + dt.timedelta(minutes=31, seconds=30)) == ["U3"]
    assert viewers.recent(now=NOW + dt.timedelta(hours=1)) == []


# --- the stand-in's views.publish ------------------------------------------------------------------------


def _publish(slack: SlackStandIn, view: Any, user: str = USER) -> SlackApiError:
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as info:
        client.views_publish(user_id=user, view=view)
    return info.value


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_the_stand_in_answers_views_publish_as_slack_does(slack: SlackStandIn) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    resp = client.views_publish(user_id=USER, view={"type": "home", "blocks": [_section("hi")]})
    assert resp["ok"] and resp["view"]["type"] == "home"
    assert slack.home_views[USER]["blocks"] == [_section("hi")]
    assert _publish(slack, {"type": "modal", "blocks": []}).response["error"] == "invalid_arguments"
    too_many = _publish(slack, {"type": "home", "blocks": [_section("x")] * 101})
    assert too_many.response["error"] == "invalid_arguments"
    assert "no more than 100 items" in too_many.response["response_metadata"]["messages"][0]
    assert _publish(slack, {"type": "home", "blocks": [_section("x" * 3001)]}).response["error"] == "invalid_blocks"
    assert _publish(slack, {"type": "home", "blocks": [{"type": "nonsense"}]}).response["error"] == "invalid_blocks"
    slack.home_tab_enabled = False
    assert _publish(slack, {"type": "home", "blocks": [_section("hi")]}).response["error"] == "not_enabled"
    assert len(slack.published) == 1


# --- end to end: the event, the buttons, the refresh ----------------------------------------------------

OWNERS = f"""
owners:
  - release: {RELEASE_ID}
    desk: ai-digital
    users: [{USER}]
"""


@pytest.fixture
def started(tmp_path: Path, slack: SlackStandIn) -> Started:
    owners = tmp_path / "owners.yml"
    owners.write_text(OWNERS, encoding="utf-8")
    slack.locales[USER] = "en-US"
    return start_http_mode(tmp_path, slack.api_url, owners_file=owners)


def event_body(user: str = USER, *, tab: str = "home") -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0LOCAL",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME01", "tab": tab, "event_ts": "1.0"},
        }
    )


def json_headers(body: str) -> dict[str, str]:
    return {**signed_headers(body), "content-type": "application/json"}


def open_home(started: Started, user: str = USER, *, tab: str = "home") -> None:
    body = event_body(user, tab=tab)
    response = asyncio.run(dispatch(started, body, json_headers(body)))
    assert response.status == 200


def view_press(action_id: str, commitment_id: str, *, user_id: str = USER, user_team: str | None = None) -> str:
    user: dict[str, str] = {"id": user_id, **({"team_id": user_team} if user_team else {})}
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": user,
        "api_app_id": "A0LOCAL",
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "container": {"type": "view", "view_id": f"V{user_id[1:]}"},
        "view": {"id": f"V{user_id[1:]}", "type": "home", "blocks": []},
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"g7_followup:{commitment_id}",
                "value": commitment_id,
                "type": "button",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def press(started: Started, body: str) -> None:
    response = asyncio.run(dispatch(started, body))
    assert response.status == 200


def home_of(slack: SlackStandIn, user: str = USER) -> str:
    return json.dumps(slack.home_views[user]["blocks"], ensure_ascii=False)


def test_opening_the_home_tab_publishes_the_persons_follow_ups(started: Started, slack: SlackStandIn) -> None:
    open_home(started)
    ((user, view),) = slack.published
    assert user == USER and view["type"] == "home"
    blocks = home_of(slack)
    assert "Your G7 follow-ups" in blocks, "in the person's language (users.info: en-US)"
    assert "g7_followup:fr-presidency" in blocks, "an ai-digital follow-up: the owner's desk"
    assert "g7_followup:ca-steel" not in blocks, "a follow-up of the general desk: not theirs"
    assert "Assigned to you, and those of your desks" in blocks


def test_someone_who_owns_nothing_sees_the_team_in_japanese(started: Started, slack: SlackStandIn) -> None:
    open_home(started, "U0NOBODY1")
    blocks = home_of(slack, "U0NOBODY1")
    assert "あなたのG7フォローアップ" in blocks and "data/owners.yml" in blocks
    assert "g7_followup:ca-steel" in blocks or "ca-steel" in blocks


def test_the_messages_tab_publishes_nothing(started: Started, slack: SlackStandIn) -> None:
    open_home(started, tab="messages")
    assert slack.calls_to("views.publish") == []


def test_done_from_the_home_tab_changes_the_state_audits_it_and_republishes(
    started: Started, slack: SlackStandIn
) -> None:
    open_home(started)
    press(started, view_press("g7_followup_done", "fr-presidency"))
    state = started.service.states()["fr-presidency"]
    assert (state.status, state.updated_by) == ("done", USER)
    (entry,) = list(started.service.audit)
    assert (entry.action, entry.actor, entry.surface, entry.commitment_id) == (
        "done",
        USER,
        "app_home",
        "fr-presidency",
    )
    assert len(slack.published) == 2, "the tab is published again after the change"
    actions = {
        b["block_id"]: [e["action_id"] for e in b["elements"]]
        for b in slack.home_views[USER]["blocks"]
        if b["type"] == "actions"
    }
    assert actions["g7_followup:fr-presidency"] == ["g7_followup_reopen"]
    assert not slack.calls_to("chat.update"), "no message to rewrite: the button was on the tab"

    press(started, view_press("g7_followup_reopen", "fr-presidency"))
    assert started.service.states()["fr-presidency"].status == "open"
    assert [(e.action, e.surface) for e in started.service.audit] == [("done", "app_home"), ("reopen", "app_home")]
    assert len(slack.published) == 3


def test_snooze_from_the_home_tab(started: Started, slack: SlackStandIn) -> None:
    press(started, view_press("g7_followup_snooze_1w", "fr-presidency"))
    state = started.service.states()["fr-presidency"]
    assert state.snoozed_until is not None
    assert [(e.action, e.surface) for e in started.service.audit] == [("snooze", "app_home")]
    # The presser's tab is published even though this instance never saw them open it.
    assert [u for u, _ in slack.published] == [USER]
    assert "snoozed until" in home_of(slack)
    press(started, view_press("g7_followup_snooze_1d", "fr-presidency"))
    assert len(list(started.service.audit)) == 1, "still snoozed: a second snooze changes nothing"
    assert len(slack.published) == 2, "but the presser's tab, out of date, is drawn again"


def test_ill_take_it_from_the_home_tab(started: Started, slack: SlackStandIn) -> None:
    press(started, view_press("g7_followup_take", "ca-steel", user_id="U0TAKER01"))
    assert started.service.states()["ca-steel"].assignee == "U0TAKER01"
    assert [(e.action, e.actor, e.surface) for e in started.service.audit] == [("assign", "U0TAKER01", "app_home")]
    # Now theirs: listed on their own tab, which owned nothing before.
    blocks = home_of(slack, "U0TAKER01")
    assert "g7_followup:ca-steel" in blocks and "data/owners.yml" not in blocks


def test_a_home_press_by_a_user_of_another_workspace_is_refused(started: Started, slack: SlackStandIn) -> None:
    press(started, view_press("g7_followup_done", "fr-presidency", user_team="T0OTHER"))
    assert "fr-presidency" not in started.service.states()
    assert list(started.service.audit) == []
    assert slack.published == []


def test_a_press_in_a_channel_refreshes_the_tabs_of_recent_viewers(started: Started, slack: SlackStandIn) -> None:
    open_home(started)
    ts = post_reminder(started, "fr-presidency")
    press(started, press_body("g7_followup_done", commitment_id="fr-presidency", channel=TOKYO_CHANNEL, ts=ts))
    assert started.service.states()["fr-presidency"].status == "done"
    assert [u for u, _ in slack.published] == [USER, USER]
    assert '"g7_followup_reopen"' in home_of(slack)


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        pytest.param(lambda s: setattr(s, "home_tab_enabled", False), "not_enabled", id="home-tab-disabled"),
        pytest.param(
            lambda s: s.add_fault(Fault("views.publish", status=200, body={"ok": False, "error": "invalid_blocks"})),
            "invalid_blocks",
            id="invalid-blocks",
        ),
        pytest.param(lambda s: s.add_fault(Fault("views.publish", status=500)), "fatal_error", id="5xx"),
    ],
)
def test_a_failed_publish_is_logged_not_raised(
    started: Started, slack: SlackStandIn, caplog: pytest.LogCaptureFixture, setup: Any, error: str
) -> None:
    setup(slack)
    with caplog.at_level(logging.WARNING, logger="bot.home.publish"):
        open_home(started)
    assert slack.published == []
    assert f"views.publish for {USER} failed: {error}" in caplog.text
    # The bot still answers afterwards.
    slack.home_tab_enabled = True
    open_home(started)
    assert len(slack.published) == 1


def heading_over(slack: SlackStandIn, commitment_id: str) -> str:
    """The section heading the commitment is listed under on USER's tab."""
    heading = ""
    for block in slack.home_views[USER]["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "section" and text.startswith("*"):
            heading = text.split("\n")[0]
        if block.get("block_id") == f"g7_followup:{commitment_id}":
            return heading
    raise AssertionError(f"{commitment_id} is not on the tab")


def test_an_admin_date_and_an_admin_reopen_refresh_the_open_tabs(started: Started, slack: SlackStandIn) -> None:
    open_home(started)
    assert heading_over(slack, "fr-presidency").startswith("*Due within 30 days")
    asyncio.run(dispatch(started, slash_body("admin due fr-presidency 2026-11-30 en")))
    assert len(slack.published) == 2, "the viewer's tab is published again after admin due"
    # A confirmed date now past: overdue, on the tab at once as everywhere else.
    assert heading_over(slack, "fr-presidency").startswith("*Overdue")

    press(started, view_press("g7_followup_done", "fr-presidency"))
    assert len(slack.published) == 3
    asyncio.run(dispatch(started, slash_body("admin reopen fr-presidency en")))
    assert started.service.states()["fr-presidency"].status == "open"
    assert len(slack.published) == 4, "admin reopen re-publishes too"


def test_a_desk_owned_through_a_user_group_is_on_its_members_tabs(tmp_path: Path, slack: SlackStandIn) -> None:
    owners = tmp_path / "owners.yml"
    owners.write_text(
        f"owners:\n  - release: {RELEASE_ID}\n    desk: general\n    usergroups: [S0DESK001]\n", encoding="utf-8"
    )
    slack.usergroups["S0DESK001"] = ["U0MEMBER1"]
    started = start_http_mode(tmp_path, slack.api_url, owners_file=owners)
    open_home(started, "U0MEMBER1")
    blocks = home_of(slack, "U0MEMBER1")
    assert "g7_followup:ca-steel" in blocks, "a follow-up of the general desk: the group's"
    assert "g7_followup:fr-presidency" not in blocks, "ai-digital is not theirs"
    assert [c.args.get("usergroup") for c in slack.calls_to("usergroups.users.list")] == ["S0DESK001"]
    open_home(started, "U0OUTSIDE")
    assert "data/owners.yml" in home_of(slack, "U0OUTSIDE"), "not in the group: owns nothing"
    assert len(slack.calls_to("usergroups.users.list")) == 1, "the members are cached"


# --- a change made on the tab (or by an admin) rewrites the reminders already posted ------------------------


def post_reminder_as(started: Started, commitment_id: str, *, key: str, channel: str, at: dt.datetime = NOW) -> str:
    """Post reminder `key` of `commitment_id` in `channel` as the scheduler would; its message ts."""
    occ = Occurrence(
        kind="reminder",
        key=key,
        channel=channel,
        at=at,
        lang="ja",
        timezone="Asia/Tokyo",
        commitment_id=commitment_id,
    )
    asyncio.run(started.service.deliverer.post_now(occ, at))
    (delivery,) = [d for d in started.service.store.deliveries(kind="reminder", channel=channel) if d.key == key]
    assert delivery.message_ts
    return str(delivery.message_ts)


def updates_of(slack: SlackStandIn) -> dict[tuple[str, str], dict[str, Any]]:
    """(channel, ts) -> what chat.update was last given for that message (text and blocks)."""
    return {
        (str(c.args["channel"]), str(c.args["ts"])): {"text": c.args.get("text"), "blocks": c.args.get("blocks")}
        for c in slack.calls_to("chat.update")
    }


@pytest.fixture
def twin(tmp_path: Path, slack: SlackStandIn) -> Started:
    """A second bot on its own data and database, to press in the channel what the first presses on its tab."""
    owners = tmp_path / "twin-owners.yml"
    owners.write_text(OWNERS, encoding="utf-8")
    return start_http_mode(tmp_path / "twin", slack.api_url, owners_file=owners)


@pytest.mark.parametrize(
    "action_id",
    ["g7_followup_done", "g7_followup_snooze_1w", "g7_followup_snooze_nbd", "g7_followup_take"],
)
def test_a_home_press_rewrites_the_posted_reminder_as_a_press_in_the_channel_would(
    started: Started, twin: Started, slack: SlackStandIn, action_id: str
) -> None:
    # The twin: the same reminder, pressed in the channel by the same user at the same time.
    twin_ts = post_reminder(twin, "fr-presidency")
    press(twin, press_body(action_id, commitment_id="fr-presidency", channel=TOKYO_CHANNEL, ts=twin_ts, user_id=USER))
    pressed_there = updates_of(slack)[(TOKYO_CHANNEL, twin_ts)]

    ts = post_reminder(started, "fr-presidency")
    press(started, view_press(action_id, "fr-presidency"))
    rewritten = updates_of(slack)[(TOKYO_CHANNEL, ts)]
    assert rewritten == pressed_there, "the same words as a press in the channel: who did it, and when"
    assert slack.messages[(TOKYO_CHANNEL, ts)]["blocks"] == pressed_there["blocks"]
    if action_id == "g7_followup_take":
        assert f"<@{USER}>" in json.dumps(rewritten["blocks"]) and "g7_followup_take" not in json.dumps(rewritten)
    else:
        assert "g7_followup_done" not in json.dumps(rewritten["blocks"]), "its Done and Snooze buttons are gone"
        assert f"<@{USER}>" in rewritten["text"] or f"<@{USER}>" in json.dumps(rewritten["blocks"])


def test_a_later_press_in_the_channel_after_done_on_the_tab_is_a_reopen_not_a_stale_done(
    started: Started, slack: SlackStandIn
) -> None:
    ts = post_reminder(started, "fr-presidency")
    press(started, view_press("g7_followup_done", "fr-presidency"))
    blocks = slack.messages[(TOKYO_CHANNEL, ts)]["blocks"]
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["g7_followup_reopen"]
    press(started, press_body("g7_followup_reopen", commitment_id="fr-presidency", channel=TOKYO_CHANNEL, ts=ts))
    assert started.service.states()["fr-presidency"].status == "open"
    assert "g7_followup_done" in json.dumps(slack.messages[(TOKYO_CHANNEL, ts)]["blocks"]), "its buttons are back"


def test_only_the_latest_reminder_in_each_channel_is_rewritten(started: Started, slack: SlackStandIn) -> None:
    old = post_reminder_as(started, "fr-presidency", key="reminder:fr-presidency:d7", channel=TOKYO_CHANNEL)
    latest = post_reminder_as(
        started, "fr-presidency", key="reminder:fr-presidency:d1", channel=TOKYO_CHANNEL, at=NOW + dt.timedelta(hours=1)
    )
    paris = post_reminder_as(started, "fr-presidency", key="reminder:fr-presidency:d7", channel="C0PARIS001")
    other = post_reminder_as(started, "ca-steel", key="reminder:ca-steel:d7", channel=TOKYO_CHANNEL)
    press(started, view_press("g7_followup_done", "fr-presidency"))
    assert set(updates_of(slack)) == {(TOKYO_CHANNEL, latest), ("C0PARIS001", paris)}
    assert (TOKYO_CHANNEL, old) not in updates_of(slack) and (TOKYO_CHANNEL, other) not in updates_of(slack)


def test_the_rewrites_are_bounded(started: Started, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.schedule import service as service_module

    monkeypatch.setattr(service_module, "REWRITE_LIMIT", 2)
    for n in range(4):
        post_reminder_as(started, "fr-presidency", key="reminder:fr-presidency:d7", channel=f"C0CHAN00{n}")
    press(started, view_press("g7_followup_done", "fr-presidency"))
    assert len(slack.calls_to("chat.update")) == 2


@pytest.mark.parametrize("error", ["message_not_found", "cant_update_message", "channel_not_found"])
def test_a_reminder_slack_will_not_update_is_logged_and_the_press_still_counts(
    started: Started, slack: SlackStandIn, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    ts = post_reminder_as(started, "fr-presidency", key="reminder:fr-presidency:d1", channel=TOKYO_CHANNEL)
    # The newest: rewritten first, so the fault falls on it.
    gone = post_reminder_as(started, "fr-presidency", key="reminder:fr-presidency:d7", channel="C0PARIS001")
    if error == "message_not_found":
        del slack.messages[("C0PARIS001", gone)]  # deleted in Slack since
    else:
        slack.add_fault(Fault("chat.update", status=200, body={"ok": False, "error": error}))
    open_home(started)
    with caplog.at_level(logging.WARNING, logger="bot.schedule.service"):
        press(started, view_press("g7_followup_done", "fr-presidency"))
    assert started.service.states()["fr-presidency"].status == "done"
    assert error in caplog.text and "not rewritten after done" in caplog.text
    assert len(slack.calls_to("chat.update")) == 2, "the one that failed did not stop the other"
    assert len(slack.published) == 2, "and the tab is published again"
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)
    assert '"g7_followup_reopen"' in json.dumps(slack.messages[(TOKYO_CHANNEL, ts)]["blocks"])


def test_admin_reopen_and_admin_due_rewrite_the_posted_reminder(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started, "fr-presidency")
    press(started, view_press("g7_followup_done", "fr-presidency"))
    asyncio.run(dispatch(started, slash_body("admin reopen fr-presidency en")))
    message = json.dumps(slack.messages[(TOKYO_CHANNEL, ts)], ensure_ascii=False)
    assert "<@U0ADMIN01>" in message and "admin:" not in message, "reopened by the admin, as a press would say"
    assert "g7_followup_done" in message, "its buttons are back"
    asyncio.run(dispatch(started, slash_body("admin due fr-presidency 2027-01-15 en")))
    message = json.dumps(slack.messages[(TOKYO_CHANNEL, ts)], ensure_ascii=False)
    assert "15 January 2027" in message, "the date an admin set, in the language the reminder was posted in"
    assert len(slack.calls_to("chat.update")) == 3
    # Done: a date change leaves the message saying who did it.
    press(started, view_press("g7_followup_done", "fr-presidency"))
    asyncio.run(dispatch(started, slash_body("admin due fr-presidency 2027-01-20 en")))
    assert len(slack.calls_to("chat.update")) == 4
