"""Questions in ordinary words reach the right command, and are answered in the language they were asked in."""

from __future__ import annotations

import pytest

from bot.commands import _QUESTIONS, _words, answer, is_static, question_lang
from bot.messages import msg
from bot.release.lookup import ReleaseLookup
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from bot.text import escape
from tests.conftest import NOW
from tests.helpers import text_of


def ask(text: str, lookup: ReleaseLookup, lang: Lang) -> Reply:
    return answer(text, lookup=lookup, lang=lang, now=NOW)


def meeting(release: Release, bilateral_id: str) -> object:
    return next(b for b in release.bilaterals if b.id == bilateral_id)


BILATERAL_QUESTIONS = [
    pytest.param("what did japan discuss with germany", {"de"}, "en", id="what-did-japan-discuss-with-germany"),
    pytest.param("What did we talk about with the U.K.?", {"uk"}, "en", id="talk-about-with-the-U.K."),
    pytest.param("who did we meet from canada", {"ca-solomon", "ca-joly"}, "en", id="who-did-we-meet-from-canada"),
    pytest.param("who did we meet at the OECD?", {"oecd"}, "en", id="meet-at-the-OECD"),
    pytest.param("フランスとの会談", {"fr"}, "ja", id="フランスとの会談"),
    pytest.param("ドイツと何を話した", {"de"}, "ja", id="ドイツと何を話した"),
    pytest.param("ドイツと何を話しましたか?", {"de"}, "ja", id="ドイツと何を話しましたか"),
    pytest.param("カナダのジョリー大臣との会談", {"ca-joly"}, "ja", id="カナダのジョリー大臣との会談"),
    pytest.param("米国とはどんな議論をした", {"us"}, "ja", id="米国とはどんな議論をした"),
]


@pytest.mark.parametrize("user_lang", LANGS)
@pytest.mark.parametrize(("text", "expected", "reply_lang"), BILATERAL_QUESTIONS)
def test_a_question_about_a_meeting_is_answered(
    lookup: ReleaseLookup, release: Release, text: str, expected: set[str], reply_lang: Lang, user_lang: Lang
) -> None:
    reply = ask(text, lookup, user_lang)
    body = text_of(reply)
    assert {b.id for b in release.bilaterals if escape(b.summary(reply_lang)) in body} == expected
    if len(expected) == 1:
        (only,) = [b for b in release.bilaterals if b.id in expected]
        assert reply.title == msg(
            "bilateral.title", reply_lang, number=only.number, organisation=only.organisation(reply_lang)
        )
    else:
        assert reply.title.startswith(msg("bilateral.list_title", reply_lang, count=len(expected)))


@pytest.mark.parametrize("user_lang", LANGS)
@pytest.mark.parametrize(
    ("text", "desk_id", "reply_lang"),
    [
        pytest.param("who handles ai", "ai-digital", "en", id="who-handles-ai"),
        pytest.param("who is the contact for the trip?", "general", "en", id="contact-for-the-trip"),
        pytest.param("AIの担当は", "ai-digital", "ja", id="AIの担当は"),
        pytest.param("猪飼さんの電話", "ai-digital", "ja", id="猪飼さんの電話"),
        pytest.param("出張の問い合わせ先", "general", "ja", id="出張の問い合わせ先"),
        pytest.param("宮川さんに連絡したい", "ai-digital", "ja", id="宮川さんに連絡したい"),
        pytest.param("who should I contact about the blueprint", "ai-digital", "en", id="contact-about-the-blueprint"),
    ],
)
def test_a_question_about_a_desk_is_answered(
    lookup: ReleaseLookup, release: Release, text: str, desk_id: str, reply_lang: Lang, user_lang: Lang
) -> None:
    reply = ask(text, lookup, user_lang)
    assert reply.title == msg("contact.title", reply_lang)
    assert {d.id for d in release.desks if d.email in text_of(reply)} == {desk_id}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", ["contact for quantum", "who should I contact about quantum"])
def test_contact_for_quantum_names_no_desk_and_shows_both(
    lookup: ReleaseLookup, release: Release, text: str, lang: Lang
) -> None:
    # The release names no desk for quantum: say so (naming only the word not understood) and show both.
    body = text_of(ask(f"{text} {lang}", lookup, "ja"))
    assert msg("contact.unknown", lang, text="quantum", count=len(release.desks)) in body
    assert all(d.email in body for d in release.desks)


@pytest.mark.parametrize(("text", "lang"), [("what was agreed", "en"), ("何が合意されましたか", "ja")])
def test_a_question_about_what_was_agreed_gets_the_outcomes(lookup: ReleaseLookup, text: str, lang: Lang) -> None:
    assert ask(text, lookup, "en" if lang == "ja" else "ja").title == msg("outcomes.title", lang)


@pytest.mark.parametrize(
    ("text", "what", "reply_lang"),
    [
        pytest.param("what are the follow-ups for france", "fr", "en", id="follow-ups-for-france"),
        pytest.param("フランスのフォローアップ", "fr", "ja", id="フランスのフォローアップ"),
    ],
)
def test_a_question_about_followups_is_filtered(
    lookup: ReleaseLookup, release: Release, text: str, what: str, reply_lang: Lang
) -> None:
    fr = next(b for b in release.bilaterals if b.id == what)
    other: Lang = "ja" if reply_lang == "en" else "en"
    reply = ask(text, lookup, other)
    assert msg("followups.filtered", reply_lang, what=escape(fr.organisation(reply_lang))) in text_of(reply)
    assert not is_static(text), "follow-ups depend on the time: never served from the reply cache"


def test_a_trailing_language_word_overrides_the_questions_language(lookup: ReleaseLookup, release: Release) -> None:
    de = next(b for b in release.bilaterals if b.id == "de")
    assert ask("what did japan discuss with germany ja", lookup, "en").title == msg(
        "bilateral.title", "ja", number=de.number, organisation=de.organisation("ja")
    )
    assert ask("ドイツと何を話した en", lookup, "ja").title == msg(
        "bilateral.title", "en", number=de.number, organisation=de.organisation("en")
    )


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("who did we meet", "en"),
        ("フランスとの会談", "ja"),
        ("ﾌﾗﾝｽとの会談", "ja"),
        ("U.K.の大臣", "ja"),
        ("3991", None),
    ],
)
def test_question_language(text: str, lang: Lang | None) -> None:
    assert question_lang(text) == lang


@pytest.mark.parametrize("lang", LANGS)
def test_a_command_keeps_the_users_language(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    # Only questions are answered in their own language: `bilateral france` follows the user's Slack language.
    fr = next(b for b in release.bilaterals if b.id == "fr")
    assert ask("bilateral france", lookup, lang).title == msg(
        "bilateral.title", lang, number=fr.number, organisation=fr.organisation(lang)
    )


def test_a_bare_name_still_suggests_the_command(lookup: ReleaseLookup) -> None:
    text = text_of(ask("france", lookup, "en"))
    assert msg("unknown.command", "en", text="france") in text
    assert "`/g7 bilateral france`" in text


def test_every_question_word_names_nobody(lookup: ReleaseLookup) -> None:
    """The words that route a question must not be read as a country or a desk by the lookups."""
    for _name, english, _japanese in _QUESTIONS:
        for word in english:
            assert lookup.is_filler(word) or word in _words(), word
            assert not lookup.find_bilaterals(word).bilaterals, word
