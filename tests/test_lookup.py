"""Lookups as staff type them: codes, names, ministries, posts, several at once, typos, desks, in both languages."""

from __future__ import annotations

import itertools
import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import answer
from bot.errors import ConfigError
from bot.messages import join, msg
from bot.release.gazetteer import Gazetteer, key, load_gazetteer
from bot.release.lookup import SHORT, ReleaseLookup
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from bot.text import escape
from tests.conftest import NOW
from tests.helpers import text_of

US, DE, EU, UK, SOLOMON, JOLY, OECD, FR = "us", "de", "eu", "uk", "ca-solomon", "ca-joly", "oecd", "fr"
CANADA = (SOLOMON, JOLY)
NONE: tuple[str, ...] = ()


def case(family: str, query: str, *ids: str) -> object:
    return pytest.param(query, frozenset(ids), id=f"{family}:{query}")


BILATERAL_CASES = [
    # Codes, dotted or not: exact or nothing.
    *(case("code", q, UK) for q in ("U.K.", "UK", "u.k.", "uk.", "GB", "GBR")),
    *(case("code", q, US) for q in ("US", "U.S.", "us", "USA", "U.S.A.")),
    *(case("code", q, EU) for q in ("EU", "E.U.", "eu")),
    case("code", "DE", DE),
    case("code", "DEU", DE),
    case("code", "FR", FR),
    case("code", "CA", *CANADA),
    case("code", "OECD", OECD),
    case("code", "O.E.C.D.", OECD),
    # Codes that must not become another code.
    case("not-a-code", "IN", *NONE),
    case("not-a-code", "IT", *NONE),
    case("not-a-code", "JP", *NONE),
    case("not-a-code", "USB", *NONE),
    case("not-a-code", "UA", *NONE),
    case("not-a-code", "ES", *NONE),
    case("not-a-code", "E.S.", *NONE),
    case("not-a-code", "GE", *NONE),
    # Demonyms and common or formal names, English.
    *(case("name-en", q, DE) for q in ("German", "Germans", "Germany", "Deutschland", "Federal Republic of Germany")),
    *(case("name-en", q, *CANADA) for q in ("Canadian", "canada")),
    *(case("name-en", q, FR) for q in ("French", "France", "French Republic")),
    *(case("name-en", q, US) for q in ("American", "America", "United States of America", "the US")),
    *(case("name-en", q, UK) for q in ("British", "Britain", "Great Britain", "United Kingdom")),
    *(case("name-en", q, EU) for q in ("European", "European Union", "European Commission")),
    case("name-en", "Organisation for Economic Co-operation and Development", OECD),
    # ... and Japanese, in the release's style and the old kanji names.
    *(case("name-ja", q, US) for q in ("米", "米国", "アメリカ", "アメリカ合衆国", "合衆国", "亜米利加")),
    *(case("name-ja", q, DE) for q in ("独", "独逸", "ドイツ", "ドイツ連邦共和国")),
    *(case("name-ja", q, FR) for q in ("仏", "仏蘭西", "フランス共和国", "ﾌﾗﾝｽ", "ふらんす")),
    *(case("name-ja", q, UK) for q in ("英", "英国", "イギリス", "英吉利", "連合王国")),
    *(case("name-ja", q, *CANADA) for q in ("加", "加奈陀", "カナダ")),
    *(case("name-ja", q, EU) for q in ("欧州連合", "欧州連合(EU)", "欧州委員会")),
    case("name-ja", "経済協力開発機構", OECD),
    # Places the release has no meeting with: recognised, never guessed into another.
    *(case("no-meeting", q) for q in ("japan", "日本", "italy", "イタリア", "ukraine", "china", "india", "korea")),
    # Single kanji inside other words are not countries: 参加 is not 加 (Canada), 独自 is not 独 (Germany).
    *(case("no-meeting", q) for q in ("参加", "英語", "独自", "独立", "加速", "仏教")),
    # The counterpart's ministry or agency: full, short or acronym, either language.
    *(case("ministry", q, US) for q in ("USDOC", "Department of Commerce", "商務省", "米国商務省")),
    *(case("ministry", q, US) for q in ("商務省国際貿易局", "International Trade Administration", "ITA")),
    *(case("ministry", q, DE) for q in ("BMWE", "BMWK", "Federal Ministry for Economic Affairs and Energy")),
    *(case("ministry", q, DE) for q in ("経済・エネルギー省", "連邦経済エネルギー省")),
    *(case("ministry", q, EU) for q in ("DG CNECT", "CNECT", "通信ネットワーク・コンテンツ・技術総局")),
    *(case("ministry", q, UK) for q in ("DSIT", "科学・イノベーション・技術省")),
    case("ministry", "ISED", *CANADA),
    case("ministry", "FedDev Ontario", SOLOMON),
    case("ministry", "南オンタリオ連邦経済開発局", SOLOMON),
    case("ministry", "CED", JOLY),
    case("ministry", "ケベック地域経済開発庁", JOLY),
    case("ministry", "STI", OECD),
    case("ministry", "科学・技術・イノベーション局", OECD),
    case("ministry", "Bercy", FR),
    # The counterpart's post, alone or with a country.
    case("post-ja", "商務次官", US),
    case("post-ja", "国際貿易担当次官", US),
    case("post-ja", "デジタル担当閣外大臣", UK),
    case("post-ja", "閣外大臣", UK),
    case("post-ja", "政務次官", DE),
    case("post-ja", "上級副委員長", EU),
    case("post-ja", "局長", OECD),
    case("post-ja", "産業大臣", JOLY),
    case("post-ja", "カナダのAI大臣", SOLOMON),
    case("post-ja", "AI大臣", SOLOMON, FR),
    # A one-kanji country before a post, headline style.
    case("post-ja", "米商務次官", US),
    case("post-ja", "加産業大臣", JOLY),
    case("post-ja", "英デジタル閣外大臣", UK),
    case("post-ja", "日米", US),
    case("post-ja", "日加", *CANADA),
    case("post-en", "Canada's minister of AI", SOLOMON),
    case("post-en", "minister of AI", SOLOMON, FR),
    case("post-en", "minister of industry", JOLY),
    case("post-en", "under secretary", US),
    case("post-en", "parliamentary state secretary", DE),
    case("post-en", "minister of state", UK),
    case("post-en", "executive vice-president", EU),
    case("post-en", "EVP", EU),
    case("post-en", "director", OECD),
    # A surname with a title attached.
    case("name+title", "ロウエンホフ政務次官", DE),
    case("name+title", "ジョリー大臣", JOLY),
    case("name+title", "キミット次官", US),
    case("name+title", "ヴィルックネン上級副委員長", EU),
    case("name+title", "マーレー閣外大臣", UK),
    case("name+title", "シーハン局長", OECD),
    case("name+title", "Minister Joly", JOLY),
    case("name+title", "Under Secretary Kimmitt", US),
    # Several names at once add up.
    case("several", "france germany", FR, DE),
    case("several", "france and germany", FR, DE),
    case("several", "フランス ドイツ", FR, DE),
    case("several", "フランスとドイツ", FR, DE),
    case("several", "us, uk", US, UK),
    case("several", "米英", US, UK),
    case("several", "kimmitt joly", US, JOLY),
    case("several", "canada joly solomon", *CANADA),
    # A narrowing pair: a name within a country.
    case("narrowing", "canada joly", JOLY),
    case("narrowing", "canada solomon", SOLOMON),
    case("narrowing", "カナダ ジョリー", JOLY),
    case("narrowing", "カナダのソロモン", SOLOMON),
    case("narrowing", "canada minister of industry", JOLY),
    case("narrowing", "カナダ 産業大臣", JOLY),
    # Question words around a name.
    case("phrasing", "what did japan discuss with germany", DE),
    case("phrasing", "who did we meet from canada", *CANADA),
    case("phrasing", "フランスとの会談", FR),
    case("phrasing", "ドイツと何を話した", DE),
    # Typos of longer words.
    case("typo", "francis", FR),
    case("typo", "frnace", FR),
    case("typo", "germny", DE),
    case("typo", "untied states", US),
    case("typo", "virkunen", EU),
    # Nothing.
    case("nothing", "atlantis"),
    case("nothing", "quantum"),
]


