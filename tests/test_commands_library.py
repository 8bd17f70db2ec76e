"""Commands across a library: a selector on every command, /g7 releases, followups spanning releases, the
registry's start-up check, and a citation on every reply that states a fact of a release."""

from __future__ import annotations

import types
from zoneinfo import ZoneInfo

import pytest

from bot.commands import answer, check_registry, registry, releases
from bot.commands.base import Command, library_of
from bot.commands.followups import COMMITMENTS_FILE
from bot.library import Library
from bot.messages import msg
from bot.release.lookup import ReleaseLookup
from bot.release.models import LANGS, Lang, Release
from bot.reply import Reply
from bot.schedule.content import build_digest_reply
from bot.schedule.due import DigestItems
from bot.schedule.models import Commitment, load_commitments
from bot.text import escape
from tests.conftest import NOW
from tests.helpers import text_of
from tests.library_fixtures import ROME_ID, TOKYO_ID, library_of_three, many_releases

SHIPPED = "meti-2025-12-10-g7-idt"


@pytest.fixture(scope="module")
def shipped_commitments(release: Release) -> list[Commitment]:
    return list(load_commitments(COMMITMENTS_FILE, release=release).commitments)


@pytest.fixture(scope="module")
def library(release: Release, shipped_commitments: list[Commitment]) -> Library:
    own = [c.model_copy(update={"release_id": SHIPPED}) for c in shipped_commitments]
    # Rome has two of the same follow-ups under ids of its own.
    rome = [c.model_copy(update={"release_id": ROME_ID, "id": f"{c.id}-rome"}) for c in shipped_commitments[:2]]
    return library_of_three(release, [*own, *rome])


def ask(text: str, library: Library, lang: Lang = "en") -> Reply:
    return answer(text, library=library, lang=lang, now=NOW)


def cited_release(reply: Reply, library: Library) -> str:
    """The id of the one release the reply's citation names."""
    assert reply.citation is not None, text_of(reply)
    named = [e.id for e in library if e.release.title("en") in reply.citation.elements[0]]
    assert len(named) == 1, reply.citation.elements
    return named[0]


# --- a selector on every command ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", ["summary", "bilateral", "bilateral france", "contact", "contact ai", "outcomes", "docs"]
)
@pytest.mark.parametrize(("selector", "expected"), [("", SHIPPED), ("@rome", ROME_ID), ("＠2023", TOKYO_ID)])
def test_every_single_release_command_reads_the_selected_release(
    library: Library, command: str, selector: str, expected: str
) -> None:
    reply = ask(f"{command} {selector}", library)
    assert cited_release(reply, library) == expected


def test_the_selected_release_is_what_the_command_shows(library: Library) -> None:
    def meeting(text: str, lang: Lang = "en") -> str:
        return ask(text, library, lang).sections[0].text  # the meeting itself, before "also met"

    assert "Dupont" in meeting("bilateral france @rome")
    assert "Dupont" not in meeting("bilateral france")
    assert "マルタン" in meeting("@2023-04-30 bilateral france", "ja")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("command", ["summary", "bilateral france", "contact", "outcomes", "docs"])
def test_a_selector_matching_several_asks_to_pick_one(library: Library, command: str, lang: Lang) -> None:
    reply = ask(f"{command} @g7", library, lang)
    assert reply.title == msg("select.title", lang)
    text = text_of(reply)
    assert msg("select.several", lang, text="@g7", count=3) in text
    for entry in library:
        assert f"`{entry.id}`" in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("command", ["summary", "bilateral", "followups", "releases", "search 量子"])
def test_a_selector_matching_nothing_says_what_exists(library: Library, command: str, lang: Lang) -> None:
    reply = ask(f"{command} @1999", library, lang)
    text = text_of(reply)
    assert msg("select.none", lang, text="@1999", count=3) in text
    assert msg("select.hint", lang, command="/g7") in text


def test_search_reads_the_selected_release(library: Library) -> None:
    reply = ask("search 量子 @rome", library)
    assert cited_release(reply, library) == ROME_ID


