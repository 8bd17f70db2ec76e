"""The page's frame: breadcrumb or old header, title, section numbers in every style, the variants' fixtures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.importer import sections
from bot.importer.lines import Source
from bot.importer.writer import dump
from tests.importer.helpers import FIXTURES, ORIGINAL, fixture, japanese_values, run


@pytest.mark.parametrize(
    ("line", "style", "number", "title"),
    [
        ("1.G7産業・デジタル・技術大臣会合", "1.", 1, "G7産業・デジタル・技術大臣会合"),
        ("1. 二国間会談", "1.", 1, "二国間会談"),
        ("２．二国間会談", "1.", 2, "二国間会談"),
        (
            "(1)米国のキミット商務省国際貿易担当次官との意見交換",
            "(1)",
            1,
            "米国のキミット商務省国際貿易担当次官との意見交換",
        ),
        ("（３）議長声明", "(1)", 3, "議長声明"),
        ("①議長声明", "①", 1, "議長声明"),
        ("⑫ 共同声明", "①", 12, "共同声明"),
    ],
    ids=["digit-dot", "digit-dot-space", "fullwidth", "paren", "fullwidth-paren", "circled", "circled-space"],
)
def test_heading_styles(line: str, style: str, number: int, title: str) -> None:
    h = sections.heading(line, 1)
    assert h is not None
    assert (h.style, h.number, h.title) == (style, number, title)


def test_a_sentence_is_not_a_heading() -> None:
    assert sections.heading("1.今回の会合では議論を行いました。", 1) is None


@pytest.mark.parametrize(
    ("name", "title", "published", "header"),
    [
        ("headed_wareki.txt", "関経済産業大臣政務官がトルコ共和国を訪問しました", dt.date(2019, 7, 19), 5),
        (
            "paragraphs_heisei.txt",
            "世耕経済産業大臣がウクライナ及び欧州連合の要人と会談しました",
            dt.date(2018, 9, 25),
            4,
        ),
        ("listing_circled.txt", "岩田経済産業副大臣がAPEC貿易担当大臣会合に出席しました", dt.date(2023, 5, 22), 1),
    ],
    ids=["old-page-header", "breadcrumb", "one-header-line"],
)
def test_title_after_header_or_breadcrumb(name: str, title: str, published: dt.date, header: int) -> None:
    head = sections.read_head(Source.from_text(fixture(name)))
    assert (head.title, head.published, len(head.header_lines)) == (title, published, header)


def test_update_note_is_reported_and_publication_date_kept() -> None:
    result = run(fixture("headed_wareki.txt"))
    assert result.data is not None and result.data["published"] == dt.date(2019, 7, 19)
    assert ("update note", "line 8: updated 2019-07-22 (published stays the original date)") in result.report.findings


def test_overview_section_is_the_lead() -> None:
    result = run(fixture("headed_wareki.txt"))
    assert result.data is not None
    assert result.data["trip"]["start"] == dt.date(2019, 7, 14)
    assert result.data["trip"]["city"]["ja"] == "イスタンブール"
    assert result.report.unused == []


def _all_sources() -> list[Path]:
    return [ORIGINAL, *sorted(p for p in FIXTURES.iterdir() if p.suffix in (".txt", ".html"))]


def test_every_fixture_is_covered() -> None:
    # A fixture added in another form would silently escape the checks below.
    assert {p.suffix for p in FIXTURES.iterdir()} == {".txt", ".html"}
    assert len(_all_sources()) >= 8


@pytest.mark.parametrize("path", _all_sources(), ids=lambda p: p.name)
def test_every_japanese_value_is_in_the_source(path: Path) -> None:
    result = run(path.read_text(encoding="utf-8"))
    assert result.data is not None
    values = list(japanese_values(yaml.safe_load(dump(result.data))))
    assert len(values) > 5
    # The text written as source.txt (for a saved page, its main text): every value is a substring of it.
    # The publisher is the importer's own fact (it reads METI's releases), not a value read from the text.
    missing = [(p, v) for p, v in values if v not in result.source_text and p != "publisher"]
    assert missing == []
    if path.suffix == ".txt":
        assert result.source_text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", _all_sources(), ids=lambda p: p.name)
def test_untranslated_fields_keep_the_japanese(path: Path) -> None:
    result = run(path.read_text(encoding="utf-8"))
    assert result.data is not None
    untranslated = result.data["untranslated"]
    assert untranslated
    for dotted in untranslated:
        node = result.data
        for part in dotted.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert node["en"] == node["ja"], dotted


def test_breadcrumb_only_the_last_item_is_the_title() -> None:
    head = sections.read_head(Source.from_text("- ホーム\n- ニュースリリース\n- 大臣が会談しました\n2024年7月22日\n"))
    assert (head.title, head.title_line, head.header_lines) == ("大臣が会談しました", 3, [1, 2])


def test_a_line_no_reader_used_is_listed() -> None:
    text = fixture("paragraphs_heisei.txt").replace(
        "1. 二国間会談\n", "1. 二国間会談\n写真撮影の様子は別添のとおりです。\n"
    )
    result = run(text)
    assert result.report.unused == [(9, "写真撮影の様子は別添のとおりです。")]
    assert "  9: 写真撮影の様子は別添のとおりです。" in result.report.render()
