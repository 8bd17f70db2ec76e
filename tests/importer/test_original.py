"""Importing the original release text reproduces every Japanese field of the shipped, hand-curated release.yml."""

from __future__ import annotations

import pytest

from bot.release.loader import load_release
from bot.release.models import Release
from tests.importer.helpers import ORIGINAL, ROOT, run

CURATED = load_release(ROOT / "data" / "releases" / "meti-2025-12-10-g7-idt" / "release.yml")


@pytest.fixture(scope="module")
def imported() -> Release:
    result = run(ORIGINAL.read_text(encoding="utf-8"))
    assert result.errors == []
    assert result.release is not None
    return result.release


def test_release_validates_and_uses_every_line() -> None:
    result = run(ORIGINAL.read_text(encoding="utf-8"))
    assert result.release is not None
    assert result.report.problems == []
    assert result.report.unused == []


def test_title_and_dates(imported: Release) -> None:
    assert imported.title.ja == CURATED.title.ja
    assert imported.published == CURATED.published
    m, c = imported.meeting, CURATED.meeting
    assert (m.start, m.end, m.trip_start, m.trip_end) == (c.start, c.end, c.trip_start, c.trip_end)


def test_meeting(imported: Release) -> None:
    m, c = imported.meeting, CURATED.meeting
    assert m.name.ja == c.name.ja
    assert (m.city.ja, m.country.ja, m.presidency.ja) == (c.city.ja, c.country.ja, c.presidency.ja)
    assert [t.ja for t in m.topics] == [t.ja for t in c.topics]
    assert [t.ja for t in m.japan_said] == [t.ja for t in c.japan_said]
    assert m.said_by is not None and c.said_by is not None and m.said_by.ja == c.said_by.ja


def test_delegation(imported: Release) -> None:
    got = [(p.name.ja, p.title.ja) for p in imported.meeting.delegation]
    assert got == [(p.name.ja, p.title.ja) for p in CURATED.meeting.delegation]


def test_outcomes(imported: Release) -> None:
    assert [(o.title.ja, [p.ja for p in o.points]) for o in imported.outcomes] == [
        (o.title.ja, [p.ja for p in o.points]) for o in CURATED.outcomes
    ]
    assert imported.outcomes_intro is not None and CURATED.outcomes_intro is not None
    assert imported.outcomes_intro.ja == CURATED.outcomes_intro.ja


@pytest.mark.parametrize("i", range(8), ids=[b.id for b in CURATED.bilaterals])
def test_each_bilateral(imported: Release, i: int) -> None:
    got, want = imported.bilaterals[i], CURATED.bilaterals[i]
    assert got.number == want.number
    assert got.counterpart.name.ja == want.counterpart.name.ja
    assert got.counterpart.title.ja == want.counterpart.title.ja
    assert got.organisation.ja == want.organisation.ja
    assert got.code == want.code
    assert got.summary.ja == want.summary.ja
    assert [p.ja for p in got.japan_participants] == [p.ja for p in want.japan_participants]


def test_bilaterals_overview(imported: Release) -> None:
    assert len(imported.bilaterals) == len(CURATED.bilaterals) == 8
    assert imported.bilaterals_overview is not None and CURATED.bilaterals_overview is not None
    assert imported.bilaterals_overview.ja == CURATED.bilaterals_overview.ja


def test_desks(imported: Release) -> None:
    fields = ("topic", "bureau", "office", "lead")
    for got, want in zip(imported.desks, CURATED.desks, strict=True):
        assert [getattr(got, f).ja for f in fields] == [getattr(want, f).ja for f in fields]
        assert [s.ja for s in got.staff] == [s.ja for s in want.staff]
        assert (got.phone, got.extension, got.email_as_published) == (
            want.phone,
            want.extension,
            want.email_as_published,
        )


def test_documents(imported: Release) -> None:
    got = [(d.title.ja, d.language.ja, d.format, d.size_kb) for d in imported.documents]
    assert got == [(d.title.ja, d.language.ja, d.format, d.size_kb) for d in CURATED.documents]


def test_english_only_from_the_gazetteer(imported: Release) -> None:
    # Where the gazetteer has the English, it is the curated English; elsewhere the field is listed.
    assert imported.meeting.name.en == CURATED.meeting.name.en
    assert imported.bilaterals[0].counterpart.title.en == CURATED.bilaterals[0].counterpart.title.en
    assert imported.desks[0].bureau.en == CURATED.desks[0].bureau.en
    assert "bilaterals.0.counterpart.name" in imported.untranslated
    assert imported.bilaterals[0].counterpart.name.en == "ウィリアム・キミット"
    assert "meeting.name" not in imported.untranslated
