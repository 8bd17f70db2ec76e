"""The foot of a release: contact blocks (several desks, 担当者, 内線, 直通, FAX, ★) and related documents."""

from __future__ import annotations

from typing import Any

from bot.importer import desks, documents
from bot.importer.lines import Source
from tests.importer.helpers import fixture, run


def _desks(name: str) -> list[dict[str, Any]]:
    result = run(fixture(name))
    assert result.data is not None
    return list(result.data["desks"])


def test_several_desks_with_direct_line_and_fax() -> None:
    first, second = _desks("listing_circled.txt")
    assert first["topic"]["ja"] == "本件全般について"
    assert (first["bureau"]["ja"], first["office"]["ja"], first["lead"]["ja"]) == (
        "通商政策局",
        "アジア太平洋地域協力推進室長",
        "山本",
    )
    assert (first["phone"], first["extension"], first["direct"], first["fax"]) == (
        "03-3501-1511",
        "3100",
        "03-3501-0000",
        "03-3501-9999",
    )
    assert first["email_as_published"] == "apec-desk★meti.go.jp"
    # The ★ note ran into the next desk's topic on one line.
    assert second["topic"]["ja"] == "デジタル貿易について"
    assert [s["ja"] for s in second["staff"]] == ["加藤", "吉田"]
    assert second["bureau"]["en"] == "Commerce and Information Policy Bureau"


def test_direct_line_written_after_the_number() -> None:
    (desk,) = _desks("headed_wareki.txt")
    assert (desk["phone"], desk["extension"], desk["direct"], desk["fax"]) == (
        "03-3501-1511",
        "3456",
        "03-3501-2222",
        "03-3501-3333",
    )
    assert desk["topic"]["ja"] == "通商政策局 欧州課長"


def test_direct_line_only_on_the_phone_line() -> None:
    source = Source.from_text(
        "担当\n通商政策局 米州課 山田\n担当者:佐藤\n電話:03-3501-4444(直通)\nメール:a★meti.go.jp\n"
    )
    (desk,), problems = desks.read(source, [2, 3, 4, 5])
    assert (desk.phone, desk.direct, desk.extension) == (None, "03-3501-4444", None)
    assert desk.missing() == []
    assert problems == []


def test_desk_with_only_a_direct_line_is_written_and_validates() -> None:
    text = fixture("paragraphs_heisei.txt").replace("電話:03-3501-1511(内線 3001)", "電話:03-3501-4444(直通)")
    result = run(text)
    assert result.release is not None, result.errors
    (desk,) = result.release.desks
    assert (desk.phone, desk.extension, desk.direct) == (None, None, "03-3501-4444")


def test_desk_without_any_number_is_reported_not_written() -> None:
    text = fixture("paragraphs_heisei.txt").replace("電話:03-3501-1511(内線 3001)\n", "")
    result = run(text)
    assert result.data is not None and result.data["desks"] == []
    assert any("no phone number (電話 or 直通)" in w for s, w in result.report.problems if s == "contacts")


def test_unreadable_contact_line_is_reported() -> None:
    source = Source.from_text("担当\n通商政策局 米州課 山田\n担当者:佐藤\n★★壊れた行\n")
    _, problems = desks.read(source, [2, 3, 4])
    assert problems == ["line 4: not understood in the contact block: 「★★壊れた行」"]
    assert 4 not in source.used


def test_documents_with_language_format_and_size() -> None:
    source = Source.from_text(
        "- 閣僚宣言(原文)\n- 閣僚宣言(仮訳)(PDF形式:5,818KB)\n"
        "- 会談資料(PDF形式:1.2MB)\n- 共同声明(英文)(PDF形式:312KB)\n"
    )
    got = [(d.title, d.language, d.format, d.size_kb) for d in documents.read(source, [1, 2, 3, 4])]
    assert got == [
        ("閣僚宣言", "原文", None, None),
        ("閣僚宣言", "仮訳", "PDF", 5818),
        ("会談資料", None, "PDF", 1229),
        ("共同声明", "英文", "PDF", 312),
    ]


def test_contact_heading_and_unit_on_one_line() -> None:
    text = fixture("paragraphs_heisei.txt").replace("担当\n通商政策局 欧州課 鈴木\n", "担当:通商政策局 欧州課 鈴木\n")
    result = run(text)
    assert result.data is not None
    (desk,) = result.data["desks"]
    assert (desk["bureau"]["ja"], desk["office"]["ja"], desk["lead"]["ja"]) == ("通商政策局", "欧州課", "鈴木")
    assert result.report.unused == []
