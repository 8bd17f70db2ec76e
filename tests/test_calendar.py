"""The administrative calendar: explicit dates for 2026–2030 from the law and the Cabinet Office's list.

The expected dates are typed in from the sources, not computed: 行政機関の休日に関する法律 第1条 (weekends,
national holidays, 29 December to 3 January) and the Cabinet Office's list of national holidays
(内閣府「国民の祝日について」), with 振替休日 and 国民の休日 worked out by 国民の祝日に関する法律 第3条.
The equinoxes after 2027 are the National Astronomical Observatory's forecasts (each is fixed in the
官報 in February of the year before); none of them moves a 振替休日 or 国民の休日 listed here.
"""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.calendar import (
    JAPAN,
    Calendar,
    check_country,
    is_business_day,
    is_closure,
    next_business_day,
    non_working_reason,
    previous_business_day,
)
from bot.messages import msg

D = dt.date.fromisoformat
PARIS = Calendar(partner="FR")

# 29 December to 3 January of every year-end from 2025/26 to 2030/31.
CLOSURE = [
    *(dt.date(year, 1, day) for year in range(2026, 2031) for day in (1, 2, 3)),
    *(dt.date(year, 12, day) for year in range(2026, 2031) for day in (29, 30, 31)),
    dt.date(2031, 1, 1),
    dt.date(2031, 1, 2),
    dt.date(2031, 1, 3),
]

# 振替休日: a national holiday on a Sunday moves to the next day that is not a holiday (第3条第2項).
SUBSTITUTE_HOLIDAYS = [
    "2026-05-06",  # 憲法記念日 5/3 is a Sunday; 5/4 and 5/5 are holidays already
    "2027-03-22",  # 春分の日 3/21 is a Sunday
    "2029-02-12",  # 建国記念の日 2/11 is a Sunday
    "2029-04-30",  # 昭和の日 4/29 is a Sunday
    "2029-09-24",  # 秋分の日 9/23 is a Sunday
    "2030-05-06",  # こどもの日 5/5 is a Sunday
    "2030-08-12",  # 山の日 8/11 is a Sunday
    "2030-11-04",  # 文化の日 11/3 is a Sunday
]

# 国民の休日: a day between two national holidays (第3条第3項): 敬老の日 9/21 and 秋分の日 9/23 in 2026.
CITIZENS_HOLIDAYS = ["2026-09-22"]

# The Cabinet Office's list for 2026 and 2027, every national holiday (振替休日 and 国民の休日 included).
NATIONAL_HOLIDAYS_2026 = [
    "2026-01-01", "2026-01-12", "2026-02-11", "2026-02-23", "2026-03-20", "2026-04-29", "2026-05-03",
    "2026-05-04", "2026-05-05", "2026-05-06", "2026-07-20", "2026-08-11", "2026-09-21", "2026-09-22",
    "2026-09-23", "2026-10-12", "2026-11-03", "2026-11-23",
]  # fmt: skip
NATIONAL_HOLIDAYS_2027 = [
    "2027-01-01", "2027-01-11", "2027-02-11", "2027-02-23", "2027-03-21", "2027-03-22", "2027-04-29",
    "2027-05-03", "2027-05-04", "2027-05-05", "2027-07-19", "2027-08-11", "2027-09-20", "2027-09-23",
    "2027-10-11", "2027-11-03", "2027-11-23",
]  # fmt: skip


@pytest.mark.parametrize("day", CLOSURE, ids=str)
def test_every_closure_day_is_not_a_business_day(day: dt.date) -> None:
    assert is_closure(day)
    assert not is_business_day(day)
    reason = non_working_reason(day)
    assert reason is not None
    if not (day.month == 1 and day.day == 1):  # 1 January is named as the holiday it is (元日)
        assert reason.ja == msg("calendar.closure", "ja") and reason.en == msg("calendar.closure", "en")


@pytest.mark.parametrize("day", [D("2026-12-28"), D("2027-01-04"), D("2028-12-28"), D("2030-01-04")], ids=str)
def test_the_weekdays_around_the_closure_are_business_days(day: dt.date) -> None:
    assert not is_closure(day) and is_business_day(day) and non_working_reason(day) is None


@pytest.mark.parametrize("day", SUBSTITUTE_HOLIDAYS)
def test_substitute_holidays(day: str) -> None:
    assert D(day).weekday() < 5  # a weekday off, which is the point
    assert not is_business_day(D(day))
    assert non_working_reason(D(day)) == non_working_reason(D(day), PARIS)
    reason = non_working_reason(D(day))
    assert reason is not None and reason.ja == "振替休日"


@pytest.mark.parametrize("day", CITIZENS_HOLIDAYS)
def test_citizens_holidays(day: str) -> None:
    assert D(day).weekday() < 5
    assert not is_business_day(D(day))
    reason = non_working_reason(D(day))
    assert reason is not None and reason.ja == "国民の休日"


@pytest.mark.parametrize(
    ("year", "expected"), [(2026, NATIONAL_HOLIDAYS_2026), (2027, NATIONAL_HOLIDAYS_2027)], ids=["2026", "2027"]
)
def test_the_weekday_holidays_of_a_year_are_exactly_the_cabinet_offices(year: int, expected: list[str]) -> None:
    days = [
        dt.date(year, 1, 1) + dt.timedelta(days=n)
        for n in range(366)
        if (dt.date(year, 1, 1) + dt.timedelta(days=n)).year == year
    ]
    off = {d for d in days if d.weekday() < 5 and not is_closure(d) and not is_business_day(d)}
    assert off == {D(d) for d in expected if D(d).weekday() < 5 and not is_closure(D(d))}


