"""A field still to be translated: every English reply shows its Japanese marked "(not yet translated)", and
`g7bot check` warns of it (`--strict` fails), naming the file and the field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.__main__ import main
from bot.blocks import build_message, render_message
from bot.commands import answer
from bot.library import Library
from bot.messages import msg
from bot.release.citation import register_source
from bot.release.models import Label, Release, untranslated_fields
from bot.schedule.models import Commitment
from tests.helpers import copy_data_dir
from tests.importer.helpers import FIXTURES, fixture, run

NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
FIXTURE = "visit_gulf_reiwa.txt"
VISIT_ID = "meti-2025-01-17-gulf"


def marked(ja: str) -> str:
    return msg("untranslated", "en", text=ja)


@pytest.fixture(scope="module")
def visit(tmp_path_factory: pytest.TempPathFactory) -> Release:
    result = run(fixture(FIXTURE))
    assert result.release is not None, result.errors
    release = result.release.model_copy(update={"id": VISIT_ID})
    folder = tmp_path_factory.mktemp("data") / "releases" / VISIT_ID
    folder.mkdir(parents=True)
    (folder / release.source_file).write_text(result.source_text, encoding="utf-8")
    register_source(release, folder)
    return release


@pytest.fixture(scope="module")
def library(visit: Release) -> Library:
    followup = Commitment.model_validate(
        {
            "id": "sa-hydrogen",
            "title": {"ja": "水素の協力", "en": "Hydrogen cooperation"},
            "detail": {"ja": visit.bilaterals[0].summary.ja, "en": "Exchanged views on hydrogen and ammonia."},
            "source": {"kind": "bilateral", "ref": visit.bilaterals[0].id},
            "owner_desk": visit.desks[0].id,
            "due": NOW.date() + dt.timedelta(days=3),
            "due_is_assumption": False,
            "release_id": VISIT_ID,
        }
    )
    return Library.of([visit], commitments=[followup])


def shown(library: Library, text: str, lang: str) -> str:
    reply = answer(text, library=library, lang=lang, now=NOW)  # type: ignore[arg-type]
    return render_message(build_message(reply))


# What each command shows of the visit that is still in Japanese, as an English reply must show it.
TITLE = "松田経済産業大臣がサウジアラビア王国及びアラブ首長国連邦を訪問しました"
SHOWN_MARKED = {
    "summary": [TITLE, "リヤド", "松田"],
    "bilateral": ["ファーレフ投資大臣", "ザイユーディ対外貿易担当国務大臣"],
    "bilateral saudi arabia": [
        "ファーレフ投資大臣",
        # As the lead paragraph names him: 「松田大臣」 is only in the UAE meeting's text.
        "松田経済産業大臣",
        "水素",
        "水素やアンモニアなどの脱炭素分野における両国の協力について意見交換を行いました。",
    ],
    "bilateral uae history": ["ザイユーディ対外貿易担当国務大臣", TITLE],
    "contact": ["国際課長", "中島", "松本", "井上", "重要鉱物について", "鉱物資源課長", "木村", "林"],
    "contact 重要鉱物": ["重要鉱物について", "鉱物資源課長", "木村"],
    "outcomes": [TITLE],
    "docs": ["日・サウジアラビア共同声明", "会談の概要"],
    "followups": ["国際課長", "中島"],
    "followups saudi arabia": ["国際課長"],
    "releases": [TITLE],
    "search 水素": ["水素やアンモニアなどの脱炭素分野における両国の協力について意見交換を行いました。", TITLE],
    "search 木村": ["木村", TITLE],
}


@pytest.mark.parametrize("text", list(SHOWN_MARKED))
def test_english_replies_show_the_japanese_marked(library: Library, text: str) -> None:
    english = shown(library, text, "en")
    for ja in SHOWN_MARKED[text]:
        assert marked(ja) in english.replace("\u200b", "").replace("*", ""), (ja, english)


@pytest.mark.parametrize("text", list(SHOWN_MARKED))
def test_japanese_replies_show_the_japanese_unmarked(library: Library, text: str) -> None:
    japanese = shown(library, text, "ja")
    assert "not yet translated" not in japanese
    assert "(未翻訳)" not in japanese


def test_a_translated_field_shows_its_english_and_is_no_longer_listed(visit: Release) -> None:
    # A person translates the counterpart's post in release.yml; the `untranslated` entry may stay behind.
    first = visit.bilaterals[0]
    post = Label(ja=first.counterpart.title.ja, en="Minister of Investment")
    person = first.counterpart.model_copy(update={"title": post})
    bilaterals = [first.model_copy(update={"counterpart": person}), *visit.bilaterals[1:]]
    translated = visit.model_copy(update={"bilaterals": bilaterals})
    assert "bilaterals.0.counterpart.title" in translated.untranslated
    assert "bilaterals.0.counterpart.title" not in untranslated_fields(translated)
    register_source(translated, FIXTURES)  # citations are not what this test is about
    english = shown(Library.of([translated]), "bilateral saudi arabia", "en")
    assert "Minister of Investment" in english
    assert marked("ファーレフ投資大臣") not in english


# --- g7bot check --------------------------------------------------------------------------------------------


@pytest.fixture
def imported_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ with the visit imported into it by `g7bot import`, as G7BOT_DATA_DIR."""
    data = copy_data_dir(tmp_path / "data")
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data))
    monkeypatch.setenv("G7BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'g7bot.sqlite3'}")
    assert main(["import", str(FIXTURES / FIXTURE), "--id", VISIT_ID]) == 0
    return data


def test_check_warns_naming_file_and_field(imported_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["check"]) == 0
    out = capsys.readouterr()
    path = imported_data / "releases" / VISIT_ID / "release.yml"
    for field in ("title", "trip.city", "bilaterals.0.counterpart.title", "desks.1.lead", "documents.0.title"):
        assert f"{path}: {field}: warning: not yet translated" in out.err, field
    assert ": error: " not in out.err


def test_check_strict_fails_naming_file_and_field(imported_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["check", "--strict"]) != 0
    err = capsys.readouterr().err
    path = imported_data / "releases" / VISIT_ID / "release.yml"
    assert f"{path}: bilaterals.0.counterpart.title: error: not yet translated" in err
    assert f"{path}: title: error: not yet translated" in err
    # The shipped release has nothing left to translate: no line names it.
    assert "meti-2025-12-10-g7-idt/release.yml: " not in err


def test_check_strict_passes_once_translated(imported_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Every field translated by hand (here: its English made different from its Japanese) and --strict passes.
    path = imported_data / "releases" / VISIT_ID / "release.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted in data["untranslated"]:
        node = data
        for part in dotted.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        node["en"] = f"English of {dotted}"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "--strict"]) == 0, capsys.readouterr().err
    assert "not yet translated" not in capsys.readouterr().err

