"""Bilateral meetings in every shape: headed subsections, paragraphs, one listing sentence, two counterparts."""

from __future__ import annotations

from typing import Any

from tests.importer.helpers import fixture, run


def _bilaterals(name: str) -> list[dict[str, Any]]:
    result = run(fixture(name))
    assert result.data is not None
    return list(result.data["bilaterals"])


def _who(b: dict[str, Any]) -> tuple[int, str, str, str]:
    return (b["number"], b["organisation"]["ja"], b["counterpart"]["name"]["ja"], b["counterpart"]["title"]["ja"])


def test_headed_subsections_with_a_date_a_space_and_name_first() -> None:
    got = _bilaterals("headed_wareki.txt")
    assert [_who(b) for b in got] == [
        (1, "トルコ共和国", "ボラット", "貿易大臣"),
        (2, "中国", "王文濤", "商務部長"),
        (3, "カナダ", "ジョリー", "産業大臣"),
        (3, "カナダ", "ソロモン", "AI・デジタル革新大臣"),
    ]
    assert got[0]["summary"]["ja"] == "両国間の貿易投資の拡大について意見交換を行いました。"
    assert got[1]["japan_participants"] == [{"ja": "関大臣政務官", "en": "関大臣政務官"}]


def test_heading_date_is_read_and_reported() -> None:
    # The model has no field for a bilateral's own date: the report carries it.
    result = run(fixture("headed_wareki.txt"))
    assert "(1) トルコ共和国 ボラット 貿易大臣, 2019-07-16 [heading, line 12]" in [w for _, w in result.report.findings]


def test_one_meeting_two_counterparts_share_the_number_and_text() -> None:
    got = [b for b in _bilaterals("headed_wareki.txt") if b["number"] == 3]
    assert len(got) == 2
    assert got[0]["summary"] == got[1]["summary"]
    assert got[0]["id"] != got[1]["id"]
    assert got[0]["code"] == got[1]["code"] == "CA"


def test_unknown_country_is_left_for_a_person() -> None:
    result = run(fixture("headed_wareki.txt").replace("(1)トルコ共和国 ボラット", "(1)モンゴル国 ボラット"))
    assert result.data is not None
    mongolia = result.data["bilaterals"][0]
    assert mongolia["code"] == "XX"
    assert "bilaterals.0.organisation" in result.data["untranslated"]
    assert any("モンゴル国 is not in data/gazetteer.yml" in t for t in result.report.todos)


def test_a_country_in_the_gazetteer_gets_its_code_and_english() -> None:
    turkey = _bilaterals("headed_wareki.txt")[0]
    assert (turkey["code"], turkey["organisation"]["en"]) == ("TR", "Republic of Türkiye")
    china = _bilaterals("headed_wareki.txt")[1]
    assert (china["code"], china["organisation"]["en"]) == ("CN", "China")


def test_paragraphs() -> None:
    got = _bilaterals("paragraphs_heisei.txt")
    assert [_who(b) for b in got] == [
        (1, "ウクライナ", "クビーウ", "第一副首相兼経済発展・貿易大臣"),
        (2, "欧州連合(EU)", "マルムストローム", "欧州委員(通商担当)"),
    ]
    assert got[0]["summary"]["ja"] == "両国間の投資促進について意見交換を行いました。"
    assert got[1]["code"] == "EU"


def test_one_sentence_listing_every_counterpart() -> None:
    got = _bilaterals("listing_circled.txt")
    assert [_who(b) for b in got] == [
        (1, "米国", "キャサリン・タイ", "通商代表"),
        (2, "カナダ", "メアリー・ン", "輸出促進・国際貿易・経済開発大臣"),
        (3, "オーストラリア", "ドン・ファレル", "貿易・観光大臣"),
        (3, "オーストラリア", "ティム・エアーズ", "貿易担当次官補"),
    ]
    assert {b["summary"]["ja"] for b in got} == {"二国間の経済関係について意見交換を行いました。"}
    assert got[0]["japan_participants"][0]["ja"] == "岩田副大臣"


def test_listing_fills_in_the_headings_short_names() -> None:
    text = (
        "タイトル\n2025年1月10日\n1.二国間会談\n"
        "今回の出張中には、ドイツ連邦共和国のシュテファン・ロウエンホフ経済・エネルギー省政務次官と会談を実施し、"
        "意見交換を行いました。\n(1)ドイツのロウエンホフ経済・エネルギー省政務次官との意見交換\n議論を行いました。\n"
    )
    result = run(text)
    assert result.data is not None
    (b,) = result.data["bilaterals"]
    assert _who(b) == (1, "ドイツ連邦共和国", "シュテファン・ロウエンホフ", "経済・エネルギー省政務次官")
    assert b["organisation"]["en"] == "Federal Republic of Germany"
