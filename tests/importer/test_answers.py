"""Every command answers for an imported release of any shape (a visit, a meeting without bilaterals): no traceback."""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import cache
from pathlib import Path

import pytest

from bot.blocks import build_message, render_message
from bot.commands import answer
from bot.library import Library
from bot.messages import msg
from bot.release.citation import register_source
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from bot.schedule.models import Commitment
from tests.importer.helpers import fixture, run

NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
# Imported releases that validate: three visits (headed, paragraphs, a saved page) and a meeting without bilaterals.
IMPORTED = ("headed_wareki.txt", "paragraphs_heisei.txt", "saved_page.html", "meeting_only_gannen.txt")
COMMANDS = (
    "summary",
    "bilateral",
    "bilateral canada",
    "bilateral 中国",
    "bilateral nobody",
    "contact",
    "contact 欧州課",
    "outcomes",
    "docs",
    "followups",
    "releases",
    "search 会談",
    "search エネルギー",
    "help",
)


@cache
def imported(name: str) -> Release:
    """The release imported from fixture `name`, its original text registered for citations."""
    result = run(fixture(name))
    assert result.release is not None, result.errors
    folder = Path(tempfile.mkdtemp(prefix="g7bot-import-"))
    (folder / result.release.source_file).write_text(result.source_text, encoding="utf-8")
    register_source(result.release, folder)
    return result.release


def _followup(release: Release) -> Commitment:
    """One follow-up of the release, about its first meeting (or its first outcome), owned by its first desk."""
    kind, ref = ("bilateral", release.bilaterals[0].id) if release.bilaterals else ("outcome", release.outcomes[0].id)
    text = {"ja": "報告書を作成する。", "en": "Write the report."}
    return Commitment.model_validate(
        {
            "id": f"{release.id}-report",
            "title": text,
            "detail": text,
            "source": {"kind": kind, "ref": ref},
            "owner_desk": release.desks[0].id,
            "due": NOW.date() + dt.timedelta(days=3),
            "due_is_assumption": False,
            "release_id": release.id,
        }
    )


def library(name: str) -> Library:
    release = imported(name)
    return Library.of([release], commitments=[_followup(release)])


def ask(name: str, text: str, lang: Lang) -> Reply:
    return answer(text, library=library(name), lang=lang, now=NOW)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", COMMANDS)
@pytest.mark.parametrize("name", IMPORTED)
def test_every_command_answers(name: str, text: str, lang: Lang) -> None:
    reply = ask(name, text, lang)
    message = build_message(reply)  # Slack's block limits are checked here
    shown = render_message(message)
    assert msg("error.bug", lang, ref="x").split("(")[0] not in shown
    assert shown.strip()


@pytest.mark.parametrize("lang", LANGS)
def test_summary_of_a_visit(lang: Lang) -> None:
    reply = ask("headed_wareki.txt", "summary", lang)
    assert reply.title == msg("summary.visit_title", lang)
    shown = render_message(build_message(reply))
    when = "2019年7月14日(日)〜18日(木)" if lang == "ja" else "14–18 July 2019"
    assert when in shown
    assert ("イスタンブール" if lang == "ja" else "Istanbul, Republic of Türkiye") in shown
    assert "関経済産業大臣政務官" in shown  # the delegation (untranslated: in Japanese in both languages)
    for who in ("ボラット", "王文濤", "ジョリー", "ソロモン"):
        assert who in shown
    assert reply.citation is not None
    # The visit's own line (its lead paragraph, line 10) and each bilateral's heading are cited.
    cited = reply.citation.elements[-1]
    assert ("の10、12、14、16行目" if lang == "ja" else "lines 10, 12, 14, 16") in cited, cited


def test_summary_of_a_visit_the_release_gives_no_place_for() -> None:
    release = imported("headed_wareki.txt")
    assert release.trip is not None
    bare = release.model_copy(update={"trip": release.trip.model_copy(update={"city": None, "country": None})})
    reply = answer("summary", library=Library.of([bare]), lang="en", now=NOW)
    assert msg("summary.no_place", "en") in render_message(build_message(reply))


@pytest.mark.parametrize("lang", LANGS)
def test_outcomes_of_a_visit_say_there_are_none(lang: Lang) -> None:
    reply = ask("saved_page.html", "outcomes", lang)
    assert msg("outcomes.none", lang) in reply.sections[0].text
    assert reply.citation is not None


@pytest.mark.parametrize("lang", LANGS)
def test_a_meeting_without_bilaterals(lang: Lang) -> None:
    summary = render_message(build_message(ask("meeting_only_gannen.txt", "summary", lang)))
    assert "つくば市" in summary
    assert "0" in summary.split(msg("summary.outcomes", lang))[1]
    listing = ask("meeting_only_gannen.txt", "bilateral", lang)
    assert listing.title == msg("bilateral.list_title", lang, count=0)


@pytest.mark.parametrize("lang", LANGS)
def test_a_desk_with_only_a_direct_line(lang: Lang) -> None:
    shown = render_message(build_message(ask("meeting_only_gannen.txt", "contact", lang)))
    assert f"03-3501-0535 ({msg('contact.direct', lang)})" in shown
    assert f"{msg('contact.fax', lang)} 03-3501-5904" in shown
    assert msg("contact.extension", lang) not in shown
