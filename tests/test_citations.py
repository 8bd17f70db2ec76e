"""Every factual reply ends with its citation, whose line numbers point at lines of the original that hold its facts."""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from bot.blocks import CITATION_BLOCK_ID, MAX_CITATION_TEXT, MAX_CONTEXT_ELEMENTS, MAX_FALLBACK, build_message
from bot.commands import answer, bilateral
from bot.commands.base import Ask
from bot.messages import format_date
from bot.release import citation
from bot.release.citation import cite, register_source, source_index
from bot.release.loader import COMMITMENTS_FILE, RELEASE_DIR
from bot.release.lookup import ReleaseLookup
from bot.release.models import LANGS, Bilateral, Lang, Release, Text
from bot.reply import Reply, Section
from bot.schedule.content import build_digest_reply, build_reminder_reply, build_resolved_reply
from bot.schedule.due import digest_items
from bot.schedule.models import Commitment, load_commitments
from bot.schedule.occurrence import Occurrence
from tests.conftest import NOW
from tests.helpers import text_of

TOKYO = ZoneInfo("Asia/Tokyo")
COMMITMENTS = load_commitments(COMMITMENTS_FILE).commitments

FACTUAL = [
    "summary",
    "bilateral",
    "bilateral france",
    "bilateral us",
    "bilateral canada",
    "bilateral france germany",
    "bilateral eu",
    "bilateral frnace",
    "bilateral nowhere-land",
    "contact",
    "contact ai",
    "contact 出張",
    "contact quantum",
    "outcomes",
    "docs",
    "followups",
    "followups france",
    "followups ai",
]
WITHOUT_FACTS = ["help", "", "ヘルプ"]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _source(release: Release) -> list[str]:
    """The original text's lines, read here in the test (line n is element n - 1)."""
    return (RELEASE_DIR / release.source_file).read_text(encoding="utf-8").splitlines()


def _japanese(obj: object) -> Iterator[str]:
    if isinstance(obj, Text):
        yield obj.ja
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _japanese(getattr(obj, name))
    elif isinstance(obj, list):
        for item in obj:
            yield from _japanese(item)


def _facts(release: Release) -> list[tuple[str, str]]:
    """(as the original writes it, as a Japanese reply shows it) for every fact a reply can show."""
    pairs = [(v, v) for v in _japanese(release)]
    for d in release.desks:
        pairs += [(d.phone, d.phone), (d.extension, d.extension), (d.email_as_published, d.email)]
    for p in [*release.meeting.delegation, *(b.counterpart for b in release.bilaterals)]:
        pairs.append((p.named("ja"), p.named("ja")))
    pairs += [(f"{d.size_kb:,}KB", f"{d.size_kb:,}KB") for d in release.documents if d.size_kb]
    m = release.meeting
    for day in (m.start, m.end, m.trip_start, m.trip_end):
        pairs += [(f"{day.month}月{day.day}日", f"{day.month}月{day.day}日"), (f"{day.day}日(", f"{day.day}日(")]
    return [(src, shown) for src, shown in pairs if len(src) >= 2]


def _shown(reply: Reply) -> str:
    """What the reply says (not its citation); a follow-up's title stands for its detail, which it labels."""
    text = text_of(reply)
    quoted = [c.detail.ja for c in COMMITMENTS if f"• *{c.title.ja}*" in text]
    return _norm("\n".join([text, *quoted]))


def assert_cites_its_facts(reply: Reply, release: Release) -> list[int]:
    """Every cited line holds a fact the (Japanese) reply shows, and every fact said on one line only is cited."""
    assert reply.citation is not None
    lines = _source(release)
    shown = _shown(reply)
    facts = [(_norm(src), _norm(seen)) for src, seen in _facts(release) if _norm(seen) in shown]
    cited = reply.citation.lines
    assert cited, "a factual reply cites at least one line"
    for n in cited:
        assert 1 <= n <= len(lines)
        line = _norm(lines[n - 1])
        held = [src for src, _ in facts if src in line]
        assert held, f"line {n} ({line[:40]}…) holds no fact the reply shows"
    for src, _ in facts:
        where = [i for i, line in enumerate(lines, start=1) if src in _norm(line)]
        if len(src) >= 8 and len(where) == 1:
            assert where[0] in cited, f"{src[:30]}… is shown but its line {where[0]} is not cited"
    return cited


