"""What is due: digests on their crontab in each channel's time zone (DST included), reminders, plan().

Never the clock: every instant is an explicit aware datetime.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.release.loader import COMMITMENTS_FILE
from bot.release.models import Release
from bot.schedule.due import (
    DigestItems,
    digest_items,
    effective_status,
    local_kind,
    localize,
    next_runs,
    occurrences,
    plan,
    series,
)
from bot.schedule.models import Commitment, CommitmentsFile, ScheduleFile, load_commitments
from bot.schedule.occurrence import CommitmentState, Occurrence

UTC = dt.UTC
TOKYO = ZoneInfo("Asia/Tokyo")
PARIS = ZoneInfo("Europe/Paris")
CHANNEL = "C0123456789"
OTHER = "C0987654321"
NO_STATES: dict[str, CommitmentState] = {}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def schedule(*digests: dict[str, Any], reminders: dict[str, Any] | None = None, **top: Any) -> ScheduleFile:
    # Digests here post whatever the day (on_holiday: post): these tests are of crontabs and time zones,
    # and several fall on weekends; the calendar has its own, tests/schedule/test_due_calendar.py.
    data: dict[str, Any] = {"digests": [{"on_holiday": "post", **d} for d in digests], **top}
    if reminders is not None:
        data["reminders"] = reminders
    return ScheduleFile.model_validate(data)


def commitment(cid: str = "fr-presidency", due: str = "2026-12-11", **values: Any) -> Commitment:
    data: dict[str, Any] = {
        "id": cid,
        "title": {"ja": "フランスとの連携", "en": "Cooperation with France"},
        "detail": {"ja": "議論を行いました。", "en": "Discussed."},
        "source": {"kind": "bilateral", "ref": "fr"},
        "owner_desk": "ai-digital",
        "due": due,
        "due_is_assumption": True,
        "assumption_note": {"ja": "仮の期日", "en": "Date assumed"},
        **values,
    }
    return Commitment.model_validate(data)


def ats(found: list[Occurrence]) -> list[dt.datetime]:
    return [o.at for o in found]


# --- digests --------------------------------------------------------------------------------------


def test_weekly_digest_in_tokyo() -> None:
    s = schedule({"id": "weekly", "channel": CHANNEL, "cron": "0 9 * * MON", "lang": "ja"})
    found = occurrences(s, [], NO_STATES, utc(2026, 11, 28), utc(2026, 12, 14))
    # Mondays 09:00 JST = 00:00 UTC; the end is inclusive.
    assert ats(found) == [utc(2026, 11, 30), utc(2026, 12, 7), utc(2026, 12, 14)]
    first = found[0]
    assert first == Occurrence(
        kind="digest",
        key="digest:weekly",
        channel=CHANNEL,
        at=utc(2026, 11, 30),
        lang="ja",
        timezone="Asia/Tokyo",
        digest_id="weekly",
    )


def test_window_start_is_exclusive() -> None:
    s = schedule({"id": "weekly", "channel": CHANNEL, "cron": "0 9 * * MON"})
    assert ats(occurrences(s, [], NO_STATES, utc(2026, 11, 30), utc(2026, 12, 7))) == [utc(2026, 12, 7)]
    assert occurrences(s, [], NO_STATES, utc(2026, 11, 30), utc(2026, 11, 30)) == []


def test_digest_uses_its_own_time_zone_over_the_file_one() -> None:
    s = schedule({"id": "paris", "channel": CHANNEL, "cron": "0 9 * * MON", "timezone": "Europe/Paris"})
    found = occurrences(s, [], NO_STATES, utc(2026, 11, 28), utc(2026, 12, 1))
    assert ats(found) == [utc(2026, 11, 30, 8)]  # 09:00 CET
    assert found[0].timezone == "Europe/Paris"


PARIS_DST: list[Any] = [
    # 2026-03-29: at 02:00 CET clocks jump to 03:00 CEST (01:00 UTC).
    pytest.param(
        "0 9 * * *",
        utc(2026, 3, 27, 12),
        utc(2026, 3, 30, 12),
        [utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)],
        id="spring-forward-0900-stays-0900-local",
    ),
    pytest.param(
        "0 9 * * MON",
        utc(2026, 3, 20),
        utc(2026, 4, 1),
        [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)],
        id="spring-forward-weekly-monday-0900",
    ),
    pytest.param(
        "30 2 * * *",
        utc(2026, 3, 27, 12),
        utc(2026, 3, 30, 12),
        [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)],
        id="spring-forward-0230-does-not-exist-posts-at-0300-cest",
    ),
    pytest.param(
        "*/30 * * * *",
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 2, 0),
        [utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2)],
        id="spring-forward-every-30-minutes-gap-posts-once-at-0300",
    ),
    # 2026-10-25: at 03:00 CEST clocks go back to 02:00 CET (01:00 UTC); 02:00-02:59 happens twice.
    pytest.param(
        "0 9 * * *",
        utc(2026, 10, 23, 12),
        utc(2026, 10, 26, 12),
        [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)],
        id="fall-back-0900-stays-0900-local",
    ),
    pytest.param(
        "30 2 * * *",
        utc(2026, 10, 23, 12),
        utc(2026, 10, 26, 12),
        [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        id="fall-back-0230-happens-twice-posts-once-at-the-first",
    ),
    pytest.param(
        "*/30 * * * *",
        utc(2026, 10, 24, 23, 45),
        utc(2026, 10, 25, 2, 0),
        [utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2)],
        id="fall-back-every-30-minutes-repeated-hour-posts-once",
    ),
]


@pytest.mark.parametrize(("cron", "start", "end", "expected"), PARIS_DST)
def test_paris_digest_across_dst(cron: str, start: dt.datetime, end: dt.datetime, expected: list[dt.datetime]) -> None:
    s = schedule({"id": "paris", "channel": CHANNEL, "cron": cron, "timezone": "Europe/Paris", "lang": "en"})
    found = occurrences(s, [], NO_STATES, start, end)
    assert ats(found) == expected
    assert {(o.timezone, o.lang, o.key) for o in found} == {("Europe/Paris", "en", "digest:paris")}


@pytest.mark.parametrize(
    ("cron", "night"),
    [
        pytest.param("30 2 * * *", utc(2026, 3, 28, 22), id="spring-forward-0230"),
        pytest.param("*/30 * * * *", utc(2026, 3, 28, 22), id="spring-forward-every-30-minutes"),
        pytest.param("30 2 * * *", utc(2026, 10, 24, 22), id="fall-back-0230"),
        pytest.param("*/30 * * * *", utc(2026, 10, 24, 22), id="fall-back-every-30-minutes"),
    ],
)
def test_splitting_the_window_never_repeats_or_loses_a_post(cron: str, night: dt.datetime) -> None:
    """The scheduler asks for (last tick, now] again and again: every cut must give the same union."""
    s = schedule({"id": "paris", "channel": CHANNEL, "cron": cron, "timezone": "Europe/Paris"})
    start, end = night, night + dt.timedelta(hours=6)
    whole = occurrences(s, [], NO_STATES, start, end)
    for minutes in range(5, 6 * 60, 5):
        cut = start + dt.timedelta(minutes=minutes)
        parts = occurrences(s, [], NO_STATES, start, cut) + occurrences(s, [], NO_STATES, cut, end)
        assert parts == whole, cut


def test_naive_window_is_refused() -> None:
    s = schedule({"id": "weekly", "channel": CHANNEL, "cron": "0 9 * * MON"})
    with pytest.raises(ValueError, match="aware"):
        occurrences(s, [], NO_STATES, dt.datetime(2026, 11, 28), utc(2026, 12, 14))


@pytest.mark.parametrize(
    ("wall", "kind", "instant"),
    [
        pytest.param(dt.datetime(2026, 3, 29, 2, 30), "skipped", utc(2026, 3, 29, 1), id="gap-0230"),
        pytest.param(dt.datetime(2026, 3, 29, 2, 0), "skipped", utc(2026, 3, 29, 1), id="gap-start-0200"),
        pytest.param(dt.datetime(2026, 3, 29, 3, 0), "normal", utc(2026, 3, 29, 1), id="gap-end-0300"),
        pytest.param(dt.datetime(2026, 3, 29, 1, 59), "normal", utc(2026, 3, 29, 0, 59), id="before-gap-0159"),
        pytest.param(dt.datetime(2026, 10, 25, 2, 30), "repeated", utc(2026, 10, 25, 0, 30), id="fold-0230"),
        pytest.param(dt.datetime(2026, 10, 25, 3, 0), "normal", utc(2026, 10, 25, 2), id="after-fold-0300"),
    ],
)
def test_local_times_around_paris_dst(wall: dt.datetime, kind: str, instant: dt.datetime) -> None:
    assert local_kind(wall, PARIS) == kind
    assert localize(wall, PARIS) == instant


# --- reminders ------------------------------------------------------------------------------------

REMINDERS = {"channel": CHANNEL, "lang": "en"}


def test_reminders_at_each_offset_at_0900_local() -> None:
    s = schedule(reminders=REMINDERS)
    c = commitment(due="2026-12-11")
    found = occurrences(s, [c], NO_STATES, utc(2026, 11, 1), utc(2027, 1, 1))
    assert [(o.key, o.at) for o in found] == [
        ("reminder:fr-presidency:d30", utc(2026, 11, 11)),
        ("reminder:fr-presidency:d7", utc(2026, 12, 4)),
        ("reminder:fr-presidency:d1", utc(2026, 12, 10)),
        ("reminder:fr-presidency:d0", utc(2026, 12, 11)),
    ]
    assert {(o.kind, o.channel, o.lang, o.timezone, o.commitment_id) for o in found} == {
        ("reminder", CHANNEL, "en", "Asia/Tokyo", "fr-presidency")
    }


def test_reminder_offsets_and_time_are_per_commitment() -> None:
    s = schedule(reminders=REMINDERS)
    c = commitment(due="2026-12-11", reminders=[60, 0], remind_at="17:30")
    found = occurrences(s, [c], NO_STATES, utc(2026, 1, 1), utc(2027, 1, 1))
    assert [(o.key, o.at) for o in found] == [
        # 60 days before is 12 October 2026, Sports Day (a Monday): the Friday before.
        ("reminder:fr-presidency:d60", utc(2026, 10, 9, 8, 30)),
        ("reminder:fr-presidency:d0", utc(2026, 12, 11, 8, 30)),
    ]


def test_commitment_channel_overrides_the_reminder_channel() -> None:
    s = schedule(reminders=REMINDERS)
    found = occurrences(s, [commitment(channel=OTHER)], NO_STATES, utc(2026, 1, 1), utc(2027, 1, 1))
    assert {o.channel for o in found} == {OTHER}


def test_no_channel_no_reminders() -> None:
    assert occurrences(schedule(), [commitment()], NO_STATES, utc(2026, 1, 1), utc(2027, 1, 1)) == []
    found = occurrences(schedule(), [commitment(channel=OTHER)], NO_STATES, utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(found) == 4
    assert {(o.lang, o.timezone) for o in found} == {("ja", "Asia/Tokyo")}


@pytest.mark.parametrize(
    ("due", "remind_at", "expected"),
    [
        pytest.param("2026-03-29", "09:00", utc(2026, 3, 29, 7), id="spring-forward-0900"),
        pytest.param("2026-03-29", "02:30", utc(2026, 3, 29, 1), id="spring-forward-0230-gap-posts-0300-cest"),
        pytest.param("2026-10-25", "09:00", utc(2026, 10, 25, 8), id="fall-back-0900"),
        pytest.param("2026-10-25", "02:30", utc(2026, 10, 25, 0, 30), id="fall-back-0230-first-of-two"),
    ],
)
def test_reminders_in_paris_across_dst(due: str, remind_at: str, expected: dt.datetime) -> None:
    # Clocks change on Sundays: posting on non-working days keeps the reminder on the day of the change.
    s = schedule(reminders={**REMINDERS, "timezone": "Europe/Paris", "on_holiday": "post"})
    c = commitment(due=due, reminders=[0], remind_at=remind_at)
    found = occurrences(s, [c], NO_STATES, utc(2026, 1, 1), utc(2027, 1, 1))
    assert ats(found) == [expected]
    assert found[0].timezone == "Europe/Paris"


def test_snooze_suppresses_earlier_reminders_and_adds_one() -> None:
    s = schedule(reminders=REMINDERS)
    until = utc(2026, 12, 5, 3)
    states = {"fr-presidency": CommitmentState(commitment_id="fr-presidency", snoozed_until=until)}
    found = occurrences(s, [commitment()], states, utc(2026, 11, 1), utc(2027, 1, 1))
    assert [(o.key, o.at) for o in found] == [
        ("reminder:fr-presidency:snooze:20261205T0300", until),
        ("reminder:fr-presidency:d1", utc(2026, 12, 10)),
        ("reminder:fr-presidency:d0", utc(2026, 12, 11)),
    ]
    assert found[0].commitment_id == "fr-presidency"


def test_snooze_key_is_in_utc_whatever_the_stored_zone() -> None:
    s = schedule(reminders=REMINDERS)
    until = dt.datetime(2026, 12, 5, 12, tzinfo=TOKYO)  # 03:00 UTC
    states = {"fr-presidency": CommitmentState(commitment_id="fr-presidency", snoozed_until=until)}
    found = occurrences(s, [commitment()], states, utc(2026, 12, 5), utc(2026, 12, 6))
    assert [(o.key, o.at) for o in found] == [("reminder:fr-presidency:snooze:20261205T0300", utc(2026, 12, 5, 3))]


def test_snooze_to_the_instant_of_a_reminder_posts_once() -> None:
    s = schedule(reminders=REMINDERS)
    states = {"fr-presidency": CommitmentState(commitment_id="fr-presidency", snoozed_until=utc(2026, 12, 10))}
    found = occurrences(s, [commitment()], states, utc(2026, 12, 9), utc(2026, 12, 11))
    assert [o.key for o in found] == [
        "reminder:fr-presidency:snooze:20261210T0000",
        "reminder:fr-presidency:d0",
    ]


def test_naive_snooze_from_the_database_is_utc() -> None:
    s = schedule(reminders=REMINDERS)
    state = CommitmentState(commitment_id="fr-presidency", snoozed_until=dt.datetime(2026, 12, 5, 3))
    found = occurrences(s, [commitment()], {"fr-presidency": state}, utc(2026, 12, 5), utc(2026, 12, 6))
    assert ats(found) == [utc(2026, 12, 5, 3)]


@pytest.mark.parametrize(
    ("file_status", "state_status", "expected"),
    [
        pytest.param("open", None, "open", id="open-no-state"),
        pytest.param("open", "open", "open", id="open-snoozed-state"),
        pytest.param("open", "done", "done", id="done-by-button"),
        pytest.param("done", None, "done", id="done-in-file"),
        pytest.param("done", "open", "done", id="snooze-state-cannot-reopen-file-done"),
    ],
)
def test_effective_status(file_status: str, state_status: str | None, expected: str) -> None:
    c = commitment(status=file_status, done_on="2026-11-01" if file_status == "done" else None)
    state = None if state_status is None else CommitmentState(commitment_id=c.id, status=state_status)
    assert effective_status(c, state) == expected


def test_done_commitments_get_no_reminders() -> None:
    s = schedule(reminders=REMINDERS)
    done_in_file = commitment("a-done", status="done", done_on="2026-11-01")
    done_by_button = commitment("b-done")
    snoozed_then_done = commitment("c-done")
    states = {
        "b-done": CommitmentState(commitment_id="b-done", status="done"),
        "c-done": CommitmentState(commitment_id="c-done", status="done", snoozed_until=utc(2026, 12, 5)),
    }
    found = occurrences(s, [done_in_file, done_by_button, snoozed_then_done], states, utc(2026, 1, 1), utc(2027, 1, 1))
    assert found == []


def test_digests_and_reminders_sorted_by_time_channel_key() -> None:
    s = schedule(
        {"id": "weekly", "channel": OTHER, "cron": "0 9 * * FRI"},
        reminders=REMINDERS,
    )
    cs = CommitmentsFile(commitments=[commitment("b-item", reminders=[0]), commitment("a-item", reminders=[0])])
    found = occurrences(s, cs, NO_STATES, utc(2026, 12, 10), utc(2026, 12, 12))
    # 2026-12-11 is a Friday: all three at 00:00 UTC, ordered by channel (C012… < C098…) then key.
    assert [(o.at, o.channel, o.key) for o in found] == [
        (utc(2026, 12, 11), CHANNEL, "reminder:a-item:d0"),
        (utc(2026, 12, 11), CHANNEL, "reminder:b-item:d0"),
        (utc(2026, 12, 11), OTHER, "digest:weekly"),
    ]


# --- plan -----------------------------------------------------------------------------------------

NOW = utc(2026, 12, 7, 0, 30)
GRACE = dt.timedelta(minutes=30)


def _at(at: dt.datetime, key: str = "digest:weekly") -> Occurrence:
    return Occurrence(kind="digest", key=key, channel=CHANNEL, at=at)


@pytest.mark.parametrize(
    ("age", "bucket"),
    [
        pytest.param(dt.timedelta(0), "on_time", id="exactly-now"),
        pytest.param(dt.timedelta(minutes=2), "on_time", id="exactly-at-tolerance"),
        pytest.param(dt.timedelta(minutes=2, microseconds=1), "late", id="just-past-tolerance"),
        pytest.param(GRACE, "late", id="exactly-at-grace"),
        pytest.param(GRACE + dt.timedelta(microseconds=1), "skipped", id="just-past-grace"),
        pytest.param(dt.timedelta(days=3), "skipped", id="days-old"),
        pytest.param(-dt.timedelta(microseconds=1), None, id="not-yet-due"),
    ],
)
def test_plan_boundaries(age: dt.timedelta, bucket: str | None) -> None:
    occurrence = _at(NOW - age)
    result = plan([occurrence], NOW, grace=GRACE)
    buckets = {"on_time": result.on_time, "late": result.late, "skipped": result.skipped}
    for name, found in buckets.items():
        assert found == ([occurrence] if name == bucket else []), name


def test_plan_with_a_custom_tolerance_and_order() -> None:
    older, newer = (
        _at(NOW - dt.timedelta(minutes=9), "digest:a"),
        _at(NOW - dt.timedelta(minutes=4), "digest:b"),
    )
    result = plan([newer, older], NOW, grace=GRACE, tolerance=dt.timedelta(minutes=10))
    assert result.on_time == [older, newer]
    assert result.late == result.skipped == []


def test_zero_grace_skips_anything_beyond_tolerance() -> None:
    result = plan([_at(NOW - dt.timedelta(minutes=3))], NOW, grace=dt.timedelta(0))
    assert len(result.skipped) == 1


# --- coalesced catch-up ---------------------------------------------------------------------------

MIN = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def _digest(at: dt.datetime, did: str = "minutely", channel: str = CHANNEL) -> Occurrence:
    return Occurrence(kind="digest", key=f"digest:{did}", channel=channel, at=at, digest_id=did)


def _reminder(at: dt.datetime, label: str, cid: str = "fr-presidency") -> Occurrence:
    return Occurrence(kind="reminder", key=f"reminder:{cid}:{label}", channel=CHANNEL, at=at, commitment_id=cid)


def _keys(found: list[Occurrence]) -> list[tuple[str, dt.datetime]]:
    return [(o.key, o.at) for o in found]


@pytest.mark.parametrize(
    ("due_list", "grace", "on_time", "late", "coalesced", "skipped"),
    [
        pytest.param(
            [_digest(NOW - 5 * MIN), _digest(NOW - 3 * MIN), _digest(NOW - MIN)],
            GRACE,
            [_digest(NOW - MIN)],
            [],
            [_digest(NOW - 5 * MIN), _digest(NOW - 3 * MIN)],
            [],
            id="late-ones-coalesce-into-the-on-time-one",
        ),
        pytest.param(
            [_digest(NOW - 20 * MIN), _digest(NOW - 10 * MIN)],
            GRACE,
            [],
            [_digest(NOW - 10 * MIN)],
            [_digest(NOW - 20 * MIN)],
            [],
            id="only-late-ones-the-latest-goes-out-late",
        ),
        pytest.param(
            [_digest(NOW - 2 * MIN), _digest(NOW - MIN), _digest(NOW)],
            GRACE,
            [_digest(NOW)],
            [],
            [_digest(NOW - 2 * MIN), _digest(NOW - MIN)],
            [],
            id="several-on-time-ones-post-once",
        ),
        pytest.param(
            [_digest(NOW - 45 * MIN), _digest(NOW - 40 * MIN)],
            GRACE,
            [],
            [],
            [],
            [_digest(NOW - 45 * MIN), _digest(NOW - 40 * MIN)],
            id="past-grace-stays-skipped-not-coalesced",
        ),
        pytest.param(
            [_digest(NOW - 45 * MIN), _digest(NOW - 10 * MIN)],
            GRACE,
            [],
            [_digest(NOW - 10 * MIN)],
            [],
            [_digest(NOW - 45 * MIN)],
            id="skipped-and-late-in-one-series",
        ),
        pytest.param(
            [_digest(NOW - 10 * MIN), _digest(NOW + MIN)],
            GRACE,
            [],
            [_digest(NOW - 10 * MIN)],
            [],
            [],
            id="a-future-one-supersedes-nothing",
        ),
        pytest.param(
            [_digest(NOW - 10 * MIN, "a"), _digest(NOW - 5 * MIN, "b")],
            GRACE,
            [],
            [_digest(NOW - 10 * MIN, "a"), _digest(NOW - 5 * MIN, "b")],
            [],
            [],
            id="different-digests-each-post",
        ),
        pytest.param(
            [_digest(NOW - 10 * MIN, channel=CHANNEL), _digest(NOW - 5 * MIN, channel=OTHER)],
            GRACE,
            [],
            [_digest(NOW - 10 * MIN, channel=CHANNEL), _digest(NOW - 5 * MIN, channel=OTHER)],
            [],
            [],
            id="one-digest-id-in-two-channels-each-post",
        ),
        pytest.param(
            [_reminder(NOW - 6 * DAY, "d7"), _reminder(NOW, "d1")],
            10 * DAY,
            [_reminder(NOW, "d1")],
            [],
            [_reminder(NOW - 6 * DAY, "d7")],
            [],
            id="reminders-only-the-latest-offset",
        ),
        pytest.param(
            [_reminder(NOW - 6 * DAY, "d7"), _reminder(NOW - 2 * DAY, "snooze:20261205T0030")],
            10 * DAY,
            [],
            [_reminder(NOW - 2 * DAY, "snooze:20261205T0030")],
            [_reminder(NOW - 6 * DAY, "d7")],
            [],
            id="a-snooze-and-an-offset-of-one-commitment",
        ),
        pytest.param(
            [_reminder(NOW - 6 * DAY, "d7", "a"), _reminder(NOW - DAY, "d1", "b")],
            10 * DAY,
            [],
            [_reminder(NOW - 6 * DAY, "d7", "a"), _reminder(NOW - DAY, "d1", "b")],
            [],
            [],
            id="reminders-of-two-commitments-each-post",
        ),
        pytest.param(
            [_reminder(NOW - 10 * MIN, "d0"), _digest(NOW - 5 * MIN, "fr-presidency")],
            GRACE,
            [],
            [_reminder(NOW - 10 * MIN, "d0"), _digest(NOW - 5 * MIN, "fr-presidency")],
            [],
            [],
            id="a-digest-and-a-reminder-never-coalesce",
        ),
    ],
)
def test_plan_coalesces_missed_occurrences(
    due_list: list[Occurrence],
    grace: dt.timedelta,
    on_time: list[Occurrence],
    late: list[Occurrence],
    coalesced: list[Occurrence],
    skipped: list[Occurrence],
) -> None:
    result = plan(list(reversed(due_list)), NOW, grace=grace)
    assert _keys(result.on_time) == _keys(on_time)
    assert _keys(result.late) == _keys(late)
    assert _keys(result.coalesced) == _keys(coalesced)
    assert _keys(result.skipped) == _keys(skipped)


@pytest.mark.parametrize(
    ("grace", "coalesced"),
    [
        # 25 s past the minute, the occurrence `grace` minutes back is just outside the grace period.
        pytest.param(dt.timedelta(minutes=13), 12, id="grace-13-minutes"),
        pytest.param(GRACE, 29, id="grace-30-minutes-the-default"),
    ],
)
def test_every_minute_digest_on_a_fresh_log_posts_once(grace: dt.timedelta, coalesced: int) -> None:
    # The fault: on a fresh delivery log this digest posted 13 times in its first 25 seconds.
    s = schedule({"id": "minutely", "channel": CHANNEL, "cron": "* * * * *"})
    now = NOW + dt.timedelta(seconds=25)
    due_list = occurrences(s, [], NO_STATES, now - DAY, now)  # the deliverer's default lookback
    assert len(due_list) == 24 * 60
    result = plan(due_list, now, grace=grace)
    assert _keys(result.on_time + result.late) == [("digest:minutely", NOW)]
    assert result.on_time == [due_list[-1]]
    assert len(result.coalesced) == coalesced
    assert ats(result.coalesced) == [NOW - n * MIN for n in range(coalesced, 0, -1)]
    assert len(result.skipped) == 24 * 60 - 1 - coalesced


def test_every_minute_digest_after_it_posted_goes_on_minute_by_minute() -> None:
    # Once the catch-up is in the log, each tick sees only the minute just begun: nothing more coalesces.
    s = schedule({"id": "minutely", "channel": CHANNEL, "cron": "* * * * *"})
    now = NOW + dt.timedelta(seconds=15)
    result = plan(occurrences(s, [], NO_STATES, NOW, now + MIN), now + MIN, grace=GRACE)
    assert ats(result.on_time) == [NOW + MIN]
    assert result.late == result.coalesced == result.skipped == []


def test_posted_and_coalesced_partition_what_is_due_within_grace() -> None:
    due_list = [_digest(NOW - n * MIN, did) for n in range(0, 40, 3) for did in ("a", "b")]
    result = plan(due_list, NOW, grace=GRACE)
    placed = result.on_time + result.late + result.coalesced + result.skipped
    assert sorted(_keys(placed)) == sorted(_keys(due_list))
    assert {o.digest_id for o in result.on_time + result.late} == {"a", "b"}
    assert len(result.on_time + result.late) == 2


_any_occurrence = st.builds(
    lambda kind, name, label, channel, minutes: (
        _digest(NOW - minutes * MIN, name, channel) if kind == "digest" else _reminder(NOW - minutes * MIN, label, name)
    ),
    st.sampled_from(["digest", "reminder"]),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["d30", "d7", "d1", "d0"]),
    st.sampled_from([CHANNEL, OTHER]),
    st.integers(min_value=-5, max_value=60),
)


@settings(max_examples=200, deadline=None)
@given(due_list=st.lists(_any_occurrence, max_size=30, unique_by=lambda o: o.identity))
def test_plan_posts_at_most_the_latest_of_each_series(due_list: list[Occurrence]) -> None:
    result = plan(due_list, NOW, grace=GRACE)
    posted = result.on_time + result.late
    placed = posted + result.coalesced + result.skipped
    assert sorted(_keys(placed) + [(o.key, o.at) for o in due_list if o.at > NOW]) == sorted(_keys(due_list))
    assert len({series(o) for o in posted}) == len(posted)  # at most one per digest or commitment
    for o in posted:
        within = [d for d in due_list if series(d) == series(o) and NOW - GRACE <= d.at <= NOW]
        assert o.at == max(d.at for d in within)
    for o in result.coalesced:
        assert any(series(p) == series(o) and p.at >= o.at for p in posted)
    assert all(NOW - o.at > GRACE for o in result.skipped)


# --- next_runs ------------------------------------------------------------------------------------


def test_next_runs_merges_digests_and_reminders() -> None:
    s = schedule(
        {"id": "tokyo", "channel": CHANNEL, "cron": "0 9 * * MON"},
        {"id": "paris", "channel": OTHER, "cron": "0 9 * * MON", "timezone": "Europe/Paris", "lang": "en"},
        reminders=REMINDERS,
    )
    found = next_runs(s, [commitment(due="2026-12-11")], NO_STATES, utc(2026, 11, 28, 12), limit=5)
    assert [(o.key, o.at) for o in found] == [
        ("digest:tokyo", utc(2026, 11, 30)),
        ("digest:paris", utc(2026, 11, 30, 8)),
        ("reminder:fr-presidency:d7", utc(2026, 12, 4)),
        ("digest:tokyo", utc(2026, 12, 7)),
        ("digest:paris", utc(2026, 12, 7, 8)),
    ]


def test_next_runs_stops_at_the_horizon_and_limit() -> None:
    s = schedule({"id": "daily", "channel": CHANNEL, "cron": "* * * * *"}, reminders=REMINDERS)
    now = utc(2026, 11, 28, 12)
    # A cron firing every minute must not be expanded over the whole 400-day default horizon.
    assert ats(next_runs(s, [], NO_STATES, now, limit=3)) == [
        utc(2026, 11, 28, 12, 1),
        utc(2026, 11, 28, 12, 2),
        utc(2026, 11, 28, 12, 3),
    ]
    c = commitment(due="2027-12-10")
    assert [o.key for o in next_runs(schedule(reminders=REMINDERS), [c], NO_STATES, now)] == [
        "reminder:fr-presidency:d30",
        "reminder:fr-presidency:d7",
        "reminder:fr-presidency:d1",
        "reminder:fr-presidency:d0",
    ]
    short = dt.timedelta(days=30)
    assert next_runs(schedule(reminders=REMINDERS), [c], NO_STATES, now, horizon=short) == []
    assert next_runs(s, [], NO_STATES, now, limit=0) == []


# --- digest items ---------------------------------------------------------------------------------


def _items(cs: list[Commitment], states: dict[str, CommitmentState], now: dt.datetime) -> DigestItems:
    return digest_items(cs, states, now, tz=TOKYO, lookahead_days=14, recent_days=7)


def test_digest_items_sections() -> None:
    now = utc(2026, 11, 29, 15, 30)  # 2026-11-30 00:30 in Tokyo: "today" is the local date
    cs = [
        commitment("past-due", due="2026-11-29", due_is_assumption=False, assumption_note=None),
        commitment("past-assumed", due="2026-11-28"),
        commitment("due-today", due="2026-11-30"),
        commitment("last-day", due="2026-12-14"),
        commitment("beyond", due="2026-12-15"),
        commitment("done-recently", due="2026-12-31", status="done", done_on="2026-11-23"),
        commitment("done-long-ago", due="2026-06-30", status="done", done_on="2026-11-22"),
        commitment("pressed-done", due="2026-10-01"),
    ]
    # Pressed on 2026-11-27 at 16:00 UTC, which is already the 28th in Tokyo.
    states = {
        "pressed-done": CommitmentState(commitment_id="pressed-done", status="done", updated_at=utc(2026, 11, 27, 16))
    }
    items = _items(cs, states, now)
    assert items.today == dt.date(2026, 11, 30)
    assert [c.id for c in items.overdue] == ["past-due"]
    assert [c.id for c in items.to_confirm] == ["past-assumed"]
    assert [c.id for c in items.upcoming] == ["due-today", "last-day"]
    assert [(d.commitment.id, d.done_on) for d in items.recently_done] == [
        ("pressed-done", dt.date(2026, 11, 28)),
        ("done-recently", dt.date(2026, 11, 23)),
    ]
    assert (items.lookahead_days, items.recent_days) == (14, 7)


def test_digest_items_from_the_shipped_data(release: Release) -> None:
    cs = load_commitments(COMMITMENTS_FILE, release=release)
    pressed = {"ca-steel": CommitmentState(commitment_id="ca-steel", status="done", updated_at=utc(2026, 11, 27))}
    items = digest_items(cs, pressed, utc(2026, 11, 30), tz=TOKYO, lookahead_days=14, recent_days=7)
    # Every date in the shipped data is an assumption: nothing is overdue, past ones are to confirm.
    assert not items.overdue and items.to_confirm and items.upcoming
    assert all(c.due_is_assumption and c.due < items.today for c in items.to_confirm)
    assert [d.commitment.id for d in items.recently_done] == ["ca-steel"]


@pytest.mark.parametrize(
    ("channel", "expected_local", "lang"),
    [
        pytest.param("C0PARIS000", dt.datetime(2026, 12, 4, 9, 0, tzinfo=PARIS), "en", id="paris-digest-channel"),
        pytest.param("C0TOKYO000", dt.datetime(2026, 12, 4, 9, 0, tzinfo=TOKYO), "ja", id="reminders-channel"),
        pytest.param("C0OTHER000", dt.datetime(2026, 12, 4, 9, 0, tzinfo=TOKYO), "ja", id="unknown-channel"),
    ],
)
def test_a_reminder_is_at_nine_in_its_channels_time_zone(channel: str, expected_local: dt.datetime, lang: str) -> None:
    sched = schedule(
        {"id": "paris", "channel": "C0PARIS000", "cron": "0 9 * * MON", "timezone": "Europe/Paris", "lang": "en"},
        reminders={"channel": "C0TOKYO000"},
    )
    c = commitment(due="2026-12-11", reminders=[7], channel=channel)
    found = [o for o in occurrences(sched, [c], NO_STATES, utc(2026, 12, 1), utc(2026, 12, 10)) if o.kind == "reminder"]
    assert [(o.at, o.lang) for o in found] == [(expected_local.astimezone(dt.UTC), lang)]