def test_help_says_how_to_select(library: Library) -> None:
    for lang in LANGS:
        assert msg("help.selector", lang, command="/g7") in text_of(ask("help", library, lang))


# --- /g7 releases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_releases_lists_newest_first_with_ids_and_counts(library: Library, lang: Lang) -> None:
    reply = ask("releases", library, lang)
    assert reply.title == msg("releases.title", lang, count=3)
    text = reply.sections[0].text
    assert text.index(SHIPPED) < text.index(ROME_ID) < text.index(TOKYO_ID)
    shipped = library.get(SHIPPED)
    assert shipped is not None
    counts = msg(
        "releases.counts", lang, bilaterals=len(shipped.release.bilaterals), followups=len(shipped.commitments)
    )
    assert f"`{SHIPPED}` — {counts}" in text
    assert msg("releases.counts", lang, bilaterals=8, followups=2) in text  # Rome's two
    assert msg("releases.counts", lang, bilaterals=8, followups=0) in text
    assert msg("releases.default", lang) in text.splitlines()[0]


def test_releases_narrowed_by_a_selector(library: Library) -> None:
    reply = ask("releases @2024", library)
    assert ROME_ID in text_of(reply) and SHIPPED not in text_of(reply) and TOKYO_ID not in text_of(reply)


def test_releases_is_bounded_and_pages(release: Release) -> None:
    big = Library.of(many_releases(release, 25))
    first = ask("releases", big)
    assert first.sections[0].text.count("\n• ") + 1 == releases.PER_PAGE
    assert any("`/g7 releases page 2`" in line for line in first.footer)
    third = ask("releases page 3", big)
    listed = third.sections[0].text
    assert listed.count("• ") == 5
    assert "copy-020" in listed and "copy-024" in listed and "copy-019" not in listed
    assert not any("page 4" in line for line in third.footer)
    narrowed = ask("releases @2024", big)
    # 2024: twelve copies, so two pages, and the next page keeps the selector.
    assert any("`/g7 releases @2024 page 2`" in line for line in narrowed.footer)


# --- followups across releases ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_followups_span_every_release_and_each_line_names_its_own(
    library: Library, shipped_commitments: list[Commitment], lang: Lang
) -> None:
    reply = ask("followups", library, lang)
    assert reply.title == msg("followups.title", lang, count=len(shipped_commitments) + 2)
    text = text_of(reply)
    assert msg("followups.releases", lang, count=2) in text
    rome = library.get(ROME_ID)
    assert rome is not None
    assert text.count(rome.release.title(lang)) == 2
    assert reply.citation is not None
    assert len(reply.citation.elements) == 2
    assert library.newest.release.title(lang) in reply.citation.elements[0]
    assert rome.release.title(lang) in reply.citation.elements[1]


def test_followups_of_one_selected_release(library: Library) -> None:
    reply = ask("followups @rome", library)
    rome = library.get(ROME_ID)
    assert rome is not None and rome.release.meeting is not None
    # Named by the one release shown, not "G7 follow-ups" whatever the release.
    assert reply.title == msg("followups.title_of", "en", name=escape(rome.release.meeting.name("en")), count=2)
    assert cited_release(reply, library) == ROME_ID
    assert msg("followups.releases", "en", count=2) not in text_of(reply)


@pytest.mark.parametrize("lang", LANGS)
def test_followups_footer_names_the_file_of_the_release_shown(library: Library, lang: Lang) -> None:
    """Follow-ups live in each release's folder: the footer names that file, never a data/commitments.yml."""
    one = "\n".join(ask("followups @rome", library, lang).footer)
    assert f"`data/releases/{ROME_ID}/commitments.yml`" in one
    assert "data/commitments.yml" not in one and SHIPPED not in one
    several = "\n".join(ask("followups", library, lang).footer)
    assert msg("followups.file_each", lang) in several
    assert "data/commitments.yml" not in several and ROME_ID not in several


def test_followups_filter_reads_each_release(library: Library) -> None:
    reply = ask("followups france", library)
    # France's follow-up in the shipped release and its copy in Rome.
    assert reply.title == msg("followups.title", "en", count=2)
    assert reply.citation is not None and len(reply.citation.elements) == 2


