"""What is due on the administrative calendar: digests on non-working days, reminders moved before them,
snooze to the next business day, and assumed dates that are never overdue.

Never the clock: every instant is an explicit aware datetime. The holidays used are typed in (see
tests/test_calendar.py for where they come from).
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar import JAPAN, Calendar, is_business_day
from bot.errors import ConfigError
from bot.messages import format_date, msg
from bot.release.models import LANGS, Lang, Release
from bot.schedule.content import (
    ACTION_SNOOZE_1D,
    ACTION_SNOOZE_NEXT_BUSINESS_DAY,
    build_digest_reply,
    build_followups_reply,
    build_reminder_reply,
    snooze_until,
)
from bot.schedule.due import digest_items, next_business_day_at, occurrences
from bot.schedule.models import Commitment, ScheduleFile, load_schedule
from bot.schedule.occurrence import CommitmentState, Occurrence

UTC = dt.UTC
TOKYO = ZoneInfo("Asia/Tokyo")
PARIS = ZoneInfo("Europe/Paris")
CHANNEL = "C0123456789"
NO_STATES: dict[str, CommitmentState] = {}


def tokyo(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def paris(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def schedule(*digests: dict[str, Any], reminders: dict[str, Any] | None = None) -> ScheduleFile:
    data: dict[str, Any] = {"digests": list(digests)}
    if reminders is not None:
        data["reminders"] = reminders
    return ScheduleFile.model_validate(data)


def daily(on_holiday: str | None = None, cron: str = "0 9 * * *", **values: Any) -> dict[str, Any]:
    digest: dict[str, Any] = {"id": "daily", "channel": CHANNEL, "cron": cron, **values}
    if on_holiday is not None:
        digest["on_holiday"] = on_holiday
    return digest


def commitment(cid: str = "fr-presidency", due: str = "2026-12-11", **values: Any) -> Commitment:
    data: dict[str, Any] = {
        "id": cid,
        "title": {"ja": "フランスとの連携", "en": "Cooperation with France"},
        "detail": {"ja": "議論を行いました。", "en": "Discussed."},
        "source": {"kind": "bilateral", "ref": "fr"},
        "owner_desk": "ai-digital",
        "due": due,
        "due_is_assumption": False,
        **values,
    }
    return Commitment.model_validate(data)


def assumed(cid: str, due: str, **values: Any) -> Commitment:
    note = {"ja": "仮の期日", "en": "Date assumed"}
    return commitment(cid, due, due_is_assumption=True, assumption_note=note, **values)


def ats(found: list[Occurrence]) -> list[dt.datetime]:
    return [o.at for o in found]


# --- digests on non-working days ------------------------------------------------------------------

# Golden Week 2026: 5/2 Sat, 5/3 Sun 憲法記念日, 5/4 みどりの日, 5/5 こどもの日, 5/6 振替休日; 5/7 is a Thursday.
GOLDEN_WEEK = (tokyo(2026, 4, 30, 0), tokyo(2026, 5, 8, 23))
EVERY_DAY = [tokyo(2026, 4, 30), tokyo(2026, 5, 1), *(tokyo(2026, 5, d) for d in range(2, 9))]


@pytest.mark.parametrize(
    ("on_holiday", "expected"),
    [
        pytest.param("post", EVERY_DAY, id="post-every-day"),
        pytest.param("skip", [tokyo(2026, 4, 30), tokyo(2026, 5, 1), tokyo(2026, 5, 7), tokyo(2026, 5, 8)], id="skip"),
        # The five posts of 5/2–5/6 all move to 5/7 09:00, where the digest posts anyway: one post.
        pytest.param(
            "next_business_day",
            [tokyo(2026, 4, 30), tokyo(2026, 5, 1), tokyo(2026, 5, 7), tokyo(2026, 5, 8)],
            id="next-business-day-once",
        ),
        pytest.param(
            None,
            [tokyo(2026, 4, 30), tokyo(2026, 5, 1), tokyo(2026, 5, 7), tokyo(2026, 5, 8)],
            id="default-is-next-business-day",
        ),
    ],
)
def test_a_daily_digest_over_golden_week(on_holiday: str | None, expected: list[dt.datetime]) -> None:
    found = occurrences(schedule(daily(on_holiday)), [], NO_STATES, *GOLDEN_WEEK)
    assert ats(found) == expected
    assert {o.key for o in found} == {"digest:daily"}


@pytest.mark.parametrize(
    ("on_holiday", "expected"),
    [
        pytest.param("post", [tokyo(2026, 9, 21)], id="post-on-respect-for-the-aged-day"),
        pytest.param("skip", [], id="skip-the-week"),
        # 9/21 敬老の日, 9/22 国民の休日, 9/23 秋分の日: Thursday the 24th.
        pytest.param("next_business_day", [tokyo(2026, 9, 24)], id="moved-to-thursday"),
    ],
)
def test_a_monday_digest_in_silver_week(on_holiday: str, expected: list[dt.datetime]) -> None:
    s = schedule(daily(on_holiday, cron="0 9 * * MON"))
    assert ats(occurrences(s, [], NO_STATES, tokyo(2026, 9, 19), tokyo(2026, 9, 27))) == expected


def test_the_year_end_closure_moves_a_daily_digest_to_the_first_working_day() -> None:
    s = schedule(daily("next_business_day"))
    found = occurrences(s, [], NO_STATES, tokyo(2026, 12, 27, 0), tokyo(2027, 1, 5, 23))
    assert ats(found) == [tokyo(2026, 12, 28), tokyo(2027, 1, 4), tokyo(2027, 1, 5)]


def test_a_moved_post_keeps_its_wall_time_in_the_digests_zone() -> None:
    # A Saturday 17:30 Paris digest posts on Monday at 17:30 Paris time.
    s = schedule(daily("next_business_day", cron="30 17 * * SAT", timezone="Europe/Paris"))
    found = occurrences(s, [], NO_STATES, paris(2026, 11, 27), paris(2026, 12, 1))
    assert ats(found) == [paris(2026, 11, 30, 17, 30)]


@pytest.mark.parametrize(
    ("partner", "expected"),
    [
        pytest.param(None, [paris(2026, 7, 14)], id="tokyo-calendar-only"),
        pytest.param("FR", [paris(2026, 7, 15)], id="with-france-14-juillet-moves"),
    ],
)
def test_a_partner_calendar_moves_a_paris_digest(partner: str | None, expected: list[dt.datetime]) -> None:
    digest = daily("next_business_day", cron="0 9 * * TUE", timezone="Europe/Paris")
    if partner is not None:
        digest["partner_calendar"] = partner
    s = schedule(digest)
    assert ats(occurrences(s, [], NO_STATES, paris(2026, 7, 13), paris(2026, 7, 17))) == expected


CALENDAR_CRONS = [
    ("0 9 * * *", "next_business_day"),
    ("0 9 * * MON", "next_business_day"),
    ("30 17 * * FRI-SUN", "next_business_day"),
    ("0 */6 * * *", "next_business_day"),
    ("0 9 * * *", "skip"),
    ("15 8 * * SAT", "next_business_day"),
]
PERIODS = [
    (tokyo(2026, 4, 25, 0), dt.timedelta(days=16)),  # Golden Week
    (tokyo(2026, 12, 24, 0), dt.timedelta(days=16)),  # the year-end closure
    (tokyo(2026, 9, 17, 0), dt.timedelta(days=10)),  # Silver Week
]


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(CALENDAR_CRONS),
    period=st.sampled_from(PERIODS),
    partner=st.sampled_from([None, "FR"]),
    cuts=st.lists(st.integers(min_value=0, max_value=16 * 24 * 60), min_size=1, max_size=6),
)
def test_splitting_the_window_gives_the_same_posts_with_the_calendar(
    case: tuple[str, str], period: tuple[dt.datetime, dt.timedelta], partner: str | None, cuts: list[int]
) -> None:
    cron, mode = case
    start, length = period
    end = start + length
    s = schedule(daily(mode, cron=cron, partner_calendar=partner))
    whole = occurrences(s, [], NO_STATES, start, end)
    bounds = sorted({start, end, *(min(end, start + dt.timedelta(minutes=m)) for m in cuts)})
    pieces = [o for a, b in itertools.pairwise(bounds) for o in occurrences(s, [], NO_STATES, a, b)]
    assert [o.identity for o in pieces] == [o.identity for o in whole]
    assert len({o.identity for o in whole}) == len(whole)
    # Nothing is posted on a non-working day of the digest's calendar (Japan's, and France's with FR).
    calendar = Calendar(partner=partner)
    assert all(is_business_day(o.at.astimezone(TOKYO).date(), calendar) for o in whole)


# --- reminders move before a non-working day ------------------------------------------------------

# Only the offsets here: the overdue re-reminders after the due date are tests/schedule/test_overdue.py's.
REMINDERS = {"channel": CHANNEL, "lang": "en", "overdue_every_business_day_limit": 0}


@pytest.mark.parametrize(
    ("due", "offsets", "expected"),
    [
        # 5/6 (振替休日) is one day before 5/7: the reminder comes on Friday 5/1, before Golden Week.
        pytest.param("2026-05-07", [1], [("d1", tokyo(2026, 5, 1))], id="before-golden-week"),
        # Due on a Sunday: on the Friday before, never on the Monday after.
        pytest.param("2026-12-13", [0], [("d0", tokyo(2026, 12, 11))], id="due-on-a-sunday"),
        # Due on 31 December, in the closure: Monday 12/28, the last working day of the year.
        pytest.param("2026-12-31", [0], [("d0", tokyo(2026, 12, 28))], id="due-in-the-closure"),
        # Due 2027-01-04: d1 (1/3) falls back onto d7 (12/28): one reminder, the nearer one.
        pytest.param(
            "2027-01-04",
            [7, 1, 0],
            [("d1", tokyo(2026, 12, 28)), ("d0", tokyo(2027, 1, 4))],
            id="over-the-closure-two-offsets-become-one",
        ),
        pytest.param(
            "2026-12-11",
            [7, 1, 0],
            [("d7", tokyo(2026, 12, 4)), ("d1", tokyo(2026, 12, 10)), ("d0", tokyo(2026, 12, 11))],
            id="working-days-unchanged",
        ),
    ],
)
def test_a_reminder_on_a_non_working_day_comes_the_business_day_before(
    due: str, offsets: list[int], expected: list[tuple[str, dt.datetime]]
) -> None:
    c = commitment(due=due, reminders=offsets)
    found = occurrences(schedule(reminders=REMINDERS), [c], NO_STATES, tokyo(2026, 1, 1), tokyo(2028, 1, 1))
    assert [(o.key.rsplit(":", 1)[1], o.at) for o in found] == expected


def test_reminders_can_keep_their_day_for_a_team_that_works_every_day() -> None:
    c = commitment(due="2026-12-13", reminders=[0])
    s = schedule(reminders={**REMINDERS, "on_holiday": "post"})
    assert ats(occurrences(s, [c], NO_STATES, tokyo(2026, 1, 1), tokyo(2028, 1, 1))) == [tokyo(2026, 12, 13)]


def test_a_paris_channel_keeps_french_holidays_too() -> None:
    c = commitment(due="2026-07-14", reminders=[0])
    s = schedule(reminders={**REMINDERS, "timezone": "Europe/Paris", "partner_calendar": "FR"})
    assert ats(occurrences(s, [c], NO_STATES, paris(2026, 1, 1), paris(2027, 1, 1))) == [paris(2026, 7, 13)]
    tokyo_only = schedule(reminders={**REMINDERS, "timezone": "Europe/Paris"})
    assert ats(occurrences(tokyo_only, [c], NO_STATES, paris(2026, 1, 1), paris(2027, 1, 1))) == [paris(2026, 7, 14)]


@settings(max_examples=200, deadline=None)
@given(
    due=st.dates(min_value=dt.date(2026, 1, 15), max_value=dt.date(2030, 12, 31)),
    offsets=st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=4, unique=True),
)
def test_a_reminder_is_never_after_its_day_and_always_on_a_business_day(due: dt.date, offsets: list[int]) -> None:
    c = commitment(due=due.isoformat(), reminders=offsets)
    found = occurrences(schedule(reminders=REMINDERS), [c], NO_STATES, tokyo(2025, 12, 1), tokyo(2031, 2, 1))
    days = {int(o.key.rsplit(":d", 1)[1]): o.at.astimezone(TOKYO) for o in found}
    for offset, at in days.items():
        day = due - dt.timedelta(days=offset)
        assert at.date() <= day and is_business_day(at.date()) and at.time() == dt.time(9, 0)
        assert all(not is_business_day(at.date() + dt.timedelta(days=n)) for n in range(1, (day - at.date()).days + 1))
    # Every offset is posted, unless another one nearer the due date was moved onto the same instant.
    for offset in offsets:
        if offset not in days:
            assert any(other < offset and days[other].date() <= due - dt.timedelta(days=offset) for other in days)


@pytest.mark.parametrize("lang", LANGS)
def test_a_due_date_on_a_non_working_day_is_shown_with_a_note(lang: Lang, release: Release) -> None:
    c = commitment(due="2026-05-06", reminders=[0])
    occ = occurrences(schedule(reminders=REMINDERS), [c], NO_STATES, tokyo(2026, 1, 1), tokyo(2027, 1, 1))[0]
    reply = build_reminder_reply(c, occ, lang=lang, release=release, state=None)
    text = "\n".join(field for s in reply.sections for field in s.fields)
    reason = "振替休日" if lang == "ja" else "Substitute Holiday"
    assert f"{format_date(c.due, lang)} {msg('reminder.non_working', lang, reason=reason)}" in text
    working = commitment(due="2026-05-07", reminders=[0])
    occ = occurrences(schedule(reminders=REMINDERS), [working], NO_STATES, tokyo(2026, 1, 1), tokyo(2027, 1, 1))[0]
    reply = build_reminder_reply(working, occ, lang=lang, release=release, state=None)
    note = msg("reminder.non_working", lang, reason="REASON").split("REASON")[0]
    assert not any(note in field for s in reply.sections for field in s.fields)


# --- snooze to the next business day -------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "calendar", "expected"),
    [
        pytest.param(tokyo(2026, 12, 4, 18), TOKYO, JAPAN, tokyo(2026, 12, 7), id="friday-evening-to-monday"),
        pytest.param(tokyo(2026, 12, 5, 11), TOKYO, JAPAN, tokyo(2026, 12, 7), id="saturday-to-monday"),
        pytest.param(tokyo(2026, 12, 7, 8), TOKYO, JAPAN, tokyo(2026, 12, 8), id="monday-early-to-tuesday"),
        pytest.param(tokyo(2026, 12, 28, 10), TOKYO, JAPAN, tokyo(2027, 1, 4), id="over-the-closure"),
        pytest.param(tokyo(2026, 5, 1, 10), TOKYO, JAPAN, tokyo(2026, 5, 7), id="over-golden-week"),
        pytest.param(paris(2026, 7, 13, 10), PARIS, Calendar(partner="FR"), paris(2026, 7, 15), id="paris-14-juillet"),
        # 23:30 UTC on Friday is already Saturday in Tokyo: the local day counts.
        pytest.param(dt.datetime(2026, 12, 4, 23, 30, tzinfo=UTC), TOKYO, JAPAN, tokyo(2026, 12, 7), id="local-day"),
    ],
)
def test_next_business_day_at(now: dt.datetime, tz: ZoneInfo, calendar: Calendar, expected: dt.datetime) -> None:
    assert next_business_day_at(now, tz=tz, calendar=calendar, at=dt.time(9, 0)) == expected
    c = commitment()
    assert snooze_until(ACTION_SNOOZE_NEXT_BUSINESS_DAY, now, commitment=c, tz=tz, calendar=calendar) == expected
    assert snooze_until(ACTION_SNOOZE_1D, now, commitment=c, tz=tz, calendar=calendar) == now + dt.timedelta(days=1)


def test_snooze_to_the_next_business_day_is_at_the_commitments_reminder_time() -> None:
    c = commitment(remind_at="17:30")
    now = tokyo(2026, 12, 4, 18)
    until = snooze_until(ACTION_SNOOZE_NEXT_BUSINESS_DAY, now, commitment=c, tz=TOKYO, calendar=JAPAN)
    assert until == tokyo(2026, 12, 7, 17, 30)


# --- assumed dates are never overdue -------------------------------------------------------------

NOW = tokyo(2026, 11, 30, 9)


def test_an_assumed_date_past_is_to_confirm_and_a_confirmed_one_overdue() -> None:
    cs = [
        assumed("assumed-past", "2026-11-20"),
        commitment("confirmed-past", "2026-11-20"),
        assumed("ahead", "2026-12-03"),
    ]
    items = digest_items(cs, NO_STATES, NOW, tz=TOKYO, lookahead_days=14, recent_days=7)
    assert [c.id for c in items.overdue] == ["confirmed-past"]
    assert [c.id for c in items.to_confirm] == ["assumed-past"]
    assert [c.id for c in items.upcoming] == ["ahead"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_digest_of_assumed_dates_does_not_open_with_overdue(lang: Lang, release: Release) -> None:
    cs = [assumed(f"a{n}", f"2026-11-{10 + n:02d}") for n in range(6)]
    items = digest_items(cs, NO_STATES, NOW, tz=TOKYO, lookahead_days=14, recent_days=7)
    reply = build_digest_reply(items, lang=lang, now=NOW, tz=TOKYO, release=release)
    overdue, to_confirm = reply.sections[0].text, reply.sections[1].text
    assert overdue == f"*{msg('digest.overdue', lang)}*\n{msg('digest.nothing_overdue', lang)}"
    assert to_confirm.startswith(f"*{msg('digest.to_confirm', lang)}*")
    assert to_confirm.count("•") == 6
    assert msg("followups.overdue_by", lang, days=10) not in overdue + to_confirm


@pytest.mark.parametrize("lang", LANGS)
def test_followups_list_dates_to_confirm_apart(lang: Lang, release: Release) -> None:
    cs = [assumed("assumed-past", "2026-11-20"), commitment("confirmed-past", "2026-11-20")]
    reply = build_followups_reply(cs, NO_STATES, NOW, lang=lang, tz=TOKYO, release=release)
    headings = [s.text.split("\n", 1)[0] for s in reply.sections]
    assert headings[:2] == [
        f"*{msg('followups.overdue', lang, count=1)}*",
        f"*{msg('followups.to_confirm', lang, count=1)}*",
    ]
    assert msg("followups.passed_by", lang, days=10) in reply.sections[1].text


@settings(max_examples=100, deadline=None)
@given(
    dues=st.lists(
        st.tuples(st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2027, 12, 31)), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    today=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2027, 12, 31)),
)
def test_an_assumed_date_is_never_overdue(dues: list[tuple[dt.date, bool]], today: dt.date) -> None:
    cs = [
        assumed(f"c{n}", day.isoformat()) if is_assumed else commitment(f"c{n}", day.isoformat())
        for n, (day, is_assumed) in enumerate(dues)
    ]
    now = dt.datetime.combine(today, dt.time(12), tzinfo=TOKYO)
    items = digest_items(cs, NO_STATES, now, tz=TOKYO, lookahead_days=14, recent_days=7)
    assert not any(c.due_is_assumption for c in items.overdue)
    assert {c.id for c in items.to_confirm} == {c.id for c in cs if c.due_is_assumption and c.due < today}
    assert {c.id for c in items.overdue} == {c.id for c in cs if not c.due_is_assumption and c.due < today}


# --- the schedule file --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        pytest.param("    on_holiday: sometimes\n", "digests.0.on_holiday", "skip", id="bad-on-holiday"),
        pytest.param("    partner_calendar: XX\n", "digests.0.partner_calendar", 'such as "FR"', id="bad-partner"),
    ],
)
def test_a_bad_calendar_setting_names_the_file_and_field(tmp_path: Path, extra: str, field: str, expected: str) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text(
        f'digests:\n  - id: weekly\n    channel: {CHANNEL}\n    cron: "0 9 * * MON"\n{extra}', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_schedule(path)
    assert info.value.file == str(path)
    assert [f for f, _ in info.value.problems] == [field]
    assert expected in info.value.problems[0][1]


def test_a_channels_calendar_is_found_like_its_time_zone() -> None:
    s = schedule(
        daily(cron="0 9 * * MON", partner_calendar="FR", timezone="Europe/Paris"),
        reminders={"channel": "C0TOKYO000"},
    )
    assert s.channel_calendar(CHANNEL) == Calendar(partner="FR")
    assert s.channel_calendar("C0TOKYO000") == JAPAN
    assert s.channel_calendar("C0ELSE0000") == JAPAN