@pytest.mark.parametrize(("query", "expected"), BILATERAL_CASES)
def test_bilateral_lookup(lookup: ReleaseLookup, release: Release, query: str, expected: frozenset[str]) -> None:
    assert expected <= {b.id for b in release.bilaterals}
    assert {b.id for b in lookup.find_bilaterals(query).bilaterals} == expected


# Each family once through the command, in both reply languages: the reply shows exactly these meetings.
COMMAND_CASES = [
    pytest.param("U.K.", {UK}, id="U.K."),
    pytest.param("独逸", {DE}, id="独逸"),
    pytest.param("USDOC", {US}, id="USDOC"),
    pytest.param("デジタル担当閣外大臣", {UK}, id="デジタル担当閣外大臣"),
    pytest.param("ジョリー大臣", {JOLY}, id="ジョリー大臣"),
    pytest.param("france germany", {FR, DE}, id="france-germany"),
    pytest.param("canada joly", {JOLY}, id="canada-joly"),
]


def ask(text: str, lookup: ReleaseLookup, lang: Lang) -> Reply:
    return answer(text, lookup=lookup, lang=lang, now=NOW)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("query", "expected"), COMMAND_CASES)
def test_bilateral_command_shows_exactly_the_meetings(
    lookup: ReleaseLookup, release: Release, query: str, expected: set[str], lang: Lang
) -> None:
    reply = ask(f"bilateral {query}", lookup, lang)
    text = text_of(reply)
    shown = {b.id for b in release.bilaterals if escape(b.summary(lang)) in text}
    assert shown == expected
    if len(expected) > 1:
        for b in release.bilaterals:
            if b.id in expected:
                assert b.organisation(lang) in reply.title


