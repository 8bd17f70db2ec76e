"""Dates as METI writes them: 西暦 or 和暦 (平成/令和, 元年), weekdays 「(月曜日)」「(月)」, ranges and update notes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_N = r"[0-9０-９]{1,4}"
_ERA_START = {"令和": 2018, "平成": 1988}
_WEEKDAY = r"(?:[\(（][月火水木金土日](?:曜日?)?[\)）])"
_YEAR = r"(?:(?:(?P<{p}era>令和|平成)(?P<{p}eyear>" + _N + r"|元))|(?P<{p}year>" + _N + r"))年"
_YEAR_A, _YEAR_B = _YEAR.replace("{p}", "a"), _YEAR.replace("{p}", "b")
_DATE = rf"(?:{_YEAR_A})?(?P<amonth>{_N})月(?P<aday>{_N})日{_WEEKDAY}?"
_END = rf"(?:{_YEAR_B})?(?:(?P<bmonth>{_N})月)?(?P<bday>{_N})日{_WEEKDAY}?"
RANGE = re.compile(rf"{_DATE}\s*(?:から|～|〜|~|－|-)\s*{_END}(?P<tail>にかけて|まで|の日程で|の間)?")
SINGLE = re.compile(_DATE)
PUBLISHED = re.compile(rf"^\s*{_YEAR_A}(?P<amonth>{_N})月(?P<aday>{_N})日{_WEEKDAY}?\s*$")
UPDATE = re.compile(rf"【\s*{_YEAR_A}(?P<amonth>{_N})月(?P<aday>{_N})日\s*更新\s*】")


@dataclass(frozen=True)
class Span:
    """A date or a range found in a text, with the words it was read from."""

    start: dt.date
    end: dt.date
    words: str


def _year(m: re.Match[str], p: str) -> int | None:
    era = m.group(f"{p}era")
    if era:
        n = m.group(f"{p}eyear")
        return _ERA_START[era] + (1 if n == "元" else int(n))
    year = m.group(f"{p}year")
    return int(year) if year else None


def _date(year: int | None, month: int, day: int, near: dt.date | None) -> dt.date | None:
    try:
        if year is not None:
            return dt.date(year, month, day)
        if near is None:
            return None
        # Without a year, the date nearest the publication: a December meeting published in January.
        candidates = [dt.date(near.year + k, month, day) for k in (-1, 0, 1) if _valid(near.year + k, month, day)]
        return min(candidates, key=lambda d: abs((d - near).days)) if candidates else None
    except ValueError:
        return None


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def published(line: str) -> dt.date | None:
    """The publication date, when `line` is nothing but a date (2025年12月10日, 令和元年5月7日)."""
    m = PUBLISHED.match(line)
    return _date(_year(m, "a"), int(m["amonth"]), int(m["aday"]), None) if m else None


def update_note(line: str) -> dt.date | None:
    """The date of an update note 【2024年7月22日更新】, or None."""
    m = UPDATE.search(line)
    return _date(_year(m, "a"), int(m["amonth"]), int(m["aday"]), None) if m else None


def first_range(text: str, *, near: dt.date | None) -> Span | None:
    """The first date range (から…にかけて, の日程で) in `text`, the year taken from the text or `near`."""
    m = RANGE.search(text)
    if not m:
        return None
    start = _date(_year(m, "a"), int(m["amonth"]), int(m["aday"]), near)
    if start is None:
        return None
    month = int(m["bmonth"]) if m["bmonth"] else start.month
    end_year = _year(m, "b") or start.year
    end = _date(end_year, month, int(m["bday"]), None)
    if end is not None and end < start:
        end = _date(end_year + 1, month, int(m["bday"]), None)
    if end is None or end < start:
        return None
    return Span(start, end, m.group(0))


def first_date(text: str, *, near: dt.date | None) -> Span | None:
    """The first single date in `text` (7月16日(火曜日)), as a one-day span."""
    m = SINGLE.search(text)
    if not m:
        return None
    day = _date(_year(m, "a"), int(m["amonth"]), int(m["aday"]), near)
    return Span(day, day, m.group(0)) if day else None


def first_span(text: str, *, near: dt.date | None) -> Span | None:
    return first_range(text, near=near) or first_date(text, near=near)
