"""What digests, reminders and `/g7 followups` say, and that their Block Kit stays within Slack's limits."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, build_message
from bot.commands import followups
from bot.commands.base import Ask, Command
from bot.messages import MESSAGES, format_date, msg
from bot.release.loader import COMMITMENTS_FILE, DATA_DIR
from bot.release.lookup import ReleaseLookup
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from bot.schedule.content import (
    ACTION_DONE,
    ACTION_SNOOZE_1D,
    ACTION_SNOOZE_1W,
    ACTION_SNOOZE_NEXT_BUSINESS_DAY,
    ACTION_TAKE,
    build_digest_reply,
    build_followups_reply,
    build_reminder_reply,
    build_resolved_reply,
    mention,
    source_text,
)
from bot.schedule.due import digest_items
from bot.schedule.models import Commitment, CommitmentsFile, ScheduleFile, load_commitments, load_schedule
from bot.schedule.occurrence import CommitmentState, Occurrence
from bot.text import escape
from tests.helpers import text_of

UTC = dt.UTC
TOKYO = ZoneInfo("Asia/Tokyo")
CHANNEL = "C0123456789"
NOW = dt.datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # Monday 2026-11-30 00:30 in Tokyo
NO_STATES: dict[str, CommitmentState] = {}
HOSTILE = "<!channel> & <@U0ABCDEF12> <https://evil.example|click>"


def commitment(cid: str, due: str, **values: Any) -> Commitment:
    data: dict[str, Any] = {
        "id": cid,
        "title": {"ja": f"{cid} の件", "en": f"Item {cid}"},
        "detail": {"ja": "議論を行いました。", "en": "Discussed."},
        "source": {"kind": "bilateral", "ref": "fr"},
        "owner_desk": "ai-digital",
        "due": due,
        "due_is_assumption": True,
        "assumption_note": {"ja": "仮の期日", "en": "Date assumed"},
        **values,
    }
    return Commitment.model_validate(data)


def section_with(reply: Reply, heading: str) -> str:
    found = [s.text for s in reply.sections if s.text.startswith(f"*{heading}*")]
    assert len(found) == 1, heading
    return found[0]


def within_limits(reply: Reply) -> dict[str, Any]:
    message = build_message(reply)  # slack_sdk validates each block here
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
    return message


@pytest.fixture(scope="module")
def data() -> CommitmentsFile:
    return load_commitments(COMMITMENTS_FILE)


def reminder_at(c: Commitment, at: dt.datetime, key: str | None = None) -> Occurrence:
    return Occurrence(
        kind="reminder",
        key=key or f"reminder:{c.id}:d0",
        channel=CHANNEL,
        at=at,
        timezone="Asia/Tokyo",
        commitment_id=c.id,
    )


# --- digests --------------------------------------------------------------------------------------

MIX = [
    commitment("past-due", "2026-11-20"),
    commitment("soon", "2026-12-04", due_is_assumption=False, assumption_note=None),
    commitment("later", "2027-03-01"),
    commitment("finished", "2026-11-27", status="done", done_on="2026-11-26", owner_desk="general"),
    commitment("late", "2026-11-25", due_is_assumption=False, assumption_note=None),
]


@pytest.mark.parametrize("lang", LANGS)
def test_digest_sections(lang: Lang, release: Release) -> None:
    items = digest_items(MIX, NO_STATES, NOW, tz=TOKYO, lookahead_days=14, recent_days=7)
    reply = build_digest_reply(items, lang=lang, now=NOW, tz=TOKYO, release=release)
    assert reply.title == msg("digest.title", lang, date=format_date(dt.date(2026, 11, 30), lang))
    overdue = section_with(reply, msg("digest.overdue", lang))
    to_confirm = section_with(reply, msg("digest.to_confirm", lang))
    upcoming = section_with(reply, msg("digest.upcoming", lang, days=14))
    done = section_with(reply, msg("digest.recent", lang, days=7))
    # A confirmed date past is overdue; an assumed one past is a date to confirm, never overdue.
    assert "late" in overdue and msg("followups.overdue_by", lang, days=5) in overdue and "past-due" not in overdue
    assert "past-due" in to_confirm and msg("followups.passed_by", lang, days=10) in to_confirm
    assert "soon" in upcoming and "later" not in text_of(reply)
    assert format_date(dt.date(2026, 12, 4), lang) in upcoming
    assert msg("followups.assumed", lang) in to_confirm and msg("followups.assumed", lang) not in overdue
    assert msg("followups.assumed", lang) not in upcoming  # "soon" has a real date
    assert "finished" in done and format_date(dt.date(2026, 11, 26), lang) in done
    # The owner is its desk (bureau, office) and its people, not the desk's topic sentence.
    assert release.desk("ai-digital").unit(lang) in upcoming and release.desk("ai-digital").topic(lang) not in upcoming
    assert release.desk("general").unit(lang) in done
    assert reply.citation is not None and release.publisher(lang) in reply.citation.elements[0]
    assert reply.buttons == []
    within_limits(reply)


@pytest.mark.parametrize("lang", LANGS)
def test_empty_digest_says_nothing_is_due(lang: Lang, release: Release) -> None:
    items = digest_items([], NO_STATES, NOW, tz=TOKYO, lookahead_days=14, recent_days=7)
    text = text_of(build_digest_reply(items, lang=lang, now=NOW, tz=TOKYO, release=release))
    for key in ("digest.nothing_overdue", "digest.nothing_upcoming", "digest.nothing_done"):
        assert msg(key, lang) in text
    # Even with nothing listed, the footer names the release's own follow-ups file.
    assert f"`data/releases/{release.id}/commitments.yml`" in text


def test_digest_of_the_shipped_data(data: CommitmentsFile, release: Release) -> None:
    pressed = {
        "ca-steel": CommitmentState(commitment_id="ca-steel", status="done", updated_at=NOW - dt.timedelta(days=2))
    }
    items = digest_items(data, pressed, NOW, tz=TOKYO, lookahead_days=14, recent_days=7)
    reply = build_digest_reply(items, lang="ja", now=NOW, tz=TOKYO, release=release)
    assert "G7量子技術合同作業部会" in section_with(reply, msg("digest.to_confirm", "ja"))
    assert "フランス" in section_with(reply, msg("digest.upcoming", "ja", days=14))
    assert "カナダ" in section_with(reply, msg("digest.recent", "ja", days=7))
    # Every shipped date is an assumption: the digest no longer opens with overdue items.
    assert msg("digest.nothing_overdue", "ja") in section_with(reply, msg("digest.overdue", "ja"))
    within_limits(reply)


# --- reminders ------------------------------------------------------------------------------------


def test_reminder_buttons(release: Release) -> None:
    c = commitment("fr-presidency", "2026-12-11")
    reply = build_reminder_reply(
        c, reminder_at(c, dt.datetime(2026, 12, 4, tzinfo=UTC)), lang="en", release=release, state=None
    )
    assert [(b.action_id, b.value, b.style) for b in reply.buttons] == [
        (ACTION_DONE, "fr-presidency", "primary"),
        (ACTION_SNOOZE_1D, "fr-presidency", None),
        (ACTION_SNOOZE_1W, "fr-presidency", None),
        (ACTION_SNOOZE_NEXT_BUSINESS_DAY, "fr-presidency", None),
        (ACTION_TAKE, "fr-presidency", None),
    ]
    assert (ACTION_DONE, ACTION_SNOOZE_1D, ACTION_SNOOZE_1W, ACTION_SNOOZE_NEXT_BUSINESS_DAY) == (
        "g7_followup_done",
        "g7_followup_snooze_1d",
        "g7_followup_snooze_1w",
        "g7_followup_snooze_nbd",
    )
    actions = [b for b in within_limits(reply)["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1
    assert actions[0]["block_id"] == "g7_followup:fr-presidency"
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        ACTION_DONE,
        ACTION_SNOOZE_1D,
        ACTION_SNOOZE_1W,
        ACTION_SNOOZE_NEXT_BUSINESS_DAY,
        ACTION_TAKE,
    ]
    assert [e["text"]["text"] for e in actions[0]["elements"]] == [
        "Done",
        "Snooze 1 day",
        "Snooze 1 week",
        "Snooze to next business day",
        "I'll take it",
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_content(lang: Lang, release: Release) -> None:
    c = commitment("fr-presidency", "2026-12-11", window_start="2026-01-01")
    reply = build_reminder_reply(
        c, reminder_at(c, dt.datetime(2026, 12, 4, tzinfo=UTC)), lang=lang, release=release, state=None
    )
    text = text_of(reply)
    assert reply.title == msg("reminder.title", lang, title=c.title(lang))
    assert msg("reminder.due_in", lang, days=7) in text
    assert c.detail(lang) in text
    assert f"{format_date(c.due, lang)} {msg('followups.assumed', lang)}" in text
    assert msg("reminder.assumption", lang, note=c.assumption_note(lang) if c.assumption_note else "") in text
    france = next(b for b in release.bilaterals if b.id == "fr")
    assert france.organisation(lang) in text and france.counterpart.name(lang) in text
    desk = release.desk("ai-digital")
    assert desk.unit(lang) in text and desk.extension in text and desk.email in text
    assert desk.topic(lang) not in text  # the desk, not its topic sentence
    assert format_date(dt.date(2026, 1, 1), lang) in text  # the window


@pytest.mark.parametrize(
    ("local_day", "key", "values"),
    [
        pytest.param(dt.date(2026, 11, 11), "reminder.due_in", {"days": 30}, id="thirty-days"),
        pytest.param(dt.date(2026, 12, 10), "reminder.due_tomorrow", {}, id="tomorrow"),
        pytest.param(dt.date(2026, 12, 11), "reminder.due_today", {}, id="today"),
        pytest.param(dt.date(2026, 12, 14), "reminder.to_confirm", {"days": 3}, id="snoozed-past-assumed-date"),
    ],
)
def test_reminder_says_how_far_the_due_date_is(
    local_day: dt.date, key: str, values: dict[str, int], release: Release
) -> None:
    c = commitment("fr-presidency", "2026-12-11")
    # 08:30 in Tokyo is still the previous day in UTC: the local date counts.
    at = dt.datetime.combine(local_day, dt.time(8, 30), tzinfo=TOKYO)
    reply = build_reminder_reply(c, reminder_at(c, at), lang="en", release=release, state=None)
    assert reply.sections[0].text.startswith(msg(key, "en", **values))


def test_snoozed_reminder_says_who_snoozed(release: Release) -> None:
    c = commitment("fr-presidency", "2026-12-11")
    until = dt.datetime(2026, 12, 5, 3, tzinfo=UTC)
    occurrence = reminder_at(c, until, key="reminder:fr-presidency:snooze:20261205T0300")
    state = CommitmentState(commitment_id=c.id, snoozed_until=until, updated_by="U0ABCDEF12")
    text = text_of(build_reminder_reply(c, occurrence, lang="en", release=release, state=state))
    assert msg("reminder.snoozed_by_user", "en", user="<@U0ABCDEF12>") in text


@pytest.mark.parametrize(
    ("kind", "ref", "expected"),
    [
        pytest.param("bilateral", "ca-joly", ["Canada", "Mélanie Joly", "Minister of Industry"], id="bilateral"),
        pytest.param(
            "outcome", "sme-ai-blueprint", ["Small and Medium-sized Enterprise AI Adoption Blueprint"], id="outcome"
        ),
        pytest.param(
            "meeting",
            "meeting",
            ["What State Minister Ino (井野) said at the G7 Industry, Digital and Technology Ministers' Meeting"],
            id="meeting-names-the-speaker",
        ),
    ],
)
def test_reminder_source(kind: str, ref: str, expected: list[str], release: Release) -> None:
    c = commitment("x-item", "2026-12-11", source={"kind": kind, "ref": ref})
    text = source_text(c, release, "en")
    assert all(part in text for part in expected)


# --- what the release says and what the team plans ------------------------------------------------


def release_says(c: Commitment, lang: Lang) -> str:
    return f"*{msg('followups.release_says', lang)}*: {escape(c.detail(lang))}"


def team_plan(c: Commitment, lang: Lang) -> str:
    assert c.planned_action is not None, c.id
    return f"*{msg('followups.team_plan', lang)}*: {escape(c.planned_action(lang))}"


def test_the_plan_label_says_it_is_not_in_the_release() -> None:
    assert "not in the release" in msg("followups.team_plan", "en")
    assert "発表にはない" in msg("followups.team_plan", "ja")


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_keeps_the_release_and_the_team_plan_apart(
    lang: Lang, data: CommitmentsFile, release: Release
) -> None:
    c = data.get("ca-steel")
    assert c is not None
    reply = build_reminder_reply(
        c, reminder_at(c, dt.datetime(2026, 11, 20, tzinfo=UTC)), lang=lang, release=release, state=None
    )
    text = reply.sections[0].text
    assert release_says(c, lang) in text
    assert team_plan(c, lang) in text
    assert text.index(release_says(c, lang)) < text.index(team_plan(c, lang))


@pytest.mark.parametrize("lang", LANGS)
def test_every_shipped_reminder_shows_both_labelled(lang: Lang, data: CommitmentsFile, release: Release) -> None:
    for c in data.commitments:
        occurrence = reminder_at(c, dt.datetime.combine(c.due, dt.time(9), tzinfo=TOKYO))
        text = text_of(build_reminder_reply(c, occurrence, lang=lang, release=release, state=None))
        assert release_says(c, lang) in text, c.id
        assert team_plan(c, lang) in text, c.id


@pytest.mark.parametrize("lang", LANGS)
def test_digest_shows_the_release_and_the_plan_labelled(lang: Lang, data: CommitmentsFile, release: Release) -> None:
    items = digest_items(data, NO_STATES, NOW, tz=TOKYO, lookahead_days=14, recent_days=7)
    reply = build_digest_reply(items, lang=lang, now=NOW, tz=TOKYO, release=release)
    to_confirm = section_with(reply, msg("digest.to_confirm", lang))
    upcoming = section_with(reply, msg("digest.upcoming", lang, days=14))
    assert items.to_confirm and items.upcoming
    for c in items.to_confirm:
        assert release_says(c, lang) in to_confirm and team_plan(c, lang) in to_confirm, c.id
    for c in items.upcoming:
        assert release_says(c, lang) in upcoming and team_plan(c, lang) in upcoming, c.id
    within_limits(reply)


def test_no_plan_means_no_plan_label(release: Release) -> None:
    c = commitment("no-plan", "2026-12-11")
    text = text_of(build_reminder_reply(c, reminder_at(c, NOW), lang="en", release=release, state=None))
    assert release_says(c, "en") in text
    assert msg("followups.team_plan", "en") not in text


# --- after a button press -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "shown"),
    [
        pytest.param("U0ABCDEF12", "<@U0ABCDEF12>", id="user"),
        pytest.param("W0ABCDEF12", "<@W0ABCDEF12>", id="enterprise-user"),
        pytest.param("<!channel>", "&lt;!channel&gt;", id="broadcast-injection"),
        pytest.param("U123><!here", "U123&gt;&lt;!here", id="closing-bracket-injection"),
        pytest.param("u0abcdef12", "u0abcdef12", id="lower-case-is-not-an-id"),
        pytest.param("U0ABC|x", "U0ABC|x", id="pipe"),
    ],
)
def test_mention_only_for_real_user_ids(user_id: str, shown: str) -> None:
    assert mention(user_id) == shown


@pytest.mark.parametrize("lang", LANGS)
def test_resolved_done(lang: Lang, release: Release) -> None:
    c = commitment("fr-presidency", "2026-12-11")
    when = dt.datetime(2026, 12, 4, 0, 5, tzinfo=UTC)
    reply = build_resolved_reply(
        c, action="done", user_id="U0ABCDEF12", lang=lang, release=release, when=when, tz=TOKYO
    )
    # Done and Snooze are gone; Done can be undone.
    assert [(b.action_id, b.value, b.text) for b in reply.buttons] == [
        ("g7_followup_reopen", c.id, msg("reminder.button_reopen", lang))
    ]
    expected = msg(
        "reminder.done_by",
        lang,
        user="<@U0ABCDEF12>",
        when=f"{format_date(dt.date(2026, 12, 4), lang)} 09:05 JST",
    )
    assert reply.sections[0].text.startswith(expected)
    message = within_limits(reply)
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["g7_followup_reopen"]


def test_resolved_snooze_with_a_hostile_user_id(release: Release) -> None:
    c = commitment("fr-presidency", "2026-12-11")
    until = dt.datetime(2026, 12, 11, 0, 5, tzinfo=UTC)
    reply = build_resolved_reply(
        c,
        action="snooze",
        user_id=HOSTILE,
        lang="en",
        release=release,
        when=until,
        tz=ZoneInfo("Europe/Paris"),
    )
    text = build_message(reply)["text"] + str(build_message(reply)["blocks"])
    assert "<!channel>" not in text and "<@U0ABCDEF12>" not in text and "<https://" not in text
    assert "&lt;!channel&gt;" in text
    assert "Snoozed until 11 December 2026 (Fri) 01:05 CET by " in reply.sections[0].text


# --- escaping and limits --------------------------------------------------------------------------


def test_data_text_is_escaped_everywhere(release: Release) -> None:
    c = commitment(
        "hostile",
        "2026-12-01",
        title={"ja": HOSTILE, "en": HOSTILE},
        detail={"ja": HOSTILE, "en": HOSTILE},
        assumption_note={"ja": HOSTILE, "en": HOSTILE},
    )
    items = digest_items([c], NO_STATES, NOW, tz=TOKYO, lookahead_days=14, recent_days=7)
    replies = [
        build_digest_reply(items, lang="en", now=NOW, tz=TOKYO, release=release),
        build_reminder_reply(c, reminder_at(c, NOW), lang="en", release=release, state=None),
        build_followups_reply([c], NO_STATES, NOW, lang="en", tz=TOKYO, release=release),
    ]
    for reply in replies:
        message = build_message(reply)
        mrkdwn = message["text"] + "".join(
            b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b
        )
        assert "<!channel>" not in mrkdwn and "<@U0ABCDEF12>" not in mrkdwn
        assert "&lt;!channel&gt; &amp; &lt;@U0ABCDEF12&gt;" in mrkdwn


def test_many_long_commitments_stay_within_limits(release: Release) -> None:
    # As long as the models allow (150 characters for a label, 1500 for a text), with a plan as well.
    long_title = {"ja": "長い題名。" * 30, "en": "A long title. " * 10}
    long_text = {"ja": "長い説明。" * 300, "en": "A long explanation. " * 75}
    many = [
        commitment(
            f"item-{n:03d}",
            f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}",
            title=long_title,
            detail=long_text,
            planned_action=long_text,
        )
        for n in range(120)
    ]
    reply = build_followups_reply(many, NO_STATES, NOW, lang="ja", tz=TOKYO, release=release)
    within_limits(reply)
    items = digest_items(many, NO_STATES, NOW, tz=TOKYO, lookahead_days=366, recent_days=7)
    within_limits(build_digest_reply(items, lang="en", now=NOW, tz=TOKYO, release=release))
    within_limits(build_reminder_reply(many[0], reminder_at(many[0], NOW), lang="en", release=release, state=None))


@pytest.mark.parametrize("lang", LANGS)
def test_every_reminder_of_the_shipped_data_builds(lang: Lang, data: CommitmentsFile, release: Release) -> None:
    for c in data.commitments:
        occurrence = reminder_at(c, dt.datetime.combine(c.due, dt.time(9), tzinfo=TOKYO))
        within_limits(build_reminder_reply(c, occurrence, lang=lang, release=release, state=None))


# --- /g7 followups --------------------------------------------------------------------------------


class FakeSource:
    """A FollowupSource as the service provides it: loaded files and states from the database."""

    def __init__(self, commitments: list[Commitment], states: Mapping[str, CommitmentState]):
        self._commitments = CommitmentsFile(commitments=commitments)
        self._states = states

    def commitments(self) -> CommitmentsFile:
        return self._commitments

    def states(self) -> Mapping[str, CommitmentState]:
        return self._states

    def schedule(self) -> ScheduleFile:
        return ScheduleFile.model_validate({"timezone": "Europe/Paris", "reminders": {"channel": CHANNEL}})


def ask(lookup: ReleaseLookup, *args: str, lang: Lang = "en", services: Any = None) -> Ask:
    return Ask(args=args, raw_args=" ".join(args), lang=lang, now=NOW, lookup=lookup, services=services)


def _title(release: Release, lang: Lang, count: int) -> str:
    """The title of one release's follow-ups: named by its meeting."""
    assert release.meeting is not None
    return msg("followups.title_of", lang, name=escape(release.meeting.name(lang)), count=count)