@pytest.mark.parametrize("lang", LANGS)
def test_a_corrected_typo_is_said(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    (fr,) = [b for b in release.bilaterals if b.id == FR]
    text = text_of(ask("bilateral francis", lookup, lang))
    assert msg("lookup.corrected", lang, typed="francis", shown=escape(fr.organisation(lang))) in text
    assert escape(fr.summary(lang)) in text


@pytest.mark.parametrize("lang", LANGS)
def test_a_corrected_surname_names_the_person(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    (eu,) = [b for b in release.bilaterals if b.id == EU]
    text = text_of(ask("bilateral virkunen", lookup, lang))
    assert msg("lookup.corrected", lang, typed="virkunen", shown=escape(eu.counterpart.name(lang))) in text


@pytest.mark.parametrize("query", ["france", "U.K.", "ドイツ連邦共和国", "canada joly", "商務次官"])
def test_an_exact_name_claims_no_correction(lookup: ReleaseLookup, query: str) -> None:
    assert lookup.find_bilaterals(query).corrections == ()


def test_no_two_letter_code_matches_unless_it_is_listed(lookup: ReleaseLookup, release: Release) -> None:
    """Every pair of letters, dotted or not: only the codes and short names in the data find anything."""
    listed = {key(c) for p in lookup.gazetteer.countries for c in (p.code, *p.codes, *p.names)}
    listed |= {key(b.code) for b in release.bilaterals} | {key(a) for b in release.bilaterals for a in b.aliases}
    listed |= {key(part) for b in release.bilaterals for part in b.counterpart.name.en.split()}
    # Words of a post ("AI" in AI・デジタル革新大臣) find the posts that have them, exactly.
    posts = [key(t) for b in release.bilaterals for t in (b.counterpart.title.ja, b.counterpart.title.en)]
    listed |= {w for t in posts for w in re.split(r"[\s・()/-]+", t)}
    for a, b in itertools.product(string.ascii_lowercase, repeat=2):
        for typed in (a + b, f"{a}.{b}.", f"{a.upper()}{b.upper()}"):
            found = lookup.find_bilaterals(typed).bilaterals
            if key(typed) not in listed:
                assert not found, f"{typed!r} matched {[m.id for m in found]}"


# --- contact desks ---------------------------------------------------------------------------------------

GENERAL, AI = "general", "ai-digital"

DESK_CASES = [
    *(case("staff-kanji", q, AI) for q in ("猪飼", "宮川", "青山", "猪飼さん", "猪飼課長")),
    *(case("staff-kanji", q, GENERAL) for q in ("森川", "飯野", "森田")),
    *(case("staff-romaji", q, AI) for q in ("ikai", "Miyagawa", "AOYAMA")),
    *(case("staff-romaji", q, GENERAL) for q in ("morikawa", "Iino", "morita")),
    *(
        case("bureau", q, AI)
        for q in ("商務情報政策局", "Commerce and Information Policy Bureau", "商務情報政策局 国際室")
    ),
    *(case("bureau", q, GENERAL) for q in ("通商政策局", "Trade Policy Bureau")),
    *(case("office", q, AI) for q in ("国際室", "International Affairs Office")),
    *(case("office", q, GENERAL) for q in ("国際経済部", "International Economic Affairs Department")),
    case("extension", "3991", AI),
    case("extension", "3051", GENERAL),
    *(
        case("topic-line", q, AI)
        for q in ("AI・デジタル", "AI導入ブループリント", "デジタル分野", "AIデジタル", "ai", "ＡＩ")
    ),
    *(case("topic-line", q, AI) for q in ("blueprint", "digital matters", "AI adoption blueprint")),
    *(case("topic-line", q, GENERAL) for q in ("本出張全般", "this trip", "trip", "出張", "general")),
    # Words on both desks name both.
    case("both", "international", GENERAL, AI),
    case("both", "国際", GENERAL, AI),
    case("both", "03-3501-1511", GENERAL, AI),
    case("both", "ai trip", GENERAL, AI),
    # A typo of a longer word is corrected; a number is exact.
    case("typo", "miyagwa", AI),
    case("typo", "blueprnt", AI),
    case("unknown", "3992"),
    case("unknown", "quantum"),
    case("unknown", "量子"),
    case("unknown", "zzyzx"),
    case("unknown", "for quantum"),
]


@pytest.mark.parametrize(("query", "expected"), DESK_CASES)
def test_desk_lookup(lookup: ReleaseLookup, release: Release, query: str, expected: frozenset[str]) -> None:
    assert expected <= {d.id for d in release.desks}
    assert {d.id for d in lookup.find_desks(query).desks} == expected


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("topic", "desk_id"),
    [("猪飼", AI), ("宮川", AI), ("商務情報政策局", AI), ("AI・デジタル", AI), ("3051", GENERAL), ("morita", GENERAL)],
)
def test_contact_finds_the_desk_by_anything_on_it(
    lookup: ReleaseLookup, release: Release, topic: str, desk_id: str, lang: Lang
) -> None:
    text = text_of(ask(f"contact {topic}", lookup, lang))
    assert {d.id for d in release.desks if d.email in text} == {desk_id}


@pytest.mark.parametrize("lang", LANGS)
def test_contact_for_an_unknown_topic_says_so_and_shows_every_desk(
    lookup: ReleaseLookup, release: Release, lang: Lang
) -> None:
    text = text_of(ask("contact for quantum", lookup, lang))
    assert msg("contact.unknown", lang, text="quantum", count=len(release.desks)) in text
    assert all(d.email in text for d in release.desks)


@pytest.mark.parametrize("lang", LANGS)
def test_contact_typo_is_said(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    desk = release.desk(AI)
    text = text_of(ask("contact miyagwa", lookup, lang))
    shown = escape(f"{desk.bureau(lang)} {desk.office(lang)}")
    assert msg("lookup.corrected", lang, typed="miyagwa", shown=shown) in text
    assert {d.id for d in release.desks if d.email in text} == {AI}


# --- followups use the same reading ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("U.K.", {UK}, id="U.K."),
        pytest.param("ドイツ連邦共和国", {DE}, id="ドイツ連邦共和国"),
        pytest.param("canada joly", {JOLY}, id="canada-joly"),
        pytest.param("france germany", {FR, DE}, id="france-germany"),
    ],
)
def test_followups_filter_by_meeting(lookup: ReleaseLookup, release: Release, query: str, expected: set[str]) -> None:
    reply = ask(f"followups {query}", lookup, "en")
    organisations = list(dict.fromkeys(escape(b.organisation("en")) for b in release.bilaterals if b.id in expected))
    assert msg("followups.filtered", "en", what=join(organisations, "en")) in text_of(reply)


