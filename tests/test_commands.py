"""The pure command layer: bot.commands.answer(text, lookup=, lang=, now=) -> Reply, checked against data/."""

from __future__ import annotations

import json

import pytest

from bot.blocks import build_message
from bot.commands import answer, registry
from bot.messages import msg
from bot.release.lookup import ReleaseLookup
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from bot.text import escape
from tests.conftest import NOW
from tests.helpers import text_of

SLASH = "/g7"


def ask(text: str, lookup: ReleaseLookup, lang: Lang = "en") -> Reply:
    return answer(text, lookup=lookup, lang=lang, now=NOW, command=SLASH)


def field(reply: Reply, label: str) -> str:
    """The value of the two-column field headed `*label*`."""
    for section in reply.sections:
        for f in section.fields:
            head, _, value = f.partition("\n")
            if head == f"*{label}*":
                return value
    raise AssertionError(f"no field {label!r} in {reply!r}")


def help_title(lang: Lang) -> str:
    return msg("help.title", lang, command=SLASH)


# --- summary -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_summary_says_what_when_where_who_and_outcomes(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    reply = ask("summary", lookup, lang)
    m = release.meeting

    assert reply.title == msg("summary.title", lang)
    assert field(reply, msg("summary.what", lang)) == escape(m.name(lang))
    when = field(reply, msg("summary.when", lang))
    if lang == "ja":
        assert f"{m.start.year}年{m.start.month}月{m.start.day}日" in when
        assert f"{m.end.day}日" in when
    else:
        assert {str(m.start.day), str(m.end.day), f"{m.end:%B}", str(m.end.year)} <= set(when.replace("–", " ").split())
    where = field(reply, msg("summary.where", lang))
    assert escape(m.city(lang)) in where
    assert escape(m.country(lang)) in where
    who = field(reply, msg("summary.who", lang))
    for person in m.delegation:
        assert escape(person.name(lang)) in who
        assert escape(person.title(lang)) in who
    text = text_of(reply)
    assert msg("summary.outcomes", lang) in text
    for outcome in release.outcomes:
        assert escape(outcome.title(lang)) in text
    for topic in m.topics:
        assert escape(topic(lang)) in text


@pytest.mark.parametrize(
    "text", ["概要", "overview", "SUMMARY", "ｓｕｍｍａｒｙ"], ids=["ja-alias", "alias", "upper", "fullwidth"]
)
def test_summary_aliases(lookup: ReleaseLookup, text: str) -> None:
    assert ask(text, lookup).title == msg("summary.title", "en")


# --- bilateral ---------------------------------------------------------------------------------------------