@pytest.mark.parametrize(
    ("day", "ja", "en"),
    [
        pytest.param(D("2026-05-03"), "憲法記念日", "Constitution Day", id="holiday-on-a-sunday-is-named"),
        pytest.param(D("2027-01-01"), "元日", "New Year's Day", id="new-year-is-the-holiday"),
        pytest.param(D("2026-12-05"), "土曜日", "Saturday", id="saturday"),
        pytest.param(D("2026-12-06"), "日曜日", "Sunday", id="sunday"),
    ],
)
def test_reasons_are_named_in_both_languages(day: dt.date, ja: str, en: str) -> None:
    reason = non_working_reason(day)
    assert reason is not None and (reason.ja, reason.en) == (ja, en)


@pytest.mark.parametrize(
    ("day", "previous", "following"),
    [
        pytest.param(D("2026-12-30"), D("2026-12-28"), D("2027-01-04"), id="closure-2026"),
        pytest.param(D("2027-12-31"), D("2027-12-28"), D("2028-01-04"), id="closure-2027"),
        pytest.param(D("2028-12-29"), D("2028-12-28"), D("2029-01-04"), id="closure-2028"),
        pytest.param(D("2029-12-31"), D("2029-12-28"), D("2030-01-04"), id="closure-2029"),
        # 2030-12-28 is a Saturday and 2031-01-04 too: the closure runs into two weekends.
        pytest.param(D("2031-01-01"), D("2030-12-27"), D("2031-01-06"), id="closure-2030-with-weekends"),
        pytest.param(D("2026-05-04"), D("2026-05-01"), D("2026-05-07"), id="golden-week-2026"),
        pytest.param(D("2026-09-22"), D("2026-09-18"), D("2026-09-24"), id="silver-week-2026"),
        pytest.param(D("2026-12-02"), D("2026-12-01"), D("2026-12-03"), id="an-ordinary-wednesday"),
    ],
)
def test_previous_and_next_business_day(day: dt.date, previous: dt.date, following: dt.date) -> None:
    assert previous_business_day(day) == previous
    assert next_business_day(day) == following
    assert previous_business_day(day, inclusive=True) == (day if is_business_day(day) else previous)
    assert next_business_day(day, inclusive=True) == (day if is_business_day(day) else following)


# --- a partner country's calendar ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        pytest.param(D("2026-05-01"), "Labor Day", id="fete-du-travail"),
        pytest.param(D("2026-07-14"), "National Day", id="quatorze-juillet"),
        pytest.param(D("2026-11-11"), "Armistice Day", id="armistice"),
    ],
)
def test_a_french_holiday_is_off_for_a_paris_channel_only(day: dt.date, name: str) -> None:
    assert is_business_day(day, JAPAN) and non_working_reason(day, JAPAN) is None
    assert not is_business_day(day, PARIS)
    reason = non_working_reason(day, PARIS)
    assert reason is not None
    assert reason.en == msg("calendar.partner_holiday", "en", country="FR", name=name)
    assert "FR" in reason.ja and name in reason.ja


def test_both_calendars_count_for_a_paris_channel() -> None:
    # 2026-05-01 (FR), the Japanese Golden Week 5/2–5/6 and 5/8 (FR, Victoire 1945): only 5/7 works in both.
    assert next_business_day(D("2026-04-30"), PARIS) == D("2026-05-07")
    assert next_business_day(D("2026-05-07"), PARIS) == D("2026-05-11")
    assert previous_business_day(D("2026-05-11"), PARIS) == D("2026-05-07")
    # Christmas is a business day in Tokyo, not in Paris.
    assert is_business_day(D("2026-12-25")) and not is_business_day(D("2026-12-25"), PARIS)


@pytest.mark.parametrize("code", ["XX", "fr", "France", ""])
def test_an_unknown_partner_country_is_refused_with_what_was_expected(code: str) -> None:
    with pytest.raises(ValueError, match='such as "FR"'):
        check_country(code)
    with pytest.raises(ValueError, match='such as "FR"'):
        Calendar(partner=code)


# --- the law, against the holidays package -------------------------------------------------------

DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


def _rule(day: dt.date) -> bool:
    closure = (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)
    return day.weekday() < 5 and day not in holidays.country_holidays("JP", years=day.year) and not closure


@given(DAYS)
def test_a_business_day_is_not_a_weekend_a_national_holiday_or_the_closure(day: dt.date) -> None:
    assert is_business_day(day) == _rule(day)
    assert (non_working_reason(day) is None) == _rule(day)


@given(DAYS)
def test_with_a_partner_a_business_day_is_one_in_both(day: dt.date) -> None:
    assert is_business_day(day, PARIS) == (_rule(day) and day not in holidays.country_holidays("FR", years=day.year))


@given(DAYS)
def test_previous_and_next_skip_exactly_the_days_off(day: dt.date) -> None:
    before, after = previous_business_day(day), next_business_day(day)
    assert before < day < after and is_business_day(before) and is_business_day(after)
    between = [before + dt.timedelta(days=n) for n in range(1, (after - before).days)]
    assert all(not is_business_day(d) for d in between if d != day)


def test_the_country_codes_accepted_are_the_packages_own_list() -> None:
    # supported_countries reads the registry instead of importing every country's module: the same codes.
    from bot.calendar._holidays import supported_countries

    assert supported_countries() == frozenset(holidays.list_supported_countries())
    assert {"FR", "FRA", "GB", "UK", "JP"} <= supported_countries()