def test_followups_filter_by_desk_staff(lookup: ReleaseLookup, release: Release) -> None:
    desk = release.desk(AI)
    text = text_of(ask("followups 猪飼", lookup, "ja"))
    assert msg("followups.filtered", "ja", what=escape(desk.topic("ja"))) in text


# --- the gazetteer ---------------------------------------------------------------------------------------


def test_gazetteer_knows_every_code_the_release_uses(lookup: ReleaseLookup, release: Release) -> None:
    codes = {key(p.code) for p in lookup.gazetteer.countries}
    assert {key(b.code) for b in release.bilaterals} <= codes


def test_gazetteer_short_names_are_exact_only(lookup: ReleaseLookup) -> None:
    # A short code one letter off a real one must find nothing: "uj" is not "uk", "ux" is not "us".
    for typed in ("uj", "ux", "eo", "fe", "dd", "ck"):
        assert not lookup.find_bilaterals(typed).bilaterals, typed
    assert SHORT == 3


def test_gazetteer_refuses_a_name_under_two_codes(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.yml"
    path.write_text(
        "countries:\n  - {code: US, codes: [US], names: [America]}\n  - {code: GB, codes: [U.S.], names: [Britain]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_gazetteer(path)
    assert str(path) in str(err.value)
    assert "both US and GB" in str(err.value)


def test_gazetteer_refuses_a_body_of_an_unknown_code(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the code of any entry"):
        Gazetteer.model_validate(
            {"countries": [{"code": "US", "names": ["America"]}], "bodies": [{"of": "XX", "names": ["x"]}]}
        )


def test_a_next_release_gets_the_gazetteer_too(release: Release) -> None:
    """A country added to the release (here: Italy, under its code) is found by the gazetteer's names."""
    first = release.bilaterals[0]
    italy = first.model_copy(update={"id": "it", "code": "IT", "aliases": []})
    lookup = ReleaseLookup(release.model_copy(update={"bilaterals": [*release.bilaterals, italy]}))
    for typed in ("Italy", "イタリア", "Italian", "伊"):
        assert [b.id for b in lookup.find_bilaterals(typed).bilaterals] == ["it"], typed


# --- any text ---------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    list("abcdefgu.k ,、・の米英独仏加日国省大臣次官フランスドイツ猪飼AIＡＩｱｲ?!'-=()0123456789")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=40), st.text(_ALPHABET, max_size=40)))
def test_any_text_reads_without_error_and_corrections_name_what_is_shown(lookup: ReleaseLookup, text: str) -> None:
    meetings = lookup.find_bilaterals(text)
    shown = {b.id for b in meetings.bilaterals}
    assert all(set(c.ids) <= shown and c.ids for c in meetings.corrections)
    desks = lookup.find_desks(text)
    assert all(set(c.ids) <= {d.id for d in desks.desks} for c in desks.corrections)
    if len(key(text)) <= SHORT and key(text).isascii() and " " not in key(text):
        assert not meetings.corrections, "a short word is never 'corrected' into another"
