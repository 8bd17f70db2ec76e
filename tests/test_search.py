"""`/g7 search`: Japanese n-grams and English words over the release text and data, ranked, grouped, paged."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from bot.blocks import MAX_BLOCKS, MAX_FALLBACK, MAX_SECTION_TEXT, build_message
from bot.commands import answer
from bot.commands.search import PER_PAGE, highlight, release_name, split_page
from bot.messages import msg
from bot.release.loader import COMMITMENTS_FILE, RELEASE_DIR
from bot.release.lookup import ReleaseLookup
from bot.release.models import LANGS, Label, Lang, Release
from bot.reply import Reply
from bot.schedule.models import load_commitments
from bot.search.corpus import Corpus
from bot.search.index import SearchIndex
from bot.search.loaded import index_for, source_lines
from bot.search.tokens import fold, fold_text, query_words, stem
from bot.settings import DATA_DIR
from tests.conftest import NOW
from tests.helpers import text_of

SLASH = "/g7"


def ask(text: str, lookup: ReleaseLookup, lang: Lang = "en") -> Reply:
    return answer(text, lookup=lookup, lang=lang, now=NOW, command=SLASH)


@pytest.fixture(scope="module")
def source(release: Release) -> list[str]:
    return (RELEASE_DIR / release.source_file).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def index(lookup: ReleaseLookup) -> SearchIndex:
    return index_for(lookup, data_dir=DATA_DIR)


def lines_found(index: SearchIndex, query: str, *, per_page: int = 100) -> list[int | None]:
    """The source line of every hit, best first (None for a record not in the text)."""
    results = index.search(query, per_page=per_page)
    return [h.doc.passage.line for g in results.groups for h in g.hits]


# --- what each kind of word finds --------------------------------------------------------------------------

# (query, a line that must be found, text every found source line holds)
FINDS = [
    pytest.param("仏", 45, "フランス", id="ja-one-kanji-alias-france"),
    pytest.param("会談", 25, "会談", id="ja-two-chars-meeting"),
    pytest.param("関税", 41, "関税", id="ja-two-chars-tariff"),
    pytest.param("量子", 13, "量子", id="ja-two-chars-quantum"),
    pytest.param("鉄鋼", 41, "鉄鋼", id="ja-steel"),
    pytest.param("ふらんす", 45, "フランス", id="ja-hiragana-folds-to-katakana"),
    pytest.param("ＯＥＣＤ", 43, "OECD", id="full-width-latin"),
    pytest.param("semiconductors", 32, "半導体", id="en-plural-via-structured-english"),
    pytest.param("semiconductor", 45, "半導体", id="en-singular"),
    pytest.param("steel", 41, "鉄鋼", id="en-steel"),
    pytest.param("tariffs", 41, "関税", id="en-tariffs"),
    pytest.param("quantum 量子", 43, "量子", id="mixed-en-ja"),
    pytest.param("AI 半導体", 45, "半導体", id="mixed-latin-in-japanese"),
    pytest.param("量子について", 43, "量子", id="ja-particles-dropped"),
    pytest.param("what did we say about quantum", 43, "量子", id="en-stopwords-dropped"),
]


@pytest.mark.parametrize(("query", "line", "held"), FINDS)
def test_a_word_finds_the_sentences_that_hold_it(
    index: SearchIndex, source: list[str], query: str, line: int, held: str
) -> None:
    found = lines_found(index, query)
    assert line in found
    for number in found:
        if number is not None:
            assert held in source[number - 1], (query, number)


def test_semiconductors_finds_the_japanese_lines_only_through_the_english(
    index: SearchIndex, source: list[str]
) -> None:
    lines = {n for n in lines_found(index, "semiconductors") if n is not None}
    # The declaration's point on the G7 Semiconductors PoC Group, the EU meeting and the French meeting.
    assert lines == {20, 32, 45}
    assert all("半導体" in source[n - 1] for n in lines)
    assert not any("semiconductor" in source[n - 1].lower() for n in lines)


def test_quantum_in_japanese_finds_every_japanese_sentence_with_it(index: SearchIndex, source: list[str]) -> None:
    lines = {n for n in lines_found(index, "量子") if n is not None}
    assert lines == {n for n, text in enumerate(source, start=1) if "量子" in text}


def test_short_words_do_not_match_inside_other_words(index: SearchIndex) -> None:
    # "ai" is a word: "said" or "Taiwan" must not count; "us" (a stopword) searches nothing.
    for hit in (h for g in index.search("ai", per_page=100).groups for h in g.hits):
        assert re.search(r"(?<![a-z])ai(?![a-z])", hit.doc.folded)
    assert query_words("us") == []


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("semiconductors", "semiconductor"),
        ("policies", "policy"),
        ("tariffs", "tariff"),
        ("us", "us"),
        ("business", "business"),
        ("analysis", "analysis"),
        ("ai", "ai"),
    ],
)
def test_plurals_are_made_singular_simply(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


# --- ranking -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "first"),
    [
        pytest.param("鉄鋼", [41], id="steel-ja"),
        pytest.param("steel tariffs", [41], id="steel-en-two-words"),
        # The short sentence about the OECD's work, then its heading, and the long list of every counterpart last.
        pytest.param("OECD", [43, 42], id="oecd-short-before-long"),
        pytest.param("会談", [25, 8, 26], id="meeting-heading-first-long-list-last"),
    ],
)
def test_ranking_order(index: SearchIndex, query: str, first: list[int]) -> None:
    lines = [n for n in lines_found(index, query) if n is not None]
    assert lines[: len(first)] == first
    if query == "OECD":
        assert lines[-1] == 26


def test_a_sentence_with_every_word_comes_before_one_with_some(index: SearchIndex) -> None:
    results = index.search("france semiconductor", per_page=100)
    assert results.every_word
    top = results.groups[0].hits[0]
    assert top.doc.passage.line == 45
    some = index.search("鉄鋼 xyzzy", per_page=100)
    assert not some.every_word and some.total == 1


def test_the_teams_plans_come_after_what_the_release_says(index: SearchIndex) -> None:
    hits = [h for g in index.search("semiconductors", per_page=100).groups for h in g.hits]
    plans = [i for i, h in enumerate(hits) if h.doc.passage.team_plan]
    assert plans and min(plans) >= 3


# --- the reply -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_reply_shows_the_sentence_in_bold_with_its_citation(
    lookup: ReleaseLookup, release: Release, lang: Lang
) -> None:
    reply = ask("search 鉄鋼", lookup, lang)
    hit = reply.sections[2].text
    assert "\u200b*鉄鋼*\u200b" in hit
    assert msg("search.cite_line", lang, release=release_name(release, lang), lines=41) in hit
    assert release.title(lang) in reply.sections[1].text


@pytest.mark.parametrize(
    ("text", "lang", "shown"),
    [
        ("search semiconductors", "en", "\u200b*semiconductor*\u200b"),
        ("search semiconductors", "ja", "半導体"),
        ("search 量子", "en", "\u200b*量子*\u200b"),
        ("search steel ja", "en", "鉄鋼製品"),
    ],
)
def test_answers_in_the_users_language(lookup: ReleaseLookup, text: str, lang: Lang, shown: str) -> None:
    reply = ask(text, lookup, lang)
    assert shown in reply.sections[2].text


def test_the_english_reply_cites_the_line_of_the_japanese_original(lookup: ReleaseLookup, source: list[str]) -> None:
    reply = ask("search steel", lookup, "en")
    cited = re.search(r"line (\d+)", reply.sections[2].text)
    assert cited is not None and "鉄鋼" in source[int(cited.group(1)) - 1]


def test_paging(lookup: ReleaseLookup, index: SearchIndex) -> None:
    total = index.search("量子").total
    assert total > PER_PAGE
    first = ask("search 量子", lookup, "en")
    more = total - PER_PAGE
    assert first.footer == [msg("search.more", "en", more=more, command=SLASH, query="量子", next=2)]
    second = ask("search 量子 page 2", lookup, "en")
    assert (
        msg("search.count", "en", query="量子", total=total, first=PER_PAGE + 1, last=min(total, 2 * PER_PAGE))
        in second.sections[0].text
    )
    pages = [index.search("量子", page=p) for p in (1, 2)]
    ids = [h.doc.id for r in pages for g in r.groups for h in g.hits]
    assert len(ids) == len(set(ids)) == min(total, 2 * PER_PAGE)
    # Past the last page: the last page, not an empty reply.
    assert index.search("量子", page=99).page == pages[-1].pages


@pytest.mark.parametrize(
    ("typed", "query", "page"),
    [
        ("量子 page 2", "量子", 2),
        ("量子 p2", "量子", 2),
        ("量子 2ページ", "量子", 2),
        ("steel", "steel", 1),
        ("g7 2", "g7 2", 1),
        ("page 2", "page 2", 1),
    ],
)
def test_split_page(typed: str, query: str, page: int) -> None:
    assert split_page(typed) == (query, page)


@pytest.mark.parametrize("lang", LANGS)
def test_no_match_says_so_and_suggests_words(lookup: ReleaseLookup, lang: Lang) -> None:
    reply = ask("search quantom", lookup, lang)
    text = text_of(reply)
    assert msg("search.none", lang, query="quantom") in text
    assert f"`{SLASH} search quantum`" in text
    nothing = text_of(ask("search zzqx", lookup, lang))
    assert f"`{SLASH} search" in nothing


def test_search_without_words_explains_itself(lookup: ReleaseLookup) -> None:
    assert msg("search.usage", "en", command=SLASH) in text_of(ask("search", lookup, "en"))


# --- a topic typed without a command ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [("quantum", "en"), ("量子", "ja"), ("steel", "en"), ("鉄鋼", "ja"), ("semiconductors", "en"), ("関税 en", "en")],
)
def test_a_topic_word_searches_instead_of_no_such_command(lookup: ReleaseLookup, text: str, lang: Lang) -> None:
    # The user's Slack language is the other one: the reply follows the language the topic was typed in.
    reply = ask(text, lookup, "ja" if lang == "en" else "en")
    query = text.split(maxsplit=1)[0]
    assert reply.title == msg("search.title", lang, query=query)
    assert msg("unknown.command", lang, text=query) not in text_of(reply)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a word near a command, not near enough to be run as it (`sumary` is: tests/test_typos.py), gets "did you mean"
        ("sumery", "summary"),
        ("xyzzy", None),  # found nowhere: no such command
        ("france", "bilateral"),  # a name still suggests the command that takes it
    ],
)
def test_other_unknown_words_still_get_no_such_command(lookup: ReleaseLookup, text: str, expected: str | None) -> None:
    reply = ask(text, lookup, "en")
    body = text_of(reply)
    assert msg("unknown.command", "en", text=text) in body
    if expected:
        assert f"`{SLASH} {expected}" in body


# --- escaping and Slack's limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["<!channel> 量子", "<@U0123> steel", "<!here|here> quantum", "&lt;!everyone&gt; 鉄鋼"]
)
def test_no_live_mention_is_echoed(lookup: ReleaseLookup, typed: str) -> None:
    message = build_message(ask(f"search {typed}", lookup, "en"))
    # Slack reads mentions in mrkdwn and in the fallback text; a plain_text header shows them as typed.
    mrkdwn = [message["text"], *re.findall(r'"text": "((?:[^"\\]|\\.)*)", "type": "mrkdwn"', json.dumps(message))]
    assert len(mrkdwn) > 3
    assert not any(re.search(r"<[!@#]", text) for text in mrkdwn)


def test_data_is_escaped_around_the_bold() -> None:
    words = tuple(query_words("r&d"))
    assert highlight("R&D <b> & more", words) == "\u200b*R*\u200b&amp;\u200b*D*\u200b &lt;b&gt; &amp; more"


def test_a_long_sentence_is_cut_around_its_match() -> None:
    text = "あ" * 500 + "量子" + "い" * 500
    shown = highlight(text, tuple(query_words("量子")), limit=100)
    assert "\u200b*量子*\u200b" in shown and shown.startswith("…") and shown.endswith("…")
    assert len(shown) < 120


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("query", ["ai", "g7", "量子", "の", "会談 AI 量子 半導体 鉄鋼 関税 steel quantum oecd france"])
def test_the_longest_replies_fit_block_kit(lookup: ReleaseLookup, lang: Lang, query: str) -> None:
    message = build_message(ask(f"search {query}", lookup, lang))
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert len(message["text"]) <= MAX_FALLBACK
    for block in message["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT


# --- several releases (the library to come) ----------------------------------------------------------------------


def test_results_are_grouped_by_release(release: Release) -> None:
    commitments = load_commitments(COMMITMENTS_FILE, release=release).commitments
    lines = source_lines(RELEASE_DIR, release.source_file)
    older = release.model_copy(
        update={
            "id": "older",
            "published": dt.date(2024, 7, 22),
            "title": Label(ja="以前の発表", en="An earlier release"),
        }
    )
    index = SearchIndex.build([Corpus(release, lines, commitments), Corpus(older, lines[:30], ())])
    results = index.search("量子", per_page=100)
    assert [g.release.id for g in results.groups] == [release.id, "older"]
    assert all(h.doc.passage.line is None or h.doc.passage.line <= 30 for h in results.groups[1].hits)
    assert sum(len(g.hits) for g in results.groups) == results.total


def test_the_index_is_built_once_per_loaded_release(lookup: ReleaseLookup, release: Release) -> None:
    assert index_for(lookup, data_dir=DATA_DIR) is index_for(lookup, data_dir=DATA_DIR)
    assert index_for(ReleaseLookup(release), data_dir=DATA_DIR) is not index_for(lookup, data_dir=DATA_DIR)


@pytest.mark.parametrize("text", ["ＡＢＣ　ふらんす Hénanff ㈱ ｶﾞ\nx", "鉄鋼製品への関税割当措置", "R&D <b>"])
def test_the_fast_fold_is_the_fold(text: str) -> None:
    assert fold_text(text) == fold(text)[0]
    assert len(fold(text)[1]) == len(fold(text)[0])


@pytest.mark.parametrize("lang", LANGS)
def test_the_reply_cites_every_line_it_shows(lookup: ReleaseLookup, source: list[str], lang: Lang) -> None:
    reply = ask("search 量子", lookup, lang)
    assert reply.citation is not None
    shown = {int(n) for n in re.findall(r"(\d+)行目" if lang == "ja" else r"line (\d+)", text_of(reply))}
    assert shown and set(reply.citation.lines) == shown
    assert all("量子" in source[n - 1] for n in shown)
    assert ask("search zzqx", lookup, lang).citation is None


def test_the_plain_text_header_never_echoes_what_was_typed(lookup: ReleaseLookup) -> None:
    # A header is plain text: an escaped "<" would show as "&lt;", an unescaped one as markup to the fuzz
    # invariant. What was searched is echoed, escaped, in the mrkdwn text below instead.
    reply = ask("search &lt;!channel&gt; france", lookup, "en")
    assert reply.title == "Search"
    assert "&lt;!channel&gt;" in reply.sections[0].text
