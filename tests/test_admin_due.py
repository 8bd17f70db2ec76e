"""Through the app against the Slack stand-in: "I'll take it" on reminders and `/g7 admin due`, in ja and en."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.commands.admin_due import parse_date
from bot.schedule import due
from bot.schedule.occurrence import Occurrence
from bot.startup import Started
from bot.text import normalize
from tests.followup_app import (
    ADMIN,
    BACKENDS,
    PRESSED_AT,
    PRESSER,
    TOKYO_CHANNEL,
    ask,
    blocks_of,
    data_folder,
    dispatch,
    post_reminder,
    press_body,
    started_bot,
)
from tests.helpers import set_clock
from tests.slack_standin import SlackStandIn

SECOND = "U0SECOND"
RELEASE = "meti-2025-12-10-g7-idt"
SCHEDULE = f"""
timezone: Asia/Tokyo
digests:
  - id: tokyo-weekly
    channel: {TOKYO_CHANNEL}
    cron: "0 9 * * MON"
    lang: en
reminders:
  channel: {TOKYO_CHANNEL}
  lang: ja
"""
TOKYO = "Asia/Tokyo"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return data_folder(tmp_path / "data", SCHEDULE)


@pytest.fixture(params=BACKENDS)
def started(
    request: pytest.FixtureRequest, data_dir: Path, tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Started]:
    with started_bot(request.param, data_dir=data_dir, tmp_path=tmp_path, slack=slack, monkeypatch=monkeypatch) as bot:
        yield bot


@pytest.fixture
def admins_only(
    data_dir: Path, tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Started]:
    monkeypatch.setenv("G7BOT_FOLLOWUP_ACTORS", "admins")
    with started_bot("sqlite", data_dir=data_dir, tmp_path=tmp_path, slack=slack, monkeypatch=monkeypatch) as bot:
        yield bot


def slash(started: Started, text: str, *, user: str = ADMIN) -> str:
    return str(ask(started, text, user=user)["text"])


def press(started: Started, *bodies: dict[str, Any]) -> None:
    dispatch(started, *bodies)


def take(started: Started, ts: str, *users: str) -> None:
    press(started, *(press_body("g7_followup_take", ts=ts, user=u) for u in users))


def state(started: Started, commitment_id: str = "fr-presidency") -> Any:
    return started.service.store.state(commitment_id, release_id=RELEASE)


# ---- "I'll take it" -----------------------------------------------------------------------------------------


def test_the_reminder_offers_it_and_a_press_takes_it_for_everyone_to_see(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started)
    assert "g7_followup_take" in blocks_of(slack.posts()[-1].args)
    take(started, ts, PRESSER)
    assert (state(started).assignee, state(started).assigned_at) == (PRESSER, PRESSED_AT)
    updated = slack.calls_to("chat.update")[-1].args
    assert (updated["channel"], updated["ts"]) == (TOKYO_CHANNEL, ts)
    shown = blocks_of(updated)
    assert "Taken by <@U0PRESSER>" in shown
    assert "g7_followup_take" not in shown, "once taken, nobody is offered it"
    assert "g7_followup_done" in shown and "g7_followup_snooze_1d" in shown, "Done and Snooze stay"
    (entry,) = list(started.service.audit)
    assert (entry.action, entry.actor, entry.surface, entry.commitment_id) == (
        "assign",
        PRESSER,
        "button",
        "fr-presidency",
    )
    assert (entry.before, entry.after) == (None, {"assignee": PRESSER, "assigned_at": PRESSED_AT.isoformat()})
    lines = [line for line in slash(started, "admin audit fr-presidency en").splitlines() if line.startswith("•")]
    assert len(lines) == 1 and "*assign*" in lines[0] and "nobody → <@U0PRESSER>" in lines[0]
    assert "担当者の設定" in slash(started, "admin audit ja") and "担当者なし → <@U0PRESSER>" in slash(
        started, "admin audit ja"
    )


def test_two_presses_at_once_one_wins_and_the_other_is_told_who_has_it(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started)
    take(started, ts, PRESSER, SECOND)
    winner = state(started).assignee
    assert winner in {PRESSER, SECOND}
    loser = SECOND if winner == PRESSER else PRESSER
    assert [(e.action, e.actor) for e in started.service.audit] == [("assign", winner)]
    (told,) = slack.calls_to("chat.postEphemeral")
    assert (told.args["channel"], told.args["user"]) == (TOKYO_CHANNEL, loser)
    assert f"already taken by <@{winner}>" in told.args["text"]
    assert f"Taken by <@{winner}>" in blocks_of(slack.calls_to("chat.update")[-1].args)
    # The winner pressing again, or the loser again: nothing changes, nothing more is recorded.
    take(started, ts, winner)
    take(started, ts, loser)
    assert state(started).assignee == winner and len(list(started.service.audit)) == 1
    assert len(slack.calls_to("chat.update")) == 1


def test_the_reopened_reminder_still_says_who_has_it(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started)
    take(started, ts, PRESSER)
    press(started, press_body("g7_followup_done", ts=ts, user=SECOND))
    assert (state(started).status, state(started).assignee) == ("done", PRESSER)
    take(started, ts, SECOND)  # on a done follow-up: nothing
    assert state(started).assignee == PRESSER
    press(started, press_body("g7_followup_reopen", ts=ts, user=SECOND))
    reopened = blocks_of(slack.calls_to("chat.update")[-1].args)
    assert "Reopened by <@U0SECOND>" in reopened and "Taken by <@U0PRESSER>" in reopened
    assert "g7_followup_done" in reopened and "g7_followup_take" not in reopened
    assert [e.action for e in started.service.audit] == ["assign", "done", "reopen"]


def test_the_digest_and_followups_say_who_took_it(started: Started) -> None:
    # ca-steel is open and past its assumed date on 4 December: listed (to confirm) in both.
    ts = post_reminder(started, "ca-steel")
    assert "Taken by" not in digest_text(started, PRESSED_AT)
    press(started, press_body("g7_followup_take", ts=ts, user=PRESSER, value="ca-steel"))
    digest = digest_text(started, PRESSED_AT)
    assert digest.count("Taken by <@U0PRESSER>") == 1
    assert "Taken by <@U0PRESSER>" in digest.split("Canada's steel", 1)[1].split("•", 1)[0]
    listing = blocks_of(ask(started, "followups en", user=SECOND))
    assert "Taken by <@U0PRESSER>" in listing.split("Canada's steel", 1)[1].split("•", 1)[0]
    assert "担当者: <@U0PRESSER> さん" in blocks_of(ask(started, "followups ja", user=SECOND))


def test_a_press_on_a_message_the_bot_never_posted_takes_nothing(started: Started, slack: SlackStandIn) -> None:
    post_reminder(started)
    take(started, "1.000001", PRESSER)
    assert state(started).assignee is None and not list(started.service.audit)
    assert not slack.calls_to("chat.update") and not slack.calls_to("chat.postEphemeral")


def test_who_may_take_it_is_who_may_press_done(admins_only: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(admins_only)
    take(admins_only, ts, PRESSER)
    assert state(admins_only).assignee is None, "G7BOT_FOLLOWUP_ACTORS=admins: a member is refused"
    assert not list(admins_only.service.audit) and not slack.calls_to("chat.update")
    take(admins_only, ts, ADMIN)
    assert state(admins_only).assignee == ADMIN


# ---- /g7 admin due --------------------------------------------------------------------------------------------


def digest_sections(started: Started, now: dt.datetime) -> dict[str, list[str]]:
    service = started.service
    items = due.digest_items(
        service.commitments(),
        service.states(),
        now,
        tz=ZoneInfo(TOKYO),
        lookahead_days=14,
        recent_days=7,
    )
    return {name: [c.id for c in getattr(items, name)] for name in ("overdue", "to_confirm", "upcoming")}


def digest_text(started: Started, now: dt.datetime) -> str:
    occ = Occurrence(
        kind="digest",
        key="digest:tokyo-weekly",
        channel=TOKYO_CHANNEL,
        at=now,
        lang="en",
        timezone=TOKYO,
        digest_id="tokyo-weekly",
    )
    return blocks_of(started.service.render(occ, now))


def test_admin_due_confirms_moves_and_clears_and_every_list_follows(started: Started) -> None:
    # ca-steel: due 2026-11-27 in the data file, an assumption: past it on 4 December, "to confirm".
    assert "ca-steel" in digest_sections(started, PRESSED_AT)["to_confirm"]

    reply = slash(started, "admin due ca-steel 2026-11-27 en")
    assert "is now due 27 November 2026 (Fri) (confirmed)" in reply
    assert "it was 27 November 2026 (Fri) (assumed)" in reply
    sections = digest_sections(started, PRESSED_AT)
    assert "ca-steel" in sections["overdue"] and "ca-steel" not in sections["to_confirm"]

    set_clock(started, lambda: PRESSED_AT + dt.timedelta(minutes=1))
    reply = slash(started, "admin due ca-steel ２０２６／１２／１０ assumed ja")  # full-width, slashes
    assert "2026年12月10日(木)(仮)" in reply
    sections = digest_sections(started, PRESSED_AT)
    assert "ca-steel" in sections["upcoming"] and "ca-steel" not in sections["overdue"]
    assert "10 December 2026" in digest_text(started, PRESSED_AT)
    listing = blocks_of(ask(started, "followups en", user=PRESSER))
    line = listing.split("Canada's steel", 1)[1].split("•", 1)[0]
    assert "due 10 December 2026 (Thu) (assumed date)" in line
    content, _ = started.service.followups_csv()
    rows = {r["commitment_id"]: r for r in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))}
    assert (rows["ca-steel"]["due_date"], rows["ca-steel"]["due_is_assumption"]) == ("2026-12-10", "true")

    assert "nothing changed" in slash(started, "admin due ca-steel 2026-12-10 assumed en")
    reply = slash(started, "admin due ca-steel clear en")
    assert "back to the data file's date, 27 November 2026" in reply
    assert "nothing to clear" in slash(started, "admin due ca-steel clear en")
    assert "ca-steel" in digest_sections(started, PRESSED_AT)["to_confirm"]

    entries = [e for e in started.service.audit if e.action == "due_confirm"]
    assert [(e.actor, e.surface) for e in entries] == [(f"admin:{ADMIN}", "slash")] * 3
    assert [(e.before, e.after) for e in entries] == [
        (None, {"due_override": "2026-11-27", "due_confirmed": True}),
        ({"due_override": "2026-11-27", "due_confirmed": True}, {"due_override": "2026-12-10", "due_confirmed": False}),
        ({"due_override": "2026-12-10", "due_confirmed": False}, {"due_override": None, "due_confirmed": None}),
    ]
    lines = [line for line in slash(started, "admin audit ca-steel en").splitlines() if line.startswith("•")]
    assert "2026-12-10 (assumed) → the data file's date" in lines[0]
    assert "the data file's date → 2026-11-27 (confirmed)" in lines[2]
    assert "期日の確定" in slash(started, "admin audit ca-steel ja")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("admin due ca-steel 2026-02-30 en", "“2026-02-30” is not a date I can read", id="no-such-day"),
        pytest.param("admin due ca-steel tomorrow en", "“tomorrow” is not a date I can read", id="not-a-date"),
        pytest.param("admin due ca-steel 2026-12-10 maybe en", "Usage: `/g7 admin due", id="unknown-word"),
        pytest.param("admin due ca-steel en", "Usage: `/g7 admin due", id="no-date"),
        pytest.param("admin due nothing-here 2026-12-10 en", "There is no follow-up “nothing-here”", id="unknown-id"),
        pytest.param("admin due ca-steel 2026-13-01 ja", "「2026-13-01」は日付として読めません", id="ja-bad-date"),
        pytest.param(
            "admin due nothing-here 2026-12-10 ja", "「nothing-here」というフォローアップはありません", id="ja-unknown"
        ),
        pytest.param("admin due ja", "使い方: `/g7 admin due", id="ja-usage"),
    ],
)
def test_admin_due_says_what_is_wrong_and_changes_nothing(started: Started, text: str, expected: str) -> None:
    assert expected in slash(started, text)
    assert not list(started.service.audit)
    assert state(started, "ca-steel").due_override is None


def test_admin_due_is_for_admins_only(started: Started) -> None:
    assert "administrators only" in slash(started, "admin due ca-steel 2026-12-10 en", user=PRESSER)
    assert "管理者だけ" in slash(started, "admin due ca-steel 2026-12-10 ja", user=PRESSER)
    assert state(started, "ca-steel").due_override is None and not list(started.service.audit)


def test_after_admin_due_the_new_dates_reminders_post_once_and_the_old_ones_never_again(
    started: Started, slack: SlackStandIn
) -> None:
    service = started.service
    friday = dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC)  # 09:00 Tokyo: ca-steel's d7 for 27 November

    def tick(at: dt.datetime) -> None:
        set_clock(started, lambda: at)
        asyncio.run(service.tick(at))

    def ca_steel() -> list[tuple[str, dt.datetime, str]]:
        return sorted((d.key, d.scheduled_at, d.status) for d in service.store.deliveries() if ":ca-steel:" in d.key)

    tick(friday + dt.timedelta(minutes=1))
    assert ca_steel() == [("reminder:ca-steel:d7", friday, "sent")]
    set_clock(started, lambda: friday + dt.timedelta(hours=1))
    assert "(confirmed)" in slash(started, "admin due ca-steel 2026-12-04 en")
    tick(friday + dt.timedelta(hours=1, minutes=1))
    tick(friday + dt.timedelta(hours=2))
    assert ca_steel() == [("reminder:ca-steel:d7", friday, "sent")], "nothing of the old date is posted again"

    # 26 November, the old d1, and 27 November 09:00, the old d0 and the new d7: only the new d7 posts.
    tick(friday + dt.timedelta(days=6, minutes=1))
    week_later = friday + dt.timedelta(days=7)
    for at in (
        week_later + dt.timedelta(minutes=1),
        week_later + dt.timedelta(minutes=30),
        week_later + dt.timedelta(hours=3),
    ):
        tick(at)
    assert ca_steel() == [("reminder:ca-steel:d7", friday, "sent"), ("reminder:ca-steel:d7", week_later, "sent")]
    posted = [c for c in slack.posts() if "ca-steel" in json.dumps(c.args.get("metadata") or {})]
    assert len(posted) == 2
    # The new one counts down to the new date, in the reminders channel's language.
    assert "2026年12月4日(金)" in blocks_of(posted[-1].args) and "期限まであと7日です" in blocks_of(posted[-1].args)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        pytest.param("2026-01-05", dt.date(2026, 1, 5), id="iso"),
        pytest.param("2026/1/5", dt.date(2026, 1, 5), id="slashes"),
        pytest.param("2026.1.5", dt.date(2026, 1, 5), id="dots"),
        pytest.param("2026年1月5日", dt.date(2026, 1, 5), id="kanji"),
        pytest.param("２０２６年１月５日", dt.date(2026, 1, 5), id="full-width-kanji"),
        pytest.param("2026-02-29", None, id="not-a-leap-year"),
        pytest.param("26/1/5", None, id="two-digit-year"),
        pytest.param("2026-1", None, id="no-day"),
    ],
)
def test_dates_are_read_as_people_type_them(typed: str, expected: dt.date | None) -> None:
    assert parse_date(normalize(typed)) == expected


def test_japanese_words_for_assumed_and_clear(started: Started) -> None:
    assert "(仮)" in slash(started, "admin due ca-steel 2026年12月10日 仮置き ja")
    assert state(started, "ca-steel").due_confirmed is False
    assert "データファイルの 2026年11月27日(金) に戻しました" in slash(started, "admin due ca-steel 戻す ja")
    assert state(started, "ca-steel").due_override is None
