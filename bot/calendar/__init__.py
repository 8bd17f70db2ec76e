"""The Japanese administrative calendar (and a channel's partner calendar): which days are business days.

Japanese government offices do not work (行政機関の休日に関する法律 第1条):

* on Saturdays and Sundays;
* on national holidays (国民の祝日に関する法律), including 振替休日 (a holiday falling on a Sunday moves to
  the next day that is not a holiday) and 国民の休日 (a day between two holidays): taken from the
  `holidays` package (`holidays.JP`), which follows the law and the Cabinet Office's list;
* during the year-end closure, 29 December to 3 January.

A channel may also follow a partner country's calendar (`partner="FR"` for a team in Paris): a day is
then a business day only if it is one in both. Every function is pure and the holiday tables are
cached per country and year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.calendar._holidays import supported_countries, table
from bot.messages import msg
from bot.release.models import LANGS, Text

# How far previous/next_business_day look: no calendar has this many non-working days in a row.
SEARCH_DAYS = 60

__all__ = [
    "JAPAN",
    "Calendar",
    "check_country",
    "is_business_day",
    "is_closure",
    "next_business_day",
    "non_working_reason",
    "previous_business_day",
]


def check_country(code: str) -> str:
    """`code` if the holidays package knows that country; ValueError says what was expected."""
    if code not in supported_countries():
        raise ValueError(
            f'expected a country code known to the holidays package, such as "FR", "US" or "GB", got {code!r}'
        )
    return code


@dataclass(frozen=True)
class Calendar:
    """Japan's administrative calendar, and optionally a partner country's public holidays as well."""

    partner: str | None = None

    def __post_init__(self) -> None:
        if self.partner is not None:
            check_country(self.partner)


JAPAN = Calendar()


def is_closure(day: dt.date) -> bool:
    """The year-end closure of government offices: 29 December to 3 January."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def _japanese_holiday(day: dt.date, lang: str) -> str | None:
    return table("JP", day.year, "ja" if lang == "ja" else "en_US").get(day)


def _partner_holiday(day: dt.date, partner: str) -> str | None:
    # In English where the package has it, else in the country's language: never guessed into Japanese.
    return table(partner, day.year, "en_US").get(day)


def is_business_day(day: dt.date, calendar: Calendar = JAPAN) -> bool:
    """Not a weekend, not a Japanese national holiday, not in the year-end closure, nor a partner holiday."""
    if day.weekday() >= 5 or is_closure(day) or _japanese_holiday(day, "ja") is not None:
        return False
    return calendar.partner is None or _partner_holiday(day, calendar.partner) is None


def _step(day: dt.date, calendar: Calendar, direction: int, inclusive: bool) -> dt.date:
    candidate = day if inclusive else day + dt.timedelta(days=direction)
    for _ in range(SEARCH_DAYS):
        if is_business_day(candidate, calendar):
            return candidate
        candidate += dt.timedelta(days=direction)
    raise ValueError(f"no business day within {SEARCH_DAYS} days of {day} in {calendar}")


def previous_business_day(day: dt.date, calendar: Calendar = JAPAN, *, inclusive: bool = False) -> dt.date:
    """The last business day before `day` (or `day` itself, with `inclusive`, if it is one)."""
    return _step(day, calendar, -1, inclusive)


def next_business_day(day: dt.date, calendar: Calendar = JAPAN, *, inclusive: bool = False) -> dt.date:
    """The first business day after `day` (or `day` itself, with `inclusive`, if it is one)."""
    return _step(day, calendar, 1, inclusive)


def non_working_reason(day: dt.date, calendar: Calendar = JAPAN) -> Text | None:
    """Why `day` is not a business day, in both languages; None if it is one.

    A national holiday is named (a 振替休日 or 国民の休日 as such), before the closure and the weekend:
    1 January is 元日, 3 May on a Sunday is 憲法記念日.
    """
    names = {lang: _japanese_holiday(day, lang) for lang in LANGS}
    if names["ja"] is not None:
        return Text(ja=names["ja"], en=names["en"] or names["ja"])
    if is_closure(day):
        return _wording("calendar.closure")
    if day.weekday() >= 5:
        return _wording("calendar.saturday" if day.weekday() == 5 else "calendar.sunday")
    if calendar.partner is not None:
        name = _partner_holiday(day, calendar.partner)
        if name is not None:
            return _wording("calendar.partner_holiday", country=calendar.partner, name=name)
    return None


def _wording(key: str, **values: object) -> Text:
    return Text(ja=msg(key, "ja", **values), en=msg(key, "en", **values))
