"""A katakana post right after a katakana name (アブドルアジーズ・エネルギー大臣): split at the post's first word."""

from __future__ import annotations

import pytest

from bot.importer.people import counterpart
from bot.release.gazetteer import shipped_gazetteer
from tests.importer.helpers import fixture, run


def test_katakana_posts_are_not_part_of_the_name() -> None:
    result = run(fixture("visit_katakana_posts.txt"))
    assert result.release is not None, result.errors
    assert result.report.problems == []
    got = [(b.organisation.ja, b.counterpart.name.ja, b.counterpart.title.ja) for b in result.release.bilaterals]
    assert got == [
        ("サウジアラビア王国", "アブドルアジーズ", "エネルギー大臣"),
        ("サウジアラビア王国", "アルスワーハ", "デジタル担当大臣"),
        ("アラブ首長国連邦", "オラマ", "AI・デジタル担当大臣"),
    ]


@pytest.mark.parametrize(
    ("text", "name", "title"),
    [
        ("サウジアラビア王国のアブドルアジーズ・エネルギー大臣", "アブドルアジーズ", "エネルギー大臣"),
        ("英国のジョナサン・レイノルズ・ビジネス・貿易大臣", "ジョナサン・レイノルズ", "ビジネス・貿易大臣"),
        ("アラブ首長国連邦のオラマ・AI・デジタル担当大臣", "オラマ", "AI・デジタル担当大臣"),
        ("米国のジーナ・レモンド商務長官", "ジーナ・レモンド", "商務長官"),
        (
            "フランス共和国のアン・ル=エナンフ人工知能・デジタル担当大臣",
            "アン・ル=エナンフ",
            "人工知能・デジタル担当大臣",
        ),
    ],
    ids=["energy", "business-trade", "ai-digital", "kanji-post", "kanji-post-after-equals"],
)
def test_split_of_name_and_post(text: str, name: str, title: str) -> None:
    got = counterpart(text, shipped_gazetteer())
    assert got is not None and (got.name, got.title) == (name, title)
    assert got.name in text and got.title in text


def test_an_uncertain_split_is_reported_not_guessed() -> None:
    # 「アルスワーハ・サイエンス大臣」: サイエンス is no known post word, and 大臣 alone is no post: which is the name?
    text = fixture("visit_katakana_posts.txt").replace("アルスワーハ・デジタル担当大臣", "アルスワーハ・サイエンス大臣")
    result = run(text)
    assert result.release is not None, result.errors
    names = [b.counterpart.name.ja for b in result.release.bilaterals]
    assert names == ["アブドルアジーズ", "オラマ"]
    problems = [w for s, w in result.report.problems if s == "bilaterals"]
    assert len(problems) == 1 and "アルスワーハ・サイエンス大臣" in problems[0], problems
    assert "line 13" in problems[0] and "「サイエンス」" in problems[0]
    # Its heading and paragraph are listed as not used.
    assert [n for n, _ in result.report.unused] == [13, 14]
