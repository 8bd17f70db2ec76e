"""The fixtures of every format: a meeting without bilaterals, a saved HTML page, truncated and damaged texts."""

from __future__ import annotations

import datetime as dt

from bot.importer.lines import html_to_text
from bot.release.models import Release
from tests.importer.helpers import fixture, run

D = dt.date


def _release(name: str) -> Release:
    result = run(fixture(name))
    assert result.release is not None, result.errors
    assert result.report.problems == []
    assert result.report.unused == []
    return result.release


def test_a_meeting_without_bilaterals() -> None:
    r = _release("meeting_only_gannen.txt")
    assert r.published == D(2019, 6, 10)  # 令和元年
    assert r.bilaterals == [] and r.trip is None
    m = r.meeting
    assert m is not None
    assert (m.start, m.end, m.trip_start, m.trip_end) == (D(2019, 6, 8), D(2019, 6, 9), D(2019, 6, 8), D(2019, 6, 9))
    # 「今年のG20議長国である日本のつくば市において」: the place, not the words before it.
    assert (m.city.ja, m.country.ja, m.country.en, m.presidency.ja) == ("つくば市", "日本", "Japan", "日本")
    assert [(p.name.ja, p.title.ja) for p in m.delegation] == [("世耕", "経済産業大臣"), ("石田", "総務大臣")]
    assert m.delegation[0].title.en == "Minister of Economy, Trade and Industry"
    assert [t.ja for t in m.topics] == ["貿易と投資", "デジタル経済"]
    assert [o.title.ja for o in r.outcomes] == ["閣僚声明"] and len(r.outcomes[0].points) == 2
    assert r.outcomes[0].title.en == "Ministerial Statement"


def test_unnumbered_overview_heading_and_paren_sections() -> None:
    result = run(fixture("meeting_only_gannen.txt"))
    found = dict(result.report.findings)
    assert found["update note"] == "line 5: updated 2019-06-12 (published stays the original date)"
    assert found["bilaterals"] == "none: the release has no bilateral section"


def test_a_desk_with_only_a_direct_line() -> None:
    (desk,) = _release("meeting_only_gannen.txt").desks
    assert (desk.phone, desk.extension, desk.direct, desk.fax) == (None, None, "03-3501-0535", "03-3501-5904")
    assert (desk.bureau.ja, desk.office.ja, desk.lead.ja) == ("通商政策局", "通商機構部 参事官", "高田")
    assert desk.email == "g20-trade@meti.go.jp"


def test_documents_with_language_format_and_size() -> None:
    docs = _release("meeting_only_gannen.txt").documents
    assert [(d.title.ja, d.language.ja, d.format, d.size_kb) for d in docs] == [
        ("G20貿易・デジタル経済大臣声明", "原文", "PDF", 410),
        ("G20貿易・デジタル経済大臣声明", "仮訳", "PDF", 385),
    ]


def test_saved_page_keeps_the_main_text_only() -> None:
    text = html_to_text(fixture("saved_page.html"))
    for frame in ("本文へ", "サイトマップ", "政策一覧", "dataLayer", "text-align", "法人番号", "霞が関", "大臣の動き"):
        assert frame not in text
    assert "<" not in text and "(METI/経済産業省)" not in text
    lines = text.splitlines()
    assert lines[:2] == ["武藤経済産業大臣がベトナムを訪問しました", "2024年5月20日"]
    # <br> inside a paragraph is a line break, as in text copied from the page.
    assert "03-3501-1952(直通)" in lines


def test_saved_page_is_a_visit_read_whole() -> None:
    r = _release("saved_page.html")
    assert r.meeting is None and r.outcomes == []
    assert r.trip is not None
    # 「5月13日(月)から18日(土)にかけて」: no year, short weekdays; the year of the publication.
    assert (r.trip.start, r.trip.end) == (D(2024, 5, 13), D(2024, 5, 18))
    assert r.trip.city is not None and r.trip.country is not None
    assert (r.trip.city.ja, r.trip.country.ja, r.trip.country.en) == ("ハノイ", "ベトナム", "Viet Nam")
    assert [(p.name.ja, p.title.ja) for p in r.trip.delegation] == [("武藤", "経済産業大臣")]
    # One sentence listing every counterpart.
    assert [(b.number, b.code, b.counterpart.name.ja, b.counterpart.title.ja) for b in r.bilaterals] == [
        (1, "VN", "グエン・ホン・ジエン", "商工大臣"),
        (2, "ID", "アイルランガ・ハルタルト", "経済担当調整大臣"),
    ]
    first, second = r.desks
    assert (first.phone, first.extension, first.direct, first.fax) == (
        "03-3501-1511",
        "3261",
        "03-3501-1952",
        "03-3501-5898",
    )
    assert [s.ja for s in first.staff] == ["森", "石川"]
    assert (second.bureau.en, second.phone, second.direct) == (
        "Agency for Natural Resources and Energy",
        None,
        "03-3501-2011",
    )
    assert [(d.title.ja, d.format, d.size_kb) for d in r.documents] == [
        ("日ベトナム共同声明", "PDF", 245),
        ("会談資料", "PDF", 1536),
    ]


def test_truncated_text_is_reported_not_completed() -> None:
    result = run(fixture("truncated_paragraphs.txt"))
    assert result.data is not None and result.release is None
    problems = [w for _, w in result.report.problems]
    assert "line 9: (2) ends mid-sentence (a truncated text?): 「サプライチェーン強靱化に向けた協」" in problems
    assert "no contact block (担当, 本件の担当) was found" in problems
    # What was read is written as it stands, nothing added to it.
    assert result.data["bilaterals"][1]["summary"]["ja"] == "サプライチェーン強靱化に向けた協"
    assert result.data["desks"] == []


def test_damaged_text_is_reported_line_by_line() -> None:
    result = run(fixture("damaged_mixed.txt"))
    assert result.data is not None and result.release is None
    problems = [(s, w) for s, w in result.report.problems]
    assert [w.split(":")[0] for s, w in problems if s == "text"] == ["line 3", "line 6", "line 12", "line 14"]
    assert ("bilaterals", "line 8: bilateral 「との会談」: could not read its counterpart") in problems
    assert ("contacts", "line 15: not understood in the contact block: 「メール:europe★」") in problems
    assert any(s == "visit" for s, _ in problems)  # the broken dates are not guessed into a trip
    assert "trip" not in result.data
    assert [n for n, _ in result.report.unused] == [6, 8, 13, 15]
    # The meeting that could be read is kept, with its date from its heading.
    (b,) = result.data["bilaterals"]
    assert (b["code"], b["counterpart"]["name"]["ja"]) == ("DE", "ハーベック")