BILATERAL_QUERIES = [
    pytest.param("france", {"fr"}, id="france"),
    pytest.param("FR", {"fr"}, id="FR"),
    pytest.param("フランス", {"fr"}, id="フランス"),
    pytest.param("仏", {"fr"}, id="仏"),
    pytest.param("ﾌﾗﾝｽ", {"fr"}, id="half-width-ﾌﾗﾝｽ"),
    pytest.param("ＦＲＡＮＣＥ", {"fr"}, id="full-width-ＦＲＡＮＣＥ"),
    pytest.param("frnace", {"fr"}, id="typo-frnace"),
    pytest.param("us", {"us"}, id="us"),
    pytest.param("usa", {"us"}, id="usa"),
    pytest.param("united states", {"us"}, id="united-states"),
    pytest.param("米国", {"us"}, id="米国"),
    pytest.param("アメリカ", {"us"}, id="アメリカ"),
    pytest.param("uk", {"uk"}, id="uk"),
    pytest.param("英国", {"uk"}, id="英国"),
    pytest.param("イギリス", {"uk"}, id="イギリス"),
    pytest.param("eu", {"eu"}, id="eu"),
    pytest.param("欧州連合", {"eu"}, id="欧州連合"),
    pytest.param("oecd", {"oecd"}, id="oecd"),
    pytest.param("germany", {"de"}, id="germany"),
    pytest.param("ドイツ", {"de"}, id="ドイツ"),
    pytest.param("kimmitt", {"us"}, id="kimmitt"),
    pytest.param("キミット", {"us"}, id="キミット"),
    pytest.param("Le Hénanff", {"fr"}, id="Le-Hénanff"),
    pytest.param("le henanff", {"fr"}, id="le-henanff-no-accent"),
    pytest.param("canada", {"ca-solomon", "ca-joly"}, id="canada-both-meetings"),
    pytest.param("ソロモン", {"ca-solomon"}, id="ソロモン-one-meeting"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("query", "expected"), BILATERAL_QUERIES)
def test_bilateral_finds_the_meetings(
    lookup: ReleaseLookup, release: Release, query: str, expected: set[str], lang: Lang
) -> None:
    assert expected <= {b.id for b in release.bilaterals}, "the expected ids must exist in the shipped release.yml"
    reply = ask(f"bilateral {query}", lookup, lang)
    text = text_of(reply)

    shown = {b.id for b in release.bilaterals if escape(b.counterpart.name(lang)) in text}
    assert shown == expected
    for b in release.bilaterals:
        if b.id in expected:
            assert escape(b.counterpart.title(lang)) in text
            assert escape(b.summary(lang)) in text
            for topic in b.topics:
                assert escape(topic(lang)) in text
    if len(expected) == 1:
        (only,) = [b for b in release.bilaterals if b.id in expected]
        assert reply.title == msg("bilateral.title", lang, number=only.number, organisation=only.organisation(lang))
    else:
        assert msg("bilateral.list_title", lang, count=len(expected)) in reply.title


def test_bilateral_note_is_shown(lookup: ReleaseLookup, release: Release) -> None:
    (solomon,) = [b for b in release.bilaterals if b.id == "ca-solomon"]
    assert solomon.note is not None
    assert escape(solomon.note("en")) in text_of(ask("bilateral solomon", lookup))


@pytest.mark.parametrize("lang", LANGS)
def test_bilateral_without_a_match_says_so_and_lists_all_eight(
    lookup: ReleaseLookup, release: Release, lang: Lang
) -> None:
    assert len(release.bilaterals) == 8
    reply = ask("bilateral atlantis", lookup, lang)
    text = text_of(reply)

    assert msg("bilateral.not_found", lang, text="atlantis") in text
    assert reply.title == msg("bilateral.list_title", lang, count=8)
    for b in release.bilaterals:
        assert escape(b.counterpart.name(lang)) in text
        assert escape(b.organisation(lang)) in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", ["bilateral", "会談", "meetings"])
def test_bilateral_without_who_lists_all_eight(lookup: ReleaseLookup, release: Release, text: str, lang: Lang) -> None:
    reply = ask(text, lookup, lang)
    body = text_of(reply)

    assert reply.title == msg("bilateral.list_title", lang, count=len(release.bilaterals))
    assert len(reply.sections) == 1, "no 'not found' lead when nobody was named"
    for b in release.bilaterals:
        assert f"({b.number})" in body
        assert escape(b.counterpart.name(lang)) in body
    assert msg("bilateral.list_hint", lang, command=SLASH) in reply.footer


# --- contact -----------------------------------------------------------------------------------------------

CONTACT_TOPICS = [
    pytest.param("ai", "ai-digital", id="ai"),
    pytest.param("AI", "ai-digital", id="AI"),
    pytest.param("ＡＩ", "ai-digital", id="full-width-ＡＩ"),
    pytest.param("デジタル", "ai-digital", id="デジタル"),
    pytest.param("digital", "ai-digital", id="digital"),
    pytest.param("blueprint", "ai-digital", id="blueprint"),
    pytest.param("trip", "general", id="trip"),
    pytest.param("general", "general", id="general"),
    pytest.param("出張", "general", id="出張"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("topic", "desk_id"), CONTACT_TOPICS)
def test_contact_gives_the_desk_for_a_topic(
    lookup: ReleaseLookup, release: Release, topic: str, desk_id: str, lang: Lang
) -> None:
    text = text_of(ask(f"contact {topic}", lookup, lang))

    for desk in release.desks:
        assert (desk.email in text) == (desk.id == desk_id)
    (desk,) = [d for d in release.desks if d.id == desk_id]
    assert escape(desk.topic(lang)) in text
    assert escape(desk.lead(lang)) in text
    assert desk.phone in text
    assert desk.extension in text
    for person in desk.staff:
        assert escape(person(lang)) in text


@pytest.mark.parametrize("lang", LANGS)
def test_contact_without_a_topic_gives_both_desks(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    text = text_of(ask("contact", lookup, lang))
    assert len(release.desks) == 2
    for desk in release.desks:
        assert desk.email in text
        assert escape(desk.topic(lang)) in text


@pytest.mark.parametrize("lang", LANGS)
def test_contact_unknown_topic_says_so_and_gives_every_desk(
    lookup: ReleaseLookup, release: Release, lang: Lang
) -> None:
    # Not a guess: the general desk is not "the" answer to a topic the release names no desk for.
    text = text_of(ask("contact zzyzx", lookup, lang))

    assert msg("contact.unknown", lang, text="zzyzx", count=len(release.desks)) in text
    assert all(d.email in text for d in release.desks)


def test_contact_email_has_at_sign_not_star(lookup: ReleaseLookup, release: Release) -> None:
    text = text_of(ask("contact", lookup))
    for desk in release.desks:
        assert "★" in desk.email_as_published
        assert desk.email == desk.email_as_published.replace("★", "@")
        assert desk.email in text
    assert "★" not in text


# --- outcomes, docs, help ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_outcomes_lists_every_point(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    reply = ask("outcomes", lookup, lang)
    text = text_of(reply)

    assert reply.title == msg("outcomes.title", lang)
    for outcome in release.outcomes:
        assert escape(outcome.title(lang)) in text
        for point in outcome.points:
            assert f"• {escape(point(lang))}" in text


@pytest.mark.parametrize("lang", LANGS)
def test_docs_lists_every_document(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    reply = ask("docs", lookup, lang)
    lines = [line for s in reply.sections for line in s.text.splitlines()]

    assert reply.title == msg("docs.title", lang)
    assert len(lines) == len(release.documents)
    for line, doc in zip(lines, release.documents, strict=True):
        assert escape(doc.title(lang)) in line
        assert escape(doc.language(lang)) in line
        if doc.size_kb:
            assert f"{doc.size_kb:,}" in line
            assert str(doc.format) in line
    assert reply.citation is not None
    assert escape(release.publisher(lang)) in reply.citation.elements[0]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", ["help", "ヘルプ", "?", ""], ids=["help", "ヘルプ", "question-mark", "empty"])
def test_help_is_generated_from_the_registry(lookup: ReleaseLookup, text: str, lang: Lang) -> None:
    reply = ask(text, lookup, lang)
    body = text_of(reply)
    visible = [c for c in registry() if not c.hidden and not c.admin]

    assert reply.title == help_title(lang)
    assert {c.name for c in visible} >= {"summary", "bilateral", "contact", "outcomes", "docs", "help"}
    for cmd in visible:
        assert f"`{SLASH} {escape(cmd.usage)}`" in body
        assert cmd.usage.split()[0] == cmd.name
        assert escape(cmd.summary(lang)) in body
        assert cmd.examples, f"{cmd.name} has no examples in its docstring"
        for example in cmd.examples:
            assert f"`{SLASH} {escape(example)}`" in body


@pytest.mark.parametrize("lang", LANGS)
def test_help_shows_admin_commands_to_admins_only(lookup: ReleaseLookup, lang: Lang) -> None:
    admin = [c for c in registry() if c.admin and not c.hidden]
    if not admin:
        pytest.skip("no admin command is registered")
    as_user = text_of(answer("help", lookup=lookup, lang=lang, now=NOW, command=SLASH))
    as_admin = text_of(answer("help", lookup=lookup, lang=lang, now=NOW, command=SLASH, is_admin=True))
    for cmd in admin:
        assert f"`{SLASH} {escape(cmd.usage)}`" not in as_user
        assert f"`{SLASH} {escape(cmd.usage)}`" in as_admin
    assert msg("help.admin", lang) in as_admin


def test_help_examples_all_work(lookup: ReleaseLookup) -> None:
    """Every example the help shows is itself a command the bot knows."""
    unknown = msg("unknown.command", "en", text="").split("“")[0]
    for cmd in registry():
        if cmd.admin or cmd.hidden:
            continue
        for example in cmd.examples:
            assert unknown not in text_of(ask(example, lookup)), example


# --- unknown input and language ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_subcommand_says_so_and_shows_help(lookup: ReleaseLookup, lang: Lang) -> None:
    reply = ask("frobnicate", lookup, lang)
    text = text_of(reply)

    assert reply.title == help_title(lang)
    assert msg("unknown.command", lang, text="frobnicate") in text
    assert msg("help.intro", lang) in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        # Close to a command, not close enough to be run as it (tests/test_typos.py: `bilatral` is run).
        pytest.param("bilatrel france", f"`{SLASH} bilateral france`", id="bilatrel-typo"),
        pytest.param("outcome", None, id="alias-not-unknown"),
        pytest.param("france", f"`{SLASH} bilateral france`", id="bare-country"),
        pytest.param("blueprint", f"`{SLASH} contact blueprint`", id="bare-desk-keyword"),
    ],
)
def test_did_you_mean(lookup: ReleaseLookup, text: str, suggestion: str | None, lang: Lang) -> None:
    reply = ask(text, lookup, lang)
    body = text_of(reply)
    if suggestion is None:
        assert reply.title != help_title(lang)
        return
    first = text.split(maxsplit=1)[0]
    assert msg("unknown.command", lang, text=first) in body
    lead = msg("unknown.did_you_mean", lang, suggestions="")
    (line,) = [line for line in body.splitlines() if line.startswith(lead)]
    assert suggestion in line.removeprefix(lead).split(" / ")
    assert msg("help.intro", lang) in body


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        pytest.param("summary en", "ja", "en", id="en-overrides-ja"),
        pytest.param("summary ja", "en", "ja", id="ja-overrides-en"),
        pytest.param("summary EN", "ja", "en", id="upper-EN"),
        pytest.param("summary english", "ja", "en", id="english"),
        pytest.param("summary 日本語", "en", "ja", id="日本語"),
        pytest.param("summary ｊａ", "en", "ja", id="full-width-ja"),
        pytest.param("summary", "ja", "ja", id="no-override-ja"),
        pytest.param("summary", "en", "en", id="no-override-en"),
    ],
)
def test_trailing_language_word_overrides_the_user_language(
    lookup: ReleaseLookup, text: str, lang: Lang, expected: Lang
) -> None:
    assert ask(text, lookup, lang).title == msg("summary.title", expected)


