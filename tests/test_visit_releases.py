"""A visit (a release with no meeting) is selected by its own dates and title, and `/g7 releases` cites each release."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.blocks import build_message, render_message
from bot.commands import answer
from bot.library import Library
from bot.library.select import matching
from bot.messages import format_date, msg
from bot.release.citation import register_source
from bot.release.loader import COMMITMENTS_FILE
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from bot.schedule.models import Source, load_commitments
from bot.text import escape
from tests.importer.helpers import fixture, run

NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
SHIPPED = "meti-2025-12-10-g7-idt"
VISIT_ID = "meti-2025-01-17-gulf"
VISIT_URL = "https://www.meti.go.jp/press/2024/01/20250117001/20250117001.html"


@pytest.fixture(scope="module")
def visit(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The visit fixture imported (published 2025-01-17, in Riyadh 12-15 January), its text registered for citations."""
    result = run(fixture("visit_gulf_reiwa.txt"))
    assert result.release is not None, result.errors
    release = result.release.model_copy(update={"id": VISIT_ID, "url": VISIT_URL})
    folder: Path = tmp_path_factory.mktemp("data") / "releases" / VISIT_ID
    folder.mkdir(parents=True)
    (folder / release.source_file).write_text(result.source_text, encoding="utf-8")
    register_source(release, folder)
    return release


@pytest.fixture(scope="module")
def library(release: Release, visit: Release) -> Library:
    return Library.of([release, visit])


def test_the_visit_has_no_meeting(visit: Release) -> None:
    assert visit.meeting is None and visit.trip is not None
    assert visit.dates == (dt.date(2025, 1, 12), dt.date(2025, 1, 15))


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("2025-01-17", [VISIT_ID], id="published-day"),
        pytest.param("2025-01-13", [VISIT_ID], id="a-day-of-the-visit"),
        pytest.param("2025-01-12", [VISIT_ID], id="first-day"),
        pytest.param("2025-01-16", [], id="after-the-visit-before-publication"),
        pytest.param("2025-01", [VISIT_ID], id="month"),
        pytest.param("2025年1月", [VISIT_ID], id="month-ja"),
        pytest.param("2025", [SHIPPED, VISIT_ID], id="year"),
        pytest.param("サウジアラビア", [VISIT_ID], id="title-word-ja"),
        pytest.param("リヤド", [VISIT_ID], id="place-ja"),
        pytest.param("saudi", [VISIT_ID], id="place-en"),
        pytest.param(VISIT_ID, [VISIT_ID], id="id"),
        pytest.param("montreal", [SHIPPED], id="the-meeting-still"),
    ],
)
def test_a_visit_is_selected_by_its_own_dates_and_title(library: Library, selector: str, expected: list[str]) -> None:
    assert [e.id for e in matching(library, (selector,))] == expected


@pytest.mark.parametrize("lang", LANGS)
def test_a_selected_visit_answers_summary(library: Library, lang: Lang) -> None:
    reply = answer("summary @2025-01", library=library, lang=lang, now=NOW)
    assert reply.title == msg("summary.visit_title", lang)
    assert reply.citation is not None and "meti-2025-01-17-gulf" in reply.citation.source


def _releases(library: Library, text: str, lang: Lang) -> Reply:
    return answer(text, library=library, lang=lang, now=NOW)


@pytest.mark.parametrize("lang", LANGS)
def test_releases_lists_the_visit_and_cites_every_release(library: Library, visit: Release, lang: Lang) -> None:
    reply = _releases(library, "releases", lang)
    listing = reply.sections[0].text
    assert f"`{VISIT_ID}`" in listing and f"`{SHIPPED}`" in listing
    assert listing.index(SHIPPED) < listing.index(VISIT_ID), "newest first"
    assert reply.citation is not None
    elements = reply.citation.elements
    assert len(elements) == 2, elements
    shipped, gulf = elements
    # Each release's element: its date, its title, the lines heading its text; the visit's links its page.
    assert format_date(dt.date(2025, 12, 10), lang) in shipped
    assert "data/releases/meti-2025-12-10-g7-idt/source.txt" in shipped
    assert format_date(visit.published, lang) in gulf
    assert visit.title(lang) in gulf
    assert f"<{VISIT_URL}|" in gulf
    assert f"data/releases/{VISIT_ID}/source.txt" in gulf
    # Lines 6 and 7 of the fixture: the title as the page heads it (not the breadcrumb's, line 5) and the date.
    assert ("6〜7行目" if lang == "ja" else "lines 6–7") in gulf
    build_message(reply)  # within Slack's limits


