"""Release selectors (bot/library/select.py): each form, full-width, several words, ambiguity and no match."""

from __future__ import annotations

import pytest

from bot.library import Library
from bot.library.select import ambiguous, is_selector, matching, no_match, split_selectors
from bot.messages import msg
from bot.release.models import LANGS, Lang, Release
from tests.helpers import text_of
from tests.library_fixtures import ROME_ID, TOKYO_ID, library_of_three

SHIPPED = "meti-2025-12-10-g7-idt"


@pytest.fixture(scope="module")
def library(release: Release) -> Library:
    return library_of_three(release)


def ids(library: Library, *selectors: str) -> list[str]:
    return [e.id for e in matching(library, selectors)]


@pytest.mark.parametrize(
    ("text", "rest", "selectors"),
    [
        ("summary @2025", "summary", ("2025",)),
        ("@2025 summary en", "summary en", ("2025",)),
        ("summary ＠２０２４", "summary", ("2024",)),
        ("bilateral france @rome @industry", "bilateral france", ("rome", "industry")),
        ("bilateral @ france", "bilateral @ france", ()),
        ("contact <@U123|ann>", "contact <@U123|ann>", ()),
    ],
    ids=["after", "before", "full-width", "two-words", "bare-at", "mention"],
)
def test_split_selectors(text: str, rest: str, selectors: tuple[str, ...]) -> None:
    assert split_selectors(text) == (rest, selectors)


def test_is_selector_needs_something_after_the_mark() -> None:
    assert is_selector("@x") and is_selector("＠x")
    assert not is_selector("@") and not is_selector("x@y")


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        ((SHIPPED,), [SHIPPED]),
        ((ROME_ID.upper(),), [ROME_ID]),
        (("2025-12-10",), [SHIPPED]),
        (("2025/12/10",), [SHIPPED]),
        (("2025-12-08",), [SHIPPED, ROME_ID, TOKYO_ID]),  # the meeting's own day (all three copy its dates)
        (("2024-10",), [ROME_ID]),
        (("2024-9",), []),
        (("2023",), [TOKYO_ID]),
        (("2025年12月",), [SHIPPED]),
        (("2024年",), [ROME_ID]),
        (("2023年4月30日",), [TOKYO_ID]),
        (("rome",), [ROME_ID]),
        (("Takasaki",), [TOKYO_ID]),
        (("高崎",), [TOKYO_ID]),
        (("ローマ",), [ROME_ID]),
        (("ﾛｰﾏ",), [ROME_ID]),
        (("g7",), [SHIPPED, ROME_ID, TOKYO_ID]),
        (("ministers", "rome"), [ROME_ID]),
        (("rome", "2023"), []),
        (("paris",), []),
        (("2025-02-30",), []),
    ],
    ids=lambda v: "+".join(v) if isinstance(v, tuple) else None,
)
def test_matching(library: Library, selectors: tuple[str, ...], expected: list[str]) -> None:
    assert ids(library, *selectors) == expected


def test_matching_is_newest_first(library: Library) -> None:
    found = matching(library, ("g7",))
    assert [e.release.published for e in found] == sorted((e.release.published for e in found), reverse=True)


@pytest.mark.parametrize("lang", LANGS)
def test_no_match_lists_the_newest_releases_and_points_at_releases(library: Library, lang: Lang) -> None:
    reply = no_match(library, ("paris",), lang=lang, command="/g7")
    text = text_of(reply)
    assert "@paris" in text
    assert msg("select.hint", lang, command="/g7") in text
    for entry in library:
        assert f"`{entry.id}`" in text
    # newest first
    assert text.index(SHIPPED) < text.index(ROME_ID) < text.index(TOKYO_ID)


@pytest.mark.parametrize("lang", LANGS)
def test_ambiguous_lists_each_with_its_id(library: Library, lang: Lang) -> None:
    found = matching(library, ("g7",))
    text = text_of(ambiguous(found, ("g7",), lang=lang, command="/g7"))
    assert msg("select.several", lang, text="@g7", count=3) in text
    for entry in found:
        assert f"`{entry.id}`" in text
        assert entry.release.title(lang) in text