# --- answer(lookup=) until every caller passes the library -------------------------------------------------


def test_lookup_alone_is_a_library_of_one_built_once(lookup: ReleaseLookup) -> None:
    assert library_of(lookup) is library_of(lookup)
    assert library_of(lookup).default.lookup is lookup
    first = answer("summary", lookup=lookup, lang="en", now=NOW)
    assert first.citation is not None
    with pytest.raises(TypeError):
        answer("summary", lang="en", now=NOW)


# --- the registry's start-up check ---------------------------------------------------------------------------


def _module(name: str, doc: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(f"bot.commands.{name}", doc)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


def test_registry_refuses_a_word_two_commands_share() -> None:
    first = Command.from_module(_module("alpha", "Alpha.", run=lambda ask: None, ALIASES=("a", "共有")))
    second = Command.from_module(_module("beta", "Beta.", run=lambda ask: None, ALIASES=("共有",)))
    with pytest.raises(TypeError, match=r"共有.*alpha.*beta"):
        check_registry([first, second])
    # A command's name clashing with another's alias, after normalising (full-width, case).
    third = Command.from_module(_module("gamma", "Gamma.", run=lambda ask: None, ALIASES=("ＢＥＴＡ",)))
    with pytest.raises(TypeError, match="beta"):
        check_registry([second, third])
    assert check_registry([first]) == [first]


def test_registry_refuses_a_module_without_run() -> None:
    with pytest.raises(TypeError, match="no run"):
        Command.from_module(_module("broken", "Broken."))


def test_the_shipped_registry_passes_its_check() -> None:
    names = [c.name for c in registry()]
    assert check_registry(registry()) == registry()
    assert "releases" in names


# --- a citation on every reply stating a fact of a release -----------------------------------------------------

FACTS = [
    "summary",
    "bilateral",
    "bilateral france",
    "bilateral france germany",
    "bilateral france history",
    "bilateral narnia",
    "contact",
    "contact ai",
    "contact 3991",
    "contact narnia",
    "outcomes",
    "docs",
    "followups",
    "followups france",
    "search 量子",
    "what did japan discuss with germany",
    "量子",
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", FACTS)
def test_every_fact_stating_reply_ends_with_its_citation(lookup: ReleaseLookup, text: str, lang: Lang) -> None:
    reply = answer(text, lookup=lookup, lang=lang, now=NOW)
    assert reply.citation is not None, f"{text!r}: {text_of(reply)}"
    # A question or a topic is answered in the language it is typed in.
    assert any(lookup.release.title(lang) in reply.citation.elements[0] for lang in LANGS)


def test_every_command_of_the_registry_is_walked() -> None:
    """FACTS covers every command that states facts of a release (releases, help, admin state none)."""
    stating = {c.name for c in registry()} - {"releases", "help", "admin"}
    walked = {t.split()[0] for t in FACTS}
    assert stating <= walked


def test_a_digest_spanning_releases_cites_each_commitment_in_its_own(library: Library) -> None:
    shipped, rome = library.get(SHIPPED), library.get(ROME_ID)
    assert shipped is not None and rome is not None
    items = DigestItems(
        today=NOW.date(), lookahead_days=400, recent_days=7, upcoming=[shipped.commitments[0], rome.commitments[0]]
    )

    def release_of(c: Commitment) -> Release:
        entry = library.get(c.release_id or "")
        assert entry is not None
        return entry.release

    reply = build_digest_reply(items, lang="en", now=NOW, tz=ZoneInfo("Asia/Tokyo"), release=release_of)
    assert reply.citation is not None and len(reply.citation.elements) == 2
    assert shipped.release.title("en") in reply.citation.elements[0]
    assert rome.release.title("en") in reply.citation.elements[1]
    one = build_digest_reply(items, lang="en", now=NOW, tz=ZoneInfo("Asia/Tokyo"), release=shipped.release)
    assert one.citation is not None and shipped.release.title("en") in one.citation.elements[0]
    assert not any(rome.release.title("en") in e for e in one.citation.elements)
