"""Overdue re-reminders: every business day after a confirmed due date, up to the limit, until Done or Snooze;
never for an assumed date. Explicit dates only (holidays typed in: see tests/test_calendar.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.calendar import JAPAN, Calendar
from bot.errors import ConfigError
from bot.schedule.due import (
    next_overdue_reminder,
    occurrences,
    overdue_instants,
    overdue_key,
    plan,
    series,
)
from bot.schedule.models import DEFAULT_OVERDUE_LIMIT, load_schedule
from bot.schedule.occurrence import CommitmentState
from bot.settings import ROOT
from tests.schedule.test_due_calendar import (
    CHANNEL,
    NO_STATES,
    PARIS,
    TOKYO,
    assumed,
    commitment,
    paris,
    schedule,
    tokyo,
)

START, END = tokyo(2026, 1, 1), tokyo(2028, 1, 1)


def reminders(limit: int | None = None, **values: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"channel": CHANNEL, "lang": "en", **values}
    if limit is not None:
        found["overdue_every_business_day_limit"] = limit
    return found


def labels(found: list[Any]) -> list[tuple[str, dt.datetime]]:
    return [(o.key.split(":", 2)[2], o.at) for o in found]


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # Friday 20 November 2026; Monday 23 November is 勤労感謝の日: the first re-reminder is on Tuesday.
        pytest.param(
            "2026-11-20",
            [
                ("d0", tokyo(2026, 11, 20)),
                ("overdue:1", tokyo(2026, 11, 24)),
                ("overdue:2", tokyo(2026, 11, 25)),
                ("overdue:3", tokyo(2026, 11, 26)),
            ],
            id="over-a-holiday-and-a-weekend",
        ),
        # Friday 25 December: Monday 28th, then the closure 29 December - 3 January, then 4 and 5 January.
        pytest.param(
            "2026-12-25",
            [
                ("d0", tokyo(2026, 12, 25)),
                ("overdue:1", tokyo(2026, 12, 28)),
                ("overdue:2", tokyo(2027, 1, 4)),
                ("overdue:3", tokyo(2027, 1, 5)),
            ],
            id="over-the-year-end-closure",
        ),
        # Due on 勤労感謝の日 itself: its own reminder comes the Friday before, the re-reminders after it.
        pytest.param(
            "2026-11-23",
            [
                ("d0", tokyo(2026, 11, 20)),
                ("overdue:1", tokyo(2026, 11, 24)),
                ("overdue:2", tokyo(2026, 11, 25)),
                ("overdue:3", tokyo(2026, 11, 26)),
            ],
            id="due-on-a-holiday",
        ),
        # Due on 31 December, in the closure: 28 December before it, 4, 5 and 6 January after.
        pytest.param(
            "2026-12-31",
            [
                ("d0", tokyo(2026, 12, 28)),
                ("overdue:1", tokyo(2027, 1, 4)),
                ("overdue:2", tokyo(2027, 1, 5)),
                ("overdue:3", tokyo(2027, 1, 6)),
            ],
            id="due-in-the-closure",
        ),
    ],
)
def test_a_confirmed_date_past_is_reminded_every_business_day_up_to_the_limit(
    due: str, expected: list[tuple[str, dt.datetime]]
) -> None:
    c = commitment(due=due, reminders=[0])
    found = occurrences(schedule(reminders=reminders()), [c], NO_STATES, START, END)
    assert labels(found) == expected
    assert all(o.channel == CHANNEL and o.commitment_id == c.id for o in found)


def test_the_default_limit_is_three_and_the_shipped_schedule_says_so() -> None:
    assert DEFAULT_OVERDUE_LIMIT == 3
    assert load_schedule(ROOT / "data" / "schedule.yml").overdue_limit == 3
    assert schedule().overdue_limit == 3  # no reminders section at all


@pytest.mark.parametrize("limit", [0, 1, 5])
def test_the_limit_is_the_schedule_s(limit: int) -> None:
    c = commitment(due="2026-12-11", reminders=[0])  # a Friday
    found = occurrences(schedule(reminders=reminders(limit)), [c], NO_STATES, START, END)
    overdue = [o for o in found if ":overdue:" in o.key]
    assert [o.key for o in overdue] == [overdue_key(c, n) for n in range(1, limit + 1)]
    # Monday 14 December onwards, one business day each.
    assert [o.at for o in overdue] == [tokyo(2026, 12, d) for d in (14, 15, 16, 17, 18)][:limit]


def test_a_limit_out_of_range_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text(f"reminders:\n  channel: {CHANNEL}\n  overdue_every_business_day_limit: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_schedule(path)
    assert "reminders.overdue_every_business_day_limit" in dict(caught.value.problems)
    assert str(path) in caught.value.describe()


def test_never_for_an_assumed_date() -> None:
    c = assumed("guess", "2026-11-20", reminders=[0])
    found = occurrences(schedule(reminders=reminders(5)), [c], NO_STATES, START, END)
    assert labels(found) == [("d0", tokyo(2026, 11, 20))]
    assert overdue_instants(c, None, tz=TOKYO, calendar=JAPAN, limit=5) == []


def test_it_stops_once_done() -> None:
    c = commitment(due="2026-11-20", reminders=[0])
    done = CommitmentState(
        commitment_id=c.id, status="done", updated_by="U0AAA0001", updated_at=tokyo(2026, 11, 24, 10)
    )
    assert occurrences(schedule(reminders=reminders()), [c], {c.id: done}, START, END) == []
    assert (
        overdue_instants(
            commitment(due="2026-11-20", status="done", done_on="2026-11-24"), None, tz=TOKYO, calendar=JAPAN, limit=3
        )
        == []
    )


def test_a_snooze_stops_it_and_its_own_reminder_comes_when_it_ends() -> None:
    c = commitment(due="2026-11-20", reminders=[0])
    # Snoozed for a week on Tuesday 24 November, after the first re-reminder.
    until = tokyo(2026, 12, 1, 10)
    snoozed = CommitmentState(commitment_id=c.id, snoozed_until=until, updated_at=tokyo(2026, 11, 24, 10))
    found = occurrences(schedule(reminders=reminders()), [c], {c.id: snoozed}, START, END)
    assert [o.key.split(":", 2)[2] for o in found] == ["snooze:20261201T0100"]
    assert found[0].at == until


def test_a_paris_channel_keeps_french_holidays_too() -> None:
    # Monday 13 July 2026, Paris; 14 July is the Fête nationale.
    c = commitment(due="2026-07-13", reminders=[0])
    s = schedule(reminders=reminders(2, timezone="Europe/Paris", partner_calendar="FR"))
    found = occurrences(s, [c], NO_STATES, paris(2026, 1, 1), paris(2027, 1, 1))
    assert labels(found) == [
        ("d0", paris(2026, 7, 13)),
        ("overdue:1", paris(2026, 7, 15)),
        ("overdue:2", paris(2026, 7, 16)),
    ]


def test_on_holiday_post_still_never_re_reminds_on_a_non_working_day() -> None:
    c = commitment(due="2026-11-20", reminders=[0])
    found = occurrences(schedule(reminders=reminders(1, on_holiday="post")), [c], NO_STATES, START, END)
    assert labels(found) == [("d0", tokyo(2026, 11, 20)), ("overdue:1", tokyo(2026, 11, 24))]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(tokyo(2026, 11, 20, 12), (1, tokyo(2026, 11, 24)), id="after-the-due-date"),
        pytest.param(tokyo(2026, 11, 24), (2, tokyo(2026, 11, 25)), id="at-the-first-the-second-is-next"),
        pytest.param(tokyo(2026, 11, 26, 9, 1), None, id="past-the-last"),
    ],
)
def test_the_next_overdue_reminder_given_now(now: dt.datetime, expected: tuple[int, dt.datetime] | None) -> None:
    c = commitment(due="2026-11-20", reminders=[0])
    assert next_overdue_reminder(c, None, now, tz=TOKYO, calendar=Calendar(), limit=3) == expected


def test_they_are_one_series_with_the_commitment_s_other_reminders() -> None:
    c = commitment(due="2026-11-20", reminders=[0])
    found = occurrences(schedule(reminders=reminders()), [c], NO_STATES, START, END)
    assert len({series(o) for o in found}) == 1
    # After downtime: the first re-reminder is past the grace period (skipped), the second on time.
    first, second = found[1], found[2]
    result = plan([first, second], second.at + dt.timedelta(minutes=1), grace=dt.timedelta(minutes=30))
    assert result.skipped == [first] and result.on_time == [second]
    # Both within the grace period (a long one): only the later is posted, the earlier coalesced.
    result = plan([first, second], second.at + dt.timedelta(minutes=1), grace=dt.timedelta(days=2))
    assert result.coalesced == [first] and result.on_time == [second]


def test_a_window_split_in_two_yields_the_same_re_reminders() -> None:
    c = commitment(due="2026-12-25", reminders=[0])
    s = schedule(reminders=reminders())
    middle = tokyo(2027, 1, 1)
    whole = occurrences(s, [c], NO_STATES, START, END)
    assert occurrences(s, [c], NO_STATES, START, middle) + occurrences(s, [c], NO_STATES, middle, END) == whole


def test_the_tokyo_zone_is_the_reminder_channel_s() -> None:
    c = commitment(due="2026-11-20", reminders=[0], remind_at="17:30")
    found = occurrences(schedule(reminders=reminders(1)), [c], NO_STATES, START, END)
    assert found[-1].at == tokyo(2026, 11, 24, 17, 30) and found[-1].timezone == TOKYO.key
    assert PARIS.key != found[-1].timezone
