"""English in data/ and in replies: each ministry's usage, official names, and only what the release says."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from bot.commands import bilateral, contact, outcomes, summary
from bot.commands.base import Ask
from bot.messages import msg
from bot.release.loader import COMMITMENTS_FILE, RELEASE_DIR, load_release
from bot.release.lookup import ReleaseLookup
from bot.release.models import LANGS, Lang, Person, Release, Text
from bot.schedule.models import Commitment, load_commitments
from tests.helpers import text_of

RELEASE = load_release()
COMMITMENTS = load_commitments(COMMITMENTS_FILE, release=RELEASE)

# How each ministry renders 副大臣 in its own English, and a word its recorded source must name.
# "Vice-Minister" (hyphenated, alone) is 事務次官, the top civil servant: never a 副大臣.
MINISTRY_USAGE = {
    "経済産業省": ("State Minister", "METI"),
    "デジタル庁": ("State Minister", "Digital Agency"),
    "総務省": ("Vice Minister", "MIC"),
}

# Official English names, as their owners publish them (see the header of the shipped release.yml).
OFFICIAL_NAMES = {
    "G7産業・デジタル・技術閣僚宣言": "G7 2025 Industry, Digital and Technology Ministerial Declaration",
    "G7のAI導入ロードマップ": "G7 AI Adoption Roadmap",
    "「中小企業におけるAI導入のためのブループリント」": "Small and Medium-sized Enterprise AI Adoption Blueprint",
    "「量子の未来のためのカナナスキス共通ビジョン」": "Kananaskis Common Vision for the Future of Quantum Technologies",
    "G7半導体コンタクト(PoC)グループ": "G7 Semiconductors Point of Contact (PoC) Group",
    "G7サイバーセキュリティ作業部会": "G7 Cybersecurity Working Group",
    "(G-QuAT)": "Global Research and Development Center for Business by Quantum-AI technology (G-QuAT)",
    "産業技術総合研究所": "National Institute of Advanced Industrial Science and Technology (AIST)",
    "DFFT": "Data Free Flow with Trust (DFFT)",
}

COUNTERPART_TITLES = {
    "fr": "Minister Delegate for Artificial Intelligence and Digital Affairs",
    "eu": "Executive Vice-President of the European Commission for Tech Sovereignty, Security and Democracy",
    "de": "Parliamentary State Secretary at the Federal Ministry for Economic Affairs and Energy",
}

# Words the release-side English of a commitment must not use: the release states no task, no review
# and no next step, and says "agreed" (合意) only where it does.
UNSUPPORTED = re.compile(
    r"\b(?:next steps?|reviews?|reviewed|follow[- ]?ups?|to-?dos?|deadlines?|tasks?|action items?|will)\b",
    re.IGNORECASE,
)
AGREED = re.compile(r"\bagree(?:d|s|ment)?\b", re.IGNORECASE)


def _texts(obj: object, path: str = "") -> Iterator[tuple[str, Text]]:
    if isinstance(obj, Text):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _texts(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _texts(item, f"{path}[{getattr(item, 'id', i)}]")


def _all_english() -> list[Any]:
    cases = [pytest.param(text.en, id=f"release.{path}") for path, text in _texts(RELEASE)]
    cases += [pytest.param(text.en, id=f"commitments.{path}") for path, text in _texts(COMMITMENTS)]
    return cases


def _delegates() -> list[Any]:
    return [pytest.param(p, id=p.name.en) for p in RELEASE.meeting.delegation]


# --- Japanese officials: each ministry's own English ---------------------------------------------


@pytest.mark.parametrize("person", _delegates())
def test_delegate_title_follows_the_ministry_s_recorded_usage(person: Person) -> None:
    assert person.ministry is not None and person.rank is not None, "record ministry and rank"
    rank_en, source_word = MINISTRY_USAGE[person.ministry.ja]
    assert person.rank.ja == "副大臣"
    assert person.rank.en == rank_en
    assert person.title.en.startswith(rank_en + " ")
    assert person.title_en_source, "record where the English title comes from"
    assert source_word in person.title_en_source
    assert person.title.en in person.title_en_source


@pytest.mark.parametrize("person", _delegates())
def test_participants_use_the_delegate_s_title(person: Person) -> None:
    """井野副大臣 -> State Minister Ino (井野); 堀内総務副大臣 -> Vice Minister for … Horiuchi (堀内)."""
    assert person.rank is not None
    seen = 0
    for b in RELEASE.bilaterals:
        for participant in b.japan_participants:
            if participant.ja.startswith(person.name.ja):
                seen += 1
                assert participant.en in {f"{person.rank.en} {person.name.en}", f"{person.title.en} {person.name.en}"}
    assert seen


@pytest.mark.parametrize("value", _all_english())
def test_every_mention_of_a_delegate_carries_the_right_rank(value: str) -> None:
    """Wherever Ino, Horiuchi or Imaeda is named in English, the title before the name is theirs."""
    assert "Vice-Minister" not in value, "Vice-Minister is 事務次官, not 副大臣"
    for person in RELEASE.meeting.delegation:
        assert person.rank is not None
        surname = person.name.en.split()[0]
        for match in re.finditer(rf"\b{surname}\b", value):
            before, after = value[: match.start()], value[match.start() :]
            own = before.endswith((f"{person.rank.en} ", f"{person.title.en} "))
            as_a_name = after.startswith(f"{surname} (")  # "Ino (井野), State Minister of …"
            assert own or as_a_name, f"{surname} without their own title in {value!r}"


# --- counterparts, names of documents and bodies -------------------------------------------------


@pytest.mark.parametrize(("bilateral_id", "title"), list(COUNTERPART_TITLES.items()))
def test_counterpart_titles_as_their_governments_write_them(bilateral_id: str, title: str) -> None:
    (b,) = [b for b in RELEASE.bilaterals if b.id == bilateral_id]
    assert b.counterpart.title.en == title


@pytest.mark.parametrize(("ja", "en"), list(OFFICIAL_NAMES.items()))
def test_official_english_names_wherever_the_japanese_names_them(ja: str, en: str) -> None:
    pairs = [t for _, t in _texts(RELEASE)] + [t for _, t in _texts(COMMITMENTS)]
    naming = [t for t in pairs if ja in t.ja]
    assert naming, f"{ja} is named nowhere"
    for text in naming:
        assert en in text.en, f"{en!r} missing from {text.en!r}"


def test_document_titles_are_the_outcomes_official_names() -> None:
    titles = {o.title.ja: o.title.en for o in RELEASE.outcomes}
    for doc in RELEASE.documents:
        assert doc.title.en == titles[doc.title.ja]


# --- wording rules -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", _all_english())
def test_no_standing_talk_and_no_nested_parentheses(value: str) -> None:
    assert not re.search(r"\bstanding\b", value, re.IGNORECASE), "立ち話 is an informal conversation (a pull-aside)"
    assert not re.search(r"\([^()]*\(", value), f"nested parentheses in {value!r}"


def test_the_pull_aside_is_called_an_informal_conversation() -> None:
    (solomon,) = [b for b in RELEASE.bilaterals if b.id == "ca-solomon"]
    assert solomon.note is not None and solomon.note.ja == "立ち話"
    assert "informal conversation (a pull-aside)" in solomon.note.en
    assert "informal conversation (a pull-aside)" in solomon.summary.en


def _subject_cases() -> list[Any]:
    cases = [pytest.param(b.summary.en, b, id=f"bilateral-{b.id}") for b in RELEASE.bilaterals]
    by_id = {b.id: b for b in RELEASE.bilaterals}
    cases += [
        pytest.param(c.detail.en, by_id[c.source.ref], id=f"commitment-{c.id}")
        for c in COMMITMENTS.commitments
        if c.source.kind == "bilateral"
    ]
    return cases


@pytest.mark.parametrize(("value", "meeting"), _subject_cases())
def test_each_meeting_sentence_names_who_did_what(value: str, meeting: Any) -> None:
    """No "They confirmed …": the sentence names State Minister Ino and the counterpart."""
    assert not re.match(r"(They|Together with|Discussed|Confirmed)\b", value), value
    assert "State Minister Ino" in value
    assert meeting.counterpart.name.en.split()[-1] in value


@pytest.mark.parametrize("value", [pytest.param(b.summary.en, id=b.id) for b in RELEASE.bilaterals])
def test_bilateral_english_agrees_only_where_the_release_does(value: str) -> None:
    assert not AGREED.search(value)  # no bilateral says 合意


# --- commitments: the release's words, apart from the team's plan ---------------------------------


def _commitments() -> list[Any]:
    return [pytest.param(c, id=c.id) for c in COMMITMENTS.commitments]


ORIGINAL = " ".join((RELEASE_DIR / RELEASE.source_file).read_text(encoding="utf-8").split())


@pytest.mark.parametrize("c", _commitments())
def test_commitment_release_side_is_verbatim_and_plan_is_separate(c: Commitment) -> None:
    assert " ".join(c.detail.ja.split()) in ORIGINAL
    assert c.planned_action is not None, "say what the team plans, apart from what the release says"
    assert c.planned_action.ja not in ORIGINAL
    assert c.planned_action.en not in c.detail.en


@pytest.mark.parametrize("c", _commitments())
def test_commitment_release_side_english_adds_nothing(c: Commitment) -> None:
    """Where the release says 確認, 議論 or 意見交換 the English never says agreed, review or next step."""
    for field, text in (("title", c.title), ("detail", c.detail)):
        found = UNSUPPORTED.search(text.en)
        assert not found, f"{c.id}.{field}.en says {found.group(0)!r}, which the release does not"
        if "合意" not in c.detail.ja:
            assert not AGREED.search(text.en), f"{c.id}.{field}.en says agreed; the release does not"
    if c.assumption_note is not None:
        assert not re.search(r"\breview", c.assumption_note.en, re.IGNORECASE), "the release mentions no review"
        assert "見直し" not in c.assumption_note.ja


@pytest.mark.parametrize("c", _commitments())
def test_commitment_verbs_follow_the_release(c: Commitment) -> None:
    verbs = {"議論": "discussed", "確認": "confirmed", "言及": "referred to", "支持": "supported", "発信": "conveyed"}
    for ja, en in verbs.items():
        if ja in c.detail.ja:
            assert en in c.detail.en, f"{c.id}: {ja} should read {en!r}"


# --- replies -------------------------------------------------------------------------------------


def _ask(lookup: ReleaseLookup, lang: Lang, *args: str) -> Ask:
    return Ask(args=args, raw_args=" ".join(args), lang=lang, now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), lookup=lookup)


@pytest.mark.parametrize("lang", LANGS)
def test_summary_says_whose_statements_and_what_the_bilaterals_covered(lang: Lang, lookup: ReleaseLookup) -> None:
    release: Release = lookup.release
    assert release.meeting.said_by is not None and release.bilaterals_overview is not None
    text = text_of(summary.run(_ask(lookup, lang)))
    assert msg("summary.said_by", lang, who=release.meeting.said_by(lang)) in text
    assert msg("summary.japan_said", lang) not in text
    assert release.bilaterals_overview(lang) in text
    for person in release.meeting.delegation:
        assert person.named(lang) in text
    assert not re.search(r"\([^()\n]*\(", text), "nested parentheses"


@pytest.mark.parametrize("lang", LANGS)
def test_bilateral_list_carries_the_release_s_overview(lang: Lang, lookup: ReleaseLookup) -> None:
    overview = lookup.release.bilaterals_overview
    assert overview is not None
    reply = bilateral.run(_ask(lookup, lang))
    assert overview(lang) in reply.footer
    assert not re.search(r"\([^()\n]*\(", text_of(reply)), "nested parentheses"


@pytest.mark.parametrize("lang", LANGS)
def test_outcomes_say_the_points_are_the_release_s_summary(lang: Lang, lookup: ReleaseLookup) -> None:
    intro = lookup.release.outcomes_intro
    assert intro is not None
    reply = outcomes.run(_ask(lookup, lang))
    assert intro(lang) in reply.sections[0].text
    assert ("要約" if lang == "ja" else "summary") in reply.sections[0].text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        pytest.param("en", "International Affairs Office, Commerce and Information Policy Bureau", id="en"),
        pytest.param("ja", "商務情報政策局 国際室", id="ja"),
    ],
)
def test_contact_separates_bureau_and_office(lang: Lang, expected: str, lookup: ReleaseLookup) -> None:
    assert expected in text_of(contact.run(_ask(lookup, lang, "ai")))
