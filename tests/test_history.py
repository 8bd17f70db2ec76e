"""Meetings with one country across the library (bot/library/history.py): "also met", the history form, bounds."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.commands import answer, bilateral
from bot.library import Library
from bot.library import history as history_module
from bot.library.history import history
from bot.messages import format_date, msg
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from tests.conftest import NOW
from tests.helpers import text_of
from tests.library_fixtures import ROME_ID, TOKYO_ID, library_of_three, many_releases

SHIPPED = "meti-2025-12-10-g7-idt"


@pytest.fixture(scope="module")
def three(release: Release) -> Library:
    return library_of_three(release)


@pytest.fixture(scope="module")
def twelve(release: Release) -> Library:
    return Library.of(many_releases(release, 12))


def ask(text: str, library: Library, lang: Lang = "en") -> Reply:
    return answer(text, library=library, lang=lang, now=NOW)


def also_met_lines(reply: Reply) -> list[str]:
    for section in reply.sections:
        lines = section.text.splitlines()
        if lines and lines[0] in {f"*{msg('history.also_met', lang)}*" for lang in LANGS}:
            return lines[1:]
    raise AssertionError(f"no also-met section in {text_of(reply)}")


@pytest.mark.parametrize("lang", LANGS)
def test_also_met_lists_the_other_releases_meetings_newest_first(three: Library, lang: Lang) -> None:
    reply = ask("bilateral france", three, lang)
    lines = also_met_lines(reply)
    rome, takasaki = three.get(ROME_ID), three.get(TOKYO_ID)
    assert rome is not None and takasaki is not None
    assert len(lines) == 2
    assert format_date(rome.release.published, lang) in lines[0] and rome.release.title(lang) in lines[0]
    assert ("Dupont" if lang == "en" else "デュポン") in lines[0]
    assert format_date(takasaki.release.published, lang) in lines[1]
    assert ("Martin" if lang == "en" else "マルタン") in lines[1]
    # The shipped meeting itself is the one shown, not an "also met" line.
    assert not any(SHIPPED in line or "Hénanff" in line for line in lines)


def test_also_met_is_cited_in_each_release(three: Library) -> None:
    reply = ask("bilateral france", three)
    assert reply.citation is not None
    elements = reply.citation.elements
    assert len(elements) == 3
    for element, release_id in zip(elements, [SHIPPED, ROME_ID, TOKYO_ID], strict=True):
        entry = three.get(release_id)
        assert entry is not None
        assert entry.release.title("en") in element
        assert "line" in element  # each cites the lines its meeting comes from


def test_an_older_release_selected_lists_the_newer_meetings_too(three: Library) -> None:
    lines = also_met_lines(ask("bilateral france @rome", three))
    assert [("Hénanff" in line, "Martin" in line) for line in lines] == [(True, False), (False, True)]


def test_a_meeting_met_only_once_has_no_also_met(release: Release) -> None:
    only = Library.of([release])
    reply = ask("bilateral france", only)
    assert msg("history.also_met", "en") not in text_of(reply)
    assert reply.citation is not None and len(reply.citation.elements) == 2  # release + lines, as before


@pytest.mark.parametrize("lang", LANGS)
def test_also_met_is_bounded_and_says_how_to_see_more(twelve: Library, lang: Lang) -> None:
    reply = ask("bilateral france", twelve, lang)
    lines = also_met_lines(reply)
    assert len(lines) == bilateral.ALSO_MET + 1
    assert lines[-1] == msg("history.more", lang, count=11 - bilateral.ALSO_MET, command="/g7", who="FR")
    # newest first: copy 1 is a month before the shipped release, copy 5 five months
    assert [f"Envoy {n}" in line or f"特使{n}" in line for n, line in enumerate(lines[:-1], start=1)] == [True] * 5


@pytest.mark.parametrize(("text", "lang"), [("bilateral france history", "en"), ("会談 フランス 履歴", "ja")])
def test_history_lists_every_meeting_newest_first_each_with_its_citation(three: Library, text: str, lang: Lang) -> None:
    reply = ask(text, three, lang)
    assert reply.title == msg(
        "history.title", lang, who=three.newest.release.bilaterals[-1].organisation(lang), count=3
    )
    lines = [line for s in reply.sections for line in s.text.splitlines() if line.startswith("• ")]
    cites = [line for s in reply.sections for line in s.text.splitlines() if line.startswith("    _")]
    assert len(lines) == len(cites) == 3
    for line, cite, release_id in zip(lines, cites, [SHIPPED, ROME_ID, TOKYO_ID], strict=True):
        entry = three.get(release_id)
        assert entry is not None
        assert format_date(entry.release.published, lang) in line
        assert entry.release.title(lang) in cite
    assert reply.citation is not None and len(reply.citation.elements) == 3


def test_history_pages(twelve: Library) -> None:
    first = ask("bilateral france history", twelve)
    lines = [line for s in first.sections for line in s.text.splitlines() if line.startswith("• ")]
    assert len(lines) == bilateral.PER_PAGE
    assert msg("history.shown", "en", shown=10, command="/g7", who="FR", next=2) in first.footer
    second = ask("bilateral france history page 2", twelve)
    rest = [line for s in second.sections for line in s.text.splitlines() if line.startswith("• ")]
    assert len(rest) == 2 and "Envoy 10" in rest[0] and "Envoy 11" in rest[1]
    assert not second.footer


def test_history_within_selected_releases(three: Library) -> None:
    reply = ask("bilateral france history @2024", three)
    lines = [line for s in reply.sections for line in s.text.splitlines() if line.startswith("• ")]
    assert len(lines) == 1 and "Dupont" in lines[0]


def test_history_of_nobody_says_so(three: Library) -> None:
    reply = ask("bilateral narnia history", three)
    assert msg("history.none", "en", text="narnia") in text_of(reply)


def test_who_is_not_in_the_selected_release_shows_the_other_releases(release: Release) -> None:
    without = release.model_copy(
        update={"id": "no-france", "bilaterals": [b for b in release.bilaterals if b.code != "FR"]}
    )
    without = without.model_copy(update={"published": dt.date(2026, 1, 1)})
    library = Library.of([release, without])
    reply = ask("bilateral france", library)
    text = text_of(reply)
    assert msg("history.not_here", "en", text="france", release=without.title("en")) in text
    assert "Hénanff" in text
    assert reply.citation is not None and release.title("en") in reply.citation.elements[0]


def test_the_index_is_built_once_per_snapshot(release: Release, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Library] = []
    original = history_module._build

    def counting(library: Library) -> history_module.History:
        built.append(library)
        return original(library)

    monkeypatch.setattr(history_module, "_build", counting)
    library = library_of_three(release)
    for text in ("bilateral france", "bilateral germany", "bilateral france history", "会談 カナダ"):
        ask(text, library)
    assert built == [library]
    assert history(library) is history(library)
    other = library_of_three(release)
    ask("bilateral france", other)
    assert built == [library, other], "a new snapshot gets its own index"


def test_codes_by_name_read_the_gazetteer(three: Library) -> None:
    h = history(three)
    assert h.codes("France") == h.codes("フランス") == h.codes("FR") == frozenset({"fr"})
    assert h.codes("french republic") == frozenset({"fr"})
    assert h.codes("narnia") == frozenset()
