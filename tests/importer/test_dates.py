"""Dates as METI writes them: 西暦 and 和暦 publication dates, weekdays, ranges, update notes."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.importer import dates

D = dt.date


@pytest.mark.parametrize(
    ("line", "want"),
    [
        ("2025年12月10日", D(2025, 12, 10)),
        ("２０２５年１２月１０日", D(2025, 12, 10)),
        ("令和元年5月7日", D(2019, 5, 7)),
        ("令和6年7月19日", D(2024, 7, 19)),
        ("平成31年4月1日(月)", D(2019, 4, 1)),
        ("平成30年9月25日(火曜日)", D(2018, 9, 25)),
        ("井野副大臣は2025年12月10日に", None),
        ("令和元年13月1日", None),
    ],
    ids=[
        "seireki",
        "fullwidth",
        "reiwa-gannen",
        "reiwa",
        "heisei-weekday",
        "heisei-long-weekday",
        "in-a-sentence",
        "impossible",
    ],
)
def test_publication_date(line: str, want: D | None) -> None:
    assert dates.published(line) == want


@pytest.mark.parametrize(
    ("text", "near", "want"),
    [
        ("12月7日(日曜日)から11日(木曜日)にかけて、カナダ", D(2025, 12, 10), (D(2025, 12, 7), D(2025, 12, 11))),
        ("7月13日(月)から18日(土)にかけて", D(2020, 7, 20), (D(2020, 7, 13), D(2020, 7, 18))),
        ("9月23日(日)から26日(水)の日程で", D(2018, 9, 25), (D(2018, 9, 23), D(2018, 9, 26))),
        ("2023年5月19日(金)から21日(日)にかけて", None, (D(2023, 5, 19), D(2023, 5, 21))),
        ("7月30日(火)から8月2日(金)の日程で", D(2024, 8, 5), (D(2024, 7, 30), D(2024, 8, 2))),
        ("12月30日(月)から1月3日(金)にかけて", D(2025, 1, 6), (D(2024, 12, 30), D(2025, 1, 3))),
        ("令和元年5月1日から3日まで", None, (D(2019, 5, 1), D(2019, 5, 3))),
    ],
    ids=["long-weekday", "short-weekday", "no-nittei", "with-year", "across-months", "across-years", "wareki"],
)
def test_range(text: str, near: D | None, want: tuple[D, D]) -> None:
    span = dates.first_range(text, near=near)
    assert span is not None
    assert (span.start, span.end) == want
    assert span.words in text


def test_a_date_without_year_is_the_one_nearest_publication() -> None:
    span = dates.first_date("(12月28日(日曜日))", near=D(2026, 1, 5))
    assert span is not None and span.start == D(2025, 12, 28)


def test_a_range_without_year_and_no_publication_date_is_not_guessed() -> None:
    assert dates.first_range("12月7日から11日にかけて", near=None) is None


@pytest.mark.parametrize(
    ("line", "want"),
    [("【2024年7月22日更新】", D(2024, 7, 22)), ("【令和元年7月22日更新】", D(2019, 7, 22)), ("2024年7月22日", None)],
    ids=["seireki", "wareki", "not-a-note"],
)
def test_update_note(line: str, want: D | None) -> None:
    assert dates.update_note(line) == want
