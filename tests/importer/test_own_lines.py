"""Each imported bilateral cites its own lines: the lead named once, in another meeting's text, is not cited there."""

from __future__ import annotations

import re

import pytest

from bot.release.citation import SourceIndex
from tests.importer.helpers import fixture, run

FIXTURES = ["visit_gulf_reiwa.txt", "visit_lead_named_once.txt", "visit_katakana_posts.txt", "visit_two_places.txt"]


def _meetings(text: str) -> dict[int, set[int]]:
    """The lines of each headed meeting, from its (n) heading to the next heading or the foot of the page."""
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines, start=1) if re.match(r"^\((\d+)\)", line)]
    foot = next(i for i, line in enumerate(lines, start=1) if i > heads[-1] and line in ("担当", "関連資料"))
    return {k: set(range(h, nxt)) for k, (h, nxt) in enumerate(zip(heads, [*heads[1:], foot], strict=True), 1)}


@pytest.mark.parametrize("name", FIXTURES)
def test_a_bilateral_cites_its_own_meeting_and_no_other(name: str) -> None:
    result = run(fixture(name))
    assert result.release is not None, result.errors
    index = SourceIndex(result.release, result.source_text, label="source.txt")
    meetings = _meetings(result.source_text)
    assert len(meetings) == len(result.release.bilaterals)
    for b in result.release.bilaterals:
        cited = index.bilateral_full[b.id]
        others = set().union(*(lines for k, lines in meetings.items() if k != b.number))
        assert meetings[b.number] <= cited, (b.id, sorted(cited))
        assert not cited & others, f"{b.id} cites another meeting's lines {sorted(cited & others)}"


def test_the_lead_is_named_as_the_lead_paragraph_names_him() -> None:
    # (1) and (2) do not name the minister: he is there as the lead paragraph says (武藤経済産業大臣は、…会談を行い);
    # 「武藤大臣」 is only in (3)'s text.
    result = run(fixture("visit_lead_named_once.txt"))
    assert result.release is not None, result.errors
    got = [[p.ja for p in b.japan_participants] for b in result.release.bilaterals]
    assert got == [["武藤経済産業大臣"], ["武藤経済産業大臣"], ["武藤大臣"]]