@pytest.mark.parametrize("lang", LANGS)
def test_releases_selected_cites_only_those_listed(library: Library, visit: Release, lang: Lang) -> None:
    reply = _releases(library, "releases @2025-01", lang)
    assert reply.citation is not None
    assert reply.citation.source == f"data/releases/{VISIT_ID}/source.txt"
    assert reply.citation.lines == [6, 7]
    shown = render_message(build_message(reply))
    assert SHIPPED not in shown
    if lang == "en":
        assert msg("untranslated", "en", text=visit.title.ja) in shown, "the title is still to be translated"


def test_the_shipped_release_heading_is_cited(release: Release) -> None:
    reply = _releases(Library.of([release]), "releases", "en")
    assert reply.citation is not None
    assert reply.citation.lines == [6, 7]  # 「井野経済産業副大臣が…参加しました」 and 「2025年12月10日」


# --- hints and titles from the selected release's own data -------------------------------------------------


def _hinted(reply: Reply) -> list[str]:
    """The commands the contact hint suggests, as typed (without `/g7 `)."""
    return [c.removeprefix("/g7 ") for c in re.findall(r"`([^`]+)`", "\n".join(reply.footer))]


@pytest.mark.parametrize("lang", LANGS)
def test_contact_hint_uses_the_selected_release_own_desks(library: Library, visit: Release, lang: Lang) -> None:
    hinted = _hinted(answer("contact @2025-01", library=library, lang=lang, now=NOW))
    assert len(hinted) == 2, hinted
    shipped = {w for d in library.get(SHIPPED).release.desks for w in d.keywords}  # type: ignore[union-attr]
    for desk, text in zip(visit.desks, hinted, strict=True):
        word = text.removeprefix("contact ").removesuffix(f" @{VISIT_ID}")
        assert word in desk.keywords and word not in shipped, text
        # What the hint says to type answers that desk of the visit, alone.
        reply = answer(text, library=library, lang=lang, now=NOW)
        assert [s.text for s in reply.sections] == [f"*{desk.topic(lang)}*"], text
        assert reply.citation is not None and VISIT_ID in reply.citation.source


@pytest.mark.parametrize("lang", LANGS)
def test_contact_hint_without_a_selector_names_the_default_release_desks(library: Library, lang: Lang) -> None:
    hinted = _hinted(answer("contact", library=library, lang=lang, now=NOW))
    assert len(hinted) == 2 and not any("@" in h for h in hinted), hinted
    for desk, text in zip(library.default.release.desks, hinted, strict=True):
        reply = answer(text, library=library, lang=lang, now=NOW)
        assert [s.text for s in reply.sections] == [f"*{desk.topic(lang)}*"], text


@pytest.mark.parametrize("lang", LANGS)
def test_followups_of_a_visit_are_titled_by_the_visit(release: Release, visit: Release, lang: Lang) -> None:
    shipped = load_commitments(COMMITMENTS_FILE, release=release).commitments[0]
    own = shipped.model_copy(
        update={
            "id": "gulf-minerals",
            "release_id": VISIT_ID,
            "owner_desk": visit.desks[1].id,
            "source": Source(kind="bilateral", ref=visit.bilaterals[0].id),
        }
    )
    library = Library.of([release, visit], commitments=[own])
    reply = answer("followups @2025-01", library=library, lang=lang, now=NOW)
    assert reply.title == msg("followups.title_of", lang, name=escape(visit.title(lang)), count=1)
    assert "G7" not in reply.title
    assert f"`data/releases/{VISIT_ID}/commitments.yml`" in "\n".join(reply.footer)
