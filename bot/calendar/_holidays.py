"""Public holidays from the `holidays` package, one cached table per country and year."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays


@cache
def supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def _language(country: str, wanted: str) -> str | None:
    cls = holidays.country_holidays(country).__class__
    languages: tuple[str, ...] = tuple(getattr(cls, "supported_languages", ()))
    return wanted if wanted in languages else None


@cache
def table(country: str, year: int, language: str) -> dict[dt.date, str]:
    """Every public holiday of `country` in `year`, named in `language` (the country's own if it has none).

    Several holidays on one day are joined with "; " by the package; they stay one entry here.
    """
    found = holidays.country_holidays(country, years=year, language=_language(country, language))
    return {day: str(name) for day, name in found.items() if day.year == year}