def assert_ends_with_citation(reply: Reply, release: Release, lang: Lang) -> None:
    assert reply.citation is not None
    message = build_message(reply)
    last = message["blocks"][-1]
    assert last["type"] == "context" and last["block_id"] == CITATION_BLOCK_ID
    texts = [e["text"] for e in last["elements"]]
    assert texts == reply.citation.elements
    assert format_date(release.published, lang) in texts[0]
    assert release.title(lang) in texts[0].replace("&#39;", "'")
    assert f"data/releases/{release.id}/{release.source_file}" in texts[1]
    assert all(str(n) in texts[1] for n in (reply.citation.lines[0], reply.citation.lines[-1]))
    assert message["text"].endswith("\n".join(texts)), "the plain-text fallback carries the citation too"
    # Only one citation, and nothing after it.
    assert [b.get("block_id") for b in message["blocks"]].count(CITATION_BLOCK_ID) == 1


def ask(text: str, lookup: ReleaseLookup, lang: Lang) -> Reply:
    return answer(text, lookup=lookup, lang=lang, now=NOW, is_admin=False)


# --- commands ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", FACTUAL)
def test_a_factual_reply_ends_with_its_citation(text: str, lang: Lang, lookup: ReleaseLookup, release: Release) -> None:
    assert_ends_with_citation(ask(text, lookup, lang), release, lang)


@pytest.mark.parametrize("text", FACTUAL)
def test_cited_lines_hold_the_facts_shown(text: str, lookup: ReleaseLookup, release: Release) -> None:
    ja = assert_cites_its_facts(ask(text, lookup, "ja"), release)
    en = ask(text, lookup, "en").citation
    # English shows the same facts, translated: it cites the same Japanese lines.
    assert en is not None and en.lines == ja


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bilateral france", {26, 44, 45}),
        ("bilateral us", {26, 27, 28}),
        ("contact ai", {61, 62, 63, 64, 65}),
        ("contact 出張", {56, 57, 58, 59, 60}),
        ("docs", {47, 49, 51, 53}),
        ("outcomes", {15, *range(16, 25)}),
    ],
    ids=["france", "us", "ai-desk", "trip-desk", "docs", "outcomes"],
)
def test_known_lines_of_the_shipped_release(
    text: str, expected: set[int], lookup: ReleaseLookup, release: Release
) -> None:
    """Spot checks read off the original by hand: the meeting's heading and paragraph, the desk's block."""
    reply = ask(text, lookup, "ja")
    assert reply.citation is not None
    assert expected <= set(reply.citation.lines)


def test_a_phone_number_two_desks_share_is_cited_in_its_own_desk(lookup: ReleaseLookup, release: Release) -> None:
    """03-3501-1511 is on lines 59 and 64: each desk cites its own line, not the other desk's."""
    lines = _source(release)
    general = ask("contact 出張", lookup, "ja").citation
    ai = ask("contact ai", lookup, "ja").citation
    assert general is not None and ai is not None
    phone = [i for i, line in enumerate(lines, start=1) if "03-3501-1511" in line]
    assert len(phone) == 2
    assert phone[0] in general.lines and phone[1] not in general.lines
    assert phone[1] in ai.lines and phone[0] not in ai.lines
    assert not set(general.lines) & set(ai.lines), "each desk cites its own block only"


def _meeting_sections(release: Release) -> dict[int, range]:
    """The lines of each numbered meeting under 2.二国間会談, from its heading (1)… to the next one."""
    lines = _source(release)
    start = next(i for i, line in enumerate(lines, start=1) if line.startswith("2.二国間会談"))
    end = next(i for i, line in enumerate(lines, start=1) if i > start and line.startswith("関連資料"))
    heads = [i for i in range(start + 1, end) if re.match(r"^\((\d+)\)", lines[i - 1])]
    return {n: range(h, nxt) for n, (h, nxt) in enumerate(zip(heads, [*heads[1:], end], strict=True), start=1)}