def test_language_word_alone_gives_help_in_that_language(lookup: ReleaseLookup) -> None:
    assert ask("en", lookup, "ja").title == help_title("en")
    assert ask("ja", lookup, "en").title == help_title("ja")


@pytest.mark.parametrize("lang", LANGS)
def test_trailing_language_word_is_not_part_of_the_query(lookup: ReleaseLookup, release: Release, lang: Lang) -> None:
    other: Lang = "ja" if lang == "en" else "en"
    reply = ask(f"bilateral france {lang}", lookup, other)
    (fr,) = [b for b in release.bilaterals if b.id == "fr"]
    assert reply.title == msg("bilateral.title", lang, number=fr.number, organisation=fr.organisation(lang))


# --- escaping ----------------------------------------------------------------------------------------------

EVIL = "<!channel> <@U123> <https://evil|x> &"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "text",
    [f"bilateral {EVIL}", f"contact {EVIL}", EVIL, f"bilatral {EVIL}", f"france {EVIL}", f"summary {EVIL}"],
    ids=["bilateral", "contact", "as-command", "typo-command", "bare-country", "ignored-args"],
)
def test_echoed_user_text_is_escaped(lookup: ReleaseLookup, text: str, lang: Lang) -> None:
    message = build_message(ask(text, lookup, lang))
    serialized = json.dumps(message, ensure_ascii=False)

    # No raw "<" at all: in mrkdwn every "<" opens a mention, a broadcast or a link.
    assert "<" not in serialized
    for raw in ("<!channel>", "<@U123>", "<https://evil|x>"):
        assert raw not in message["text"]
        assert raw.lower() not in serialized.lower()


@pytest.mark.parametrize("lang", LANGS)
def test_echo_is_escaped_in_blocks_and_text_fallback(lookup: ReleaseLookup, lang: Lang) -> None:
    message = build_message(ask(f"bilateral {EVIL}", lookup, lang))
    escaped = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|x&gt; &amp;"
    blocks = json.dumps(message["blocks"], ensure_ascii=False)

    assert escaped in message["text"]
    assert escaped in blocks


def test_echo_is_shortened(lookup: ReleaseLookup) -> None:
    text = text_of(ask("bilateral " + "q" * 300, lookup))
    assert "q" * 80 not in text
    assert "q" * 79 + "…" in text