def test_followups_command_is_described_by_its_docstring() -> None:
    command = Command.from_module(followups)
    assert command.name == "followups"
    assert {"フォローアップ", "todo"} <= set(command.aliases)
    assert command.summary.ja.startswith("会合後のフォローアップ")
    assert command.usage == "followups [who|desk] | followups export"
    assert "followups france" in command.examples


@pytest.mark.parametrize("lang", LANGS)
def test_followups_from_the_data_files_without_a_database(lang: Lang, lookup: ReleaseLookup) -> None:
    reply = followups.run(ask(lookup, lang=lang))
    data = load_commitments(COMMITMENTS_FILE)
    assert reply.title == _title(lookup.release, lang, len(data.commitments))
    today = NOW.astimezone(TOKYO).date()
    overdue_count = sum(1 for c in data.commitments if c.due < today and not c.due_is_assumption)
    to_confirm_count = sum(1 for c in data.commitments if c.due < today and c.due_is_assumption)
    assert overdue_count == 0 and to_confirm_count > 0
    section_with(reply, msg("followups.overdue", lang, count=overdue_count))
    to_confirm = section_with(reply, msg("followups.to_confirm", lang, count=to_confirm_count))
    assert data.get("quantum-wg").title(lang) in to_confirm  # type: ignore[union-attr]
    assert all(c.status == "open" for c in data.commitments)
    assert load_schedule(DATA_DIR / "schedule.yml").reminder_timezone() == TOKYO
    within_limits(reply)


