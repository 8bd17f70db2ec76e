"""Public holidays from the `holidays` package, one cached table per country and year."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays
from holidays.registry import EntityLoader


@cache
def supported_countries() -> frozenset[str]:
    """Every country code (and alias) the package knows, from its registry: without importing each country's
    module, as holidays.list_supported_countries() does (8 MB and a tenth of a second at start-up)."""
    return frozenset(EntityLoader.get_country_codes(include_aliases=True))


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
