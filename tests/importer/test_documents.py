"""A related document that states no language has none: not its format, not its title."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.blocks import build_message, render_message
from bot.commands import answer
from bot.library import Library
from bot.release.models import LANGS, Lang
from tests.importer.helpers import fixture, run

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
FIXTURE = "documents_unstated_language.txt"


def test_a_document_without_a_stated_language_has_no_language() -> None:
    result = run(fixture(FIXTURE))
    assert result.release is not None, result.errors
    assert result.data is not None
    docs = result.release.documents
    assert [(d.title.ja, d.language.ja if d.language else None, d.format, d.size_kb) for d in docs] == [
        ("日インドネシア共同声明", "英文", "PDF", 312),
        ("会談の概要", None, "PDF", 1229),
        ("会談の写真", None, None, None),
    ]
    assert [d.get("language") for d in result.data["documents"]][1:] == [None, None]
    assert not [p for p in result.release.untranslated if p.endswith(".language")]
    # Nothing to read is not read wrongly: the report says which documents state no language.
    found = [w for s, w in result.report.findings if s == "documents"]
    assert any("会談の概要" in w and "no language stated" in w for w in found), found


@pytest.mark.parametrize("lang", LANGS)
def test_docs_shows_no_language_for_it(lang: Lang) -> None:
    result = run(fixture(FIXTURE))
    assert result.release is not None, result.errors
    reply = answer("docs", library=Library.of([result.release]), lang=lang, now=NOW)
    lines = render_message(build_message(reply)).splitlines()
    summary = next(line for line in lines if "会談の概要" in line)
    assert "PDF" in summary and summary.count("PDF") == 1, summary
    assert "not yet translated), PDF" not in summary
    photos = next(line for line in lines if "会談の写真" in line)
    assert photos.count("会談の写真") == 1, photos