def test_followups_from_the_service_with_states(lookup: ReleaseLookup) -> None:
    cs = [
        commitment("a-open", "2026-12-20"),
        commitment("b-pressed", "2026-12-01"),
        commitment("c-late", "2026-11-20", owner_desk="general", due_is_assumption=False, assumption_note=None),
        commitment("d-assumed", "2026-11-21"),
    ]
    states = {
        "b-pressed": CommitmentState(
            commitment_id="b-pressed", status="done", updated_at=dt.datetime(2026, 11, 29, 10, tzinfo=UTC)
        )
    }
    reply = followups.run(ask(lookup, services=FakeSource(cs, states)))
    assert "Item a-open" in section_with(reply, msg("followups.upcoming", "en", count=1))
    assert "Item c-late" in section_with(reply, msg("followups.overdue", "en", count=1))
    assert "Item d-assumed" in section_with(reply, msg("followups.to_confirm", "en", count=1))
    done = section_with(reply, msg("followups.done", "en", count=1))
    # Dates are in the reminder time zone (Paris here): 10:00 UTC on the 29th is still the 29th.
    assert "Item b-pressed" in done and format_date(dt.date(2026, 11, 29), "en") in done


@pytest.mark.parametrize(
    ("words", "included", "excluded", "what"),
    [
        pytest.param(("france",), ["fr-presidency"], ["ca-steel", "quantum-wg"], "French Republic", id="country"),
        pytest.param(("カナダ",), ["ca-steel", "ca-ai"], ["fr-presidency"], "Canada", id="both-canada-meetings"),
        pytest.param(("trip",), ["ca-steel", "us-minerals-ai"], ["quantum-wg"], "This trip in general", id="desk"),
    ],
)
def test_followups_filter(
    words: tuple[str, ...], included: list[str], excluded: list[str], what: str, lookup: ReleaseLookup
) -> None:
    data = load_commitments(COMMITMENTS_FILE)
    reply = followups.run(ask(lookup, *words))
    text = text_of(reply)
    assert reply.sections[0].text == msg("followups.filtered", "en", what=what)
    for cid in included:
        assert data.get(cid).title("en") in text  # type: ignore[union-attr]
    for cid in excluded:
        assert data.get(cid).title("en") not in text  # type: ignore[union-attr]


def test_followups_unknown_filter_shows_everything(lookup: ReleaseLookup) -> None:
    reply = followups.run(ask(lookup, "<!channel>zzz"))
    assert reply.sections[0].text == msg("followups.no_match", "en", text="&lt;!channel&gt;zzz")
    assert reply.title == _title(lookup.release, "en", 13)


# --- wording --------------------------------------------------------------------------------------

NEW_KEYS = [k for k in MESSAGES if k.startswith(("followups.", "digest.", "reminder."))]


@pytest.mark.parametrize("key", NEW_KEYS)
def test_wording_in_both_languages_with_the_same_placeholders(key: str) -> None:
    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    ja, en = MESSAGES[key]["ja"], MESSAGES[key]["en"]
    assert ja and en
    assert fields(ja) == fields(en)
    assert not re.search(r"[\u3040-\u30ff]", en)