@pytest.mark.parametrize("number", range(1, 9))
def test_a_meeting_cites_its_own_section_and_no_other_meeting_s(
    number: int, lookup: ReleaseLookup, release: Release
) -> None:
    """井野副大臣, カナダ or 量子 are said in several meetings: each meeting cites its own lines, never another's."""
    sections = _meeting_sections(release)
    assert len(sections) == len(release.bilaterals)
    b = next(b for b in release.bilaterals if b.number == number)
    reply = build_bilateral_reply(b, lookup)
    assert f"({number})" in reply.title and reply.citation is not None
    cited = set(reply.citation.lines)
    lines = _source(release)
    own = {n for n in sections[number] if lines[n - 1].strip()}
    others = set().union(*(set(r) for n, r in sections.items() if n != number))
    assert own <= cited, f"meeting ({number}): its heading and paragraph are cited"
    assert not cited & others, f"meeting ({number}) cites another meeting's lines {sorted(cited & others)}"


def build_bilateral_reply(b: Bilateral, lookup: ReleaseLookup) -> Reply:
    return bilateral.run(
        Ask(args=(b.id,), raw_args=b.counterpart.name.ja, lang="ja", now=NOW, lookup=lookup, command="/g7")
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", WITHOUT_FACTS, ids=["help", "empty", "help-ja"])
def test_help_and_errors_carry_no_citation(text: str, lang: Lang, lookup: ReleaseLookup) -> None:
    reply = ask(text, lookup, lang)
    assert reply.citation is None
    assert all(b.get("block_id") != CITATION_BLOCK_ID for b in build_message(reply)["blocks"])


# --- digests and reminders --------------------------------------------------------------------------


def _digest(lang: Lang, release: Release, now: dt.datetime) -> Reply:
    items = digest_items(COMMITMENTS, {}, now, tz=TOKYO, lookahead_days=400, recent_days=7)
    return build_digest_reply(items, lang=lang, now=now, tz=TOKYO, release=release)


@pytest.mark.parametrize("lang", LANGS)
def test_a_digest_cites_the_lines_its_follow_ups_quote(lang: Lang, release: Release) -> None:
    reply = _digest(lang, release, dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    assert_ends_with_citation(reply, release, lang)
    cited = assert_cites_its_facts(_digest("ja", release, dt.datetime(2026, 1, 5, tzinfo=dt.UTC)), release)
    assert reply.citation is not None and reply.citation.lines == cited


def test_an_empty_digest_states_no_fact_and_cites_nothing(release: Release) -> None:
    reply = build_digest_reply(
        digest_items([], {}, NOW, tz=TOKYO, lookahead_days=14, recent_days=7),
        lang="en",
        now=NOW,
        tz=TOKYO,
        release=release,
    )
    assert reply.citation is None


def _occurrence(c: Commitment) -> Occurrence:
    at = dt.datetime.combine(c.due, dt.time(9), tzinfo=TOKYO)
    return Occurrence(kind="reminder", key=f"reminder:{c.id}:d0", channel="C0123456789", at=at, commitment_id=c.id)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("c", COMMITMENTS, ids=[c.id for c in COMMITMENTS])
def test_a_reminder_cites_its_quote_its_source_and_its_desk(c: Commitment, lang: Lang, release: Release) -> None:
    reply = build_reminder_reply(c, _occurrence(c), lang=lang, release=release, state=None)
    assert_ends_with_citation(reply, release, lang)
    ja = assert_cites_its_facts(
        build_reminder_reply(c, _occurrence(c), lang="ja", release=release, state=None), release
    )
    assert reply.citation is not None and reply.citation.lines == ja
    detail = [i for i, line in enumerate(_source(release), start=1) if _norm(c.detail.ja) in _norm(line)]
    assert detail and set(detail) <= set(ja)
    # After a press, the updated message keeps its citation.
    resolved = build_resolved_reply(c, action="done", user_id="U0123", lang=lang, release=release, when=NOW, tz=TOKYO)
    assert resolved.citation == reply.citation


# --- limits, links and the cache --------------------------------------------------------------------

LONGEST = ["bilateral", "bilateral canada france germany us uk eu oecd", "followups", "contact", "summary"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("text", LONGEST)
def test_the_longest_replies_stay_within_slack_s_limits(text: str, lang: Lang, lookup: ReleaseLookup) -> None:
    message = build_message(ask(text, lookup, lang))  # slack_sdk checks every block here
    last = message["blocks"][-1]
    assert len(last["elements"]) <= MAX_CONTEXT_ELEMENTS
    assert all(len(e["text"]) <= MAX_CITATION_TEXT for e in last["elements"])
    assert len(message["text"]) <= MAX_FALLBACK


@pytest.mark.parametrize("lang", LANGS)
def test_a_citation_of_thousands_of_lines_and_a_huge_body_still_fits(lang: Lang, release: Release) -> None:
    spread = range(1, 20_000, 2)  # no two consecutive: no range shortens it
    reply = Reply(
        title="T",
        sections=[Section(text="x " * 2000) for _ in range(60)],
        citation=cite(release, lang, spread),
    )
    message = build_message(reply)
    last = message["blocks"][-1]
    assert last["block_id"] == CITATION_BLOCK_ID and len(message["blocks"]) <= 50
    assert all(len(e["text"]) <= MAX_CITATION_TEXT for e in last["elements"])
    assert len(message["text"]) <= MAX_FALLBACK
    assert message["text"].endswith(last["elements"][-1]["text"])


@pytest.mark.parametrize("lang", LANGS)
def test_a_known_url_links_the_title(lang: Lang, release: Release) -> None:
    url = "https://www.meti.go.jp/press/2025/12/20251210001/20251210001.html"
    linked = release.model_copy(update={"url": url})
    element = cite(linked, lang, [10]).elements[0]
    assert f"<{url}|" in element
    assert "<" not in cite(release, lang, [10]).elements[0], "no URL is known for the shipped release: no link"


def test_the_shipped_release_has_no_url_the_original_does_not_give(release: Release) -> None:
    assert "http" not in "\n".join(_source(release))
    assert release.url is None


def test_lines_are_computed_once_per_loaded_release_from_its_own_text(
    tmp_path: Path, release: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    original_init = citation.SourceIndex.__init__

    def counting(self: citation.SourceIndex, release: Release, text: str | None, *, label: str) -> None:
        built.append(id(release))
        original_init(self, release, text, label=label)

    monkeypatch.setattr(citation.SourceIndex, "__init__", counting)
    # A reloaded release is a new object; its text here has three lines more at the top.
    reloaded = release.model_copy()
    shifted = "\n".join(["x", "y", "z", *_source(release)]) + "\n"
    (tmp_path / release.source_file).write_text(shifted, encoding="utf-8")
    register_source(reloaded, tmp_path)
    lookup = ReleaseLookup(reloaded)
    first = ask("bilateral france", lookup, "ja")
    second = ask("bilateral france", lookup, "en")
    assert built == [id(reloaded)], "one index for the loaded release, none per request"
    shipped = ask("bilateral france", ReleaseLookup(release), "ja").citation
    assert first.citation is not None and second.citation is not None and shipped is not None
    assert first.citation.lines == [n + 3 for n in shipped.lines] == second.citation.lines
    assert source_index(reloaded) is source_index(reloaded)
    key = id(reloaded)
    del reloaded, lookup, first, second
    gc.collect()
    assert key not in citation._INDEXES, "the index goes with its release: nothing clears it by hand"


def test_a_missing_original_still_names_the_release(tmp_path: Path, release: Release) -> None:
    orphan = release.model_copy()
    register_source(orphan, tmp_path)  # no source text there
    reply = ask("summary", ReleaseLookup(orphan), "en")
    assert reply.citation is not None
    assert reply.citation.lines == [] and len(reply.citation.elements) == 1


def test_a_command_reads_the_original_in_the_running_bot_s_data_folder(tmp_path: Path, release: Release) -> None:
    """Under `serve` the services carry the settings: lines come from G7BOT_DATA_DIR's text, and digests reuse them."""
    loaded = release.model_copy()
    shifted = "\n".join(["x", "y", *_source(release)]) + "\n"
    (tmp_path / release.source_file).write_text(shifted, encoding="utf-8")
    services = SimpleNamespace(settings=SimpleNamespace(data_dir=tmp_path))
    lookup = ReleaseLookup(loaded)
    reply = answer("bilateral france", lookup=lookup, lang="ja", now=NOW, services=services)
    shipped = ask("bilateral france", ReleaseLookup(release), "ja").citation
    assert reply.citation is not None and shipped is not None
    assert reply.citation.lines == [n + 2 for n in shipped.lines]
    assert source_index(loaded).folder == tmp_path
