"""Invariants of the shipped release.yml, checked against the original release text it was transcribed from.

Every Japanese string must occur verbatim in data/<source_file> (only whitespace is normalised), every
date must appear in the release's own form, and the English side must be complete and kana-free.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from bot.errors import ConfigError
from bot.release.loader import RELEASE_DIR, RELEASE_FILE, load_release
from bot.release.models import Release, Text


def _load() -> Release | None:
    try:
        return load_release()
    except ConfigError:
        return None


RELEASE = _load()
ORIGINAL = (RELEASE_DIR / RELEASE.source_file).read_text(encoding="utf-8") if RELEASE else ""
LINES = [line.strip() for line in ORIGINAL.splitlines() if line.strip()]
NOT_LOADED = pytest.param(None, id="release-does-not-load")

KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
WEEKDAYS = "月火水木金土日"  # dt.date.weekday(): Monday is 0


def _norm(text: str) -> str:
    """Collapse whitespace (line breaks included) so wrapping in either file does not matter."""
    return " ".join(text.split())


NORMALISED = _norm(ORIGINAL)


def _release() -> Release:
    assert RELEASE is not None, f"{RELEASE_FILE} does not load; see test_release_loads"
    return RELEASE


def _cases(build: Callable[[Release], Iterator[tuple[str, Any]]]) -> list[Any]:
    """Parametrize from the loaded data; a single failing case if the data does not load."""
    if RELEASE is None:
        return [NOT_LOADED]
    return [pytest.param(value, id=case_id) for case_id, value in build(RELEASE)]


def _texts(obj: object, path: str = "") -> Iterator[tuple[str, Text]]:
    """Every Text in the model, with a readable path such as bilaterals[us].summary."""
    if isinstance(obj, Text):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _texts(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _texts(item, f"{path}[{getattr(item, 'id', i)}]")


def _between(start: str, end: str) -> list[str]:
    """Non-blank lines of the original after the line starting with `start`, up to the one with `end`."""
    first = next(i for i, line in enumerate(LINES) if line.startswith(start))
    last = next(i for i, line in enumerate(LINES) if i > first and line.startswith(end))
    return LINES[first + 1 : last]


def _bullets_after(lines: list[str], heading: str) -> list[str]:
    at = lines.index(heading)
    bullets = []
    for line in lines[at + 1 :]:
        if not line.startswith("- "):
            break
        bullets.append(line[2:])
    return bullets


# --- loading and shape -------------------------------------------------------------------------


def test_release_loads() -> None:
    release = load_release()
    assert isinstance(release, Release)
    assert release.source_file == "source.txt"
    assert (RELEASE_DIR / release.source_file).is_file()


def test_eight_bilaterals_numbered_in_order() -> None:
    bilaterals = _release().bilaterals
    assert len(bilaterals) == 8
    assert [b.number for b in bilaterals] == list(range(1, 9))
    assert [b.id for b in bilaterals] == ["us", "de", "eu", "uk", "ca-solomon", "ca-joly", "oecd", "fr"]


def test_canada_met_twice() -> None:
    codes = [b.code for b in _release().bilaterals]
    assert codes.count("CA") == 2
    assert len(set(codes)) == len(codes) - 1


def test_two_outcomes_with_their_points() -> None:
    outcomes = {o.id: o for o in _release().outcomes}
    assert list(outcomes) == ["declaration", "sme-ai-blueprint"]
    assert len(outcomes["declaration"].points) == 4
    assert len(outcomes["sme-ai-blueprint"].points) == 3


def test_two_desks_and_four_documents() -> None:
    release = _release()
    assert [d.id for d in release.desks] == ["general", "ai-digital"]
    assert len(release.documents) == 4


# --- Japanese text verbatim in the original ----------------------------------------------------

# The release never spells out its publisher (経済産業省) or a delegate's ministry (総務省, デジタル庁: only
# their short forms, in 総務副大臣 and デジタル副大臣, which test_ministry_is_the_title_s_prefix checks);
# everything else Japanese is quoted from it.
NOT_QUOTED = re.compile(r"^publisher$|^meeting\.delegation\[\d+\]\.ministry$")


def _japanese(release: Release) -> Iterator[tuple[str, str]]:
    for path, text in _texts(release):
        if not NOT_QUOTED.match(path):
            yield f"{path}.ja", text.ja
    for desk in release.desks:
        for field in ("phone", "extension", "email_as_published"):
            yield f"desks[{desk.id}].{field}", getattr(desk, field)


@pytest.mark.parametrize("value", _cases(_japanese))
def test_japanese_is_verbatim_in_original(value: str | None) -> None:
    _release()
    assert value is not None
    found = _norm(value) in NORMALISED
    assert found, f"{value!r} does not occur in the original release"


def _counterparts(release: Release) -> Iterator[tuple[str, Any]]:
    for b in release.bilaterals:
        yield b.id, b


@pytest.mark.parametrize("bilateral", _cases(_counterparts))
def test_counterpart_as_listed_in_release(bilateral: Any) -> None:
    """The list sentence reads <organisation>の<name><title>, in meeting order."""
    release = _release()
    sentence = next(line for line in LINES if line.startswith("今回の出張中には"))
    positions = []
    for b in release.bilaterals:
        pattern = re.escape(f"{b.organisation.ja}の{b.counterpart.name.ja}") + r"\s*"
        match = re.search(pattern + re.escape(b.counterpart.title.ja), sentence)
        assert match, f"{b.id}: organisation, name and title not found together in the list sentence"
        positions.append(match.start())
        if b is bilateral:
            break
    assert positions == sorted(positions), "bilaterals are not in the release's order"


@pytest.mark.parametrize("bilateral", _cases(_counterparts))
def test_bilateral_summary_follows_its_heading(bilateral: Any) -> None:
    """Under 2.二国間会談, the heading (n)...<surname>...との意見交換 is followed by the summary verbatim."""
    _release()
    lines = _between("2.二国間会談", "関連資料")
    at = next(i for i, line in enumerate(lines) if line.startswith(f"({bilateral.number})"))
    heading = lines[at]
    surname = bilateral.counterpart.name.ja.split("・")[-1]
    assert surname in heading
    assert heading.endswith("との意見交換")
    assert lines[at + 1] == bilateral.summary.ja


@pytest.mark.parametrize("bilateral", _cases(_counterparts))
def test_bilateral_topics_come_from_its_summary(bilateral: Any) -> None:
    _release()
    for topic in bilateral.topics:
        assert topic.ja in bilateral.summary.ja, f"{topic.ja!r} is not in the summary of {bilateral.id}"


@pytest.mark.parametrize("bilateral", _cases(_counterparts))
def test_japan_participants(bilateral: Any) -> None:
    """井野副大臣 always; anyone else of the delegation iff the meeting's summary names them."""
    release = _release()
    participants = [p.ja for p in bilateral.japan_participants]
    assert participants[0] == "井野副大臣"
    assert len(set(participants)) == len(participants)
    surnames = [p.name.ja for p in release.meeting.delegation]
    for extra in participants[1:]:
        assert extra in bilateral.summary.ja
        assert any(extra.startswith(s) for s in surnames), f"{extra!r} is not in the delegation"
    for person in release.meeting.delegation[1:]:
        named = f"{person.name.ja}{person.title.ja}"
        assert (named in bilateral.summary.ja) == (named in participants), named


def test_notes_only_where_the_release_says_so() -> None:
    notes = {b.id: b.note for b in _release().bilaterals if b.note is not None}
    assert set(notes) == {"ca-solomon", "fr"}
    assert notes["ca-solomon"].ja == "立ち話"
    assert notes["fr"].ja == "来年のG7議長国"
    for bilateral_id, note in notes.items():
        summary = next(b.summary.ja for b in _release().bilaterals if b.id == bilateral_id)
        assert note.ja in summary


def test_next_presidency_year_is_derived_from_publication_year() -> None:
    release = _release()
    note = next(b.note for b in release.bilaterals if b.id == "fr")
    assert note is not None
    assert str(release.published.year + 1) in note.en


def _outcomes(release: Release) -> Iterator[tuple[str, Any]]:
    for i, outcome in enumerate(release.outcomes, start=1):
        yield outcome.id, (i, outcome)


@pytest.mark.parametrize("numbered", _cases(_outcomes))
def test_outcome_points_are_the_release_bullets(numbered: Any) -> None:
    _release()
    number, outcome = numbered
    lines = _between("会合の成果として", "2.二国間会談")
    bullets = _bullets_after(lines, f"({number}){outcome.title.ja}")
    assert [p.ja for p in outcome.points] == bullets


def test_meeting_adopted_both_outcomes() -> None:
    release = _release()
    adopted = next(line for line in LINES if line.startswith("会合の成果として"))
    titles = "及び".join(o.title.ja for o in release.outcomes)
    assert f"{titles}が採択されました" in adopted


def test_delegation_as_in_release() -> None:
    """Title: <head><title>が<meeting>に参加; §1: 井野副大臣、<others joined by 及び>が参加しました."""
    release = _release()
    meeting = release.meeting
    head, *others = meeting.delegation
    assert release.title.ja == f"{head.name.ja}{head.title.ja}が{meeting.name.ja}に参加しました"
    members = "及び".join(f"{p.name.ja}{p.title.ja}" for p in others)
    assert f"{meeting.name.ja}が開催され、{head.name.ja}副大臣、{members}が参加しました" in ORIGINAL
    assert f"今年のG7議長国である{meeting.presidency.ja}の{meeting.city.ja}において" in ORIGINAL
    assert f"{meeting.country.ja}の{meeting.city.ja}に出張し" in ORIGINAL


def test_japan_said_are_ino_s_points() -> None:
    said = [t.ja for t in _release().meeting.japan_said]
    start = LINES.index(next(line for line in LINES if line.startswith("井野副大臣からは")))
    body = "".join(LINES[start : start + 4])
    positions = [body.find(s) for s in said]
    assert -1 not in positions
    assert positions == sorted(positions)


def test_japan_said_names_its_speaker_as_the_release_does() -> None:
    """The four statements open with 井野副大臣からは: the speaker is recorded, not "Japan" in general."""
    meeting = _release().meeting
    assert meeting.said_by is not None
    opening = next(line for line in LINES if meeting.japan_said[0].ja in line)
    assert opening.startswith(f"{meeting.said_by.ja}からは、")
    head = meeting.delegation[0]
    assert head.rank is not None
    assert meeting.said_by.ja == f"{head.name.ja}{head.rank.ja}"
    assert meeting.said_by.en == f"{head.rank.en} {head.name.en}"


def test_bilaterals_overview_is_the_release_s_own_sentence() -> None:
    """The list of the eight meetings ends with what they covered: the release's only 経済安全保障."""
    overview = _release().bilaterals_overview
    assert overview is not None
    sentence = next(line for line in LINES if line.startswith("今回の出張中には"))
    assert sentence.endswith(f"と会談を実施し、{overview.ja}")
    assert NORMALISED.count("経済安全保障") == 1
    assert "経済安全保障" in overview.ja
    for topic in ("二国間経済関係", "AI産業振興", "量子技術"):
        assert topic in overview.ja
    for english in ("bilateral economic relations", "economic security", "AI industry", "quantum technology"):
        assert english in overview.en


def test_outcome_points_are_introduced_as_the_release_s_summary() -> None:
    """宣言の主な内容は以下のとおりです: the points are the release's summary, right before (1)."""
    release = _release()
    intro = release.outcomes_intro
    assert intro is not None
    adopted = next(i for i, line in enumerate(LINES) if line.startswith("会合の成果として"))
    assert LINES[adopted].endswith(intro.ja)
    assert LINES[adopted + 1] == f"(1){release.outcomes[0].title.ja}"
    assert "main contents" in intro.en


def _delegates(release: Release) -> Iterator[tuple[str, Any]]:
    for person in release.meeting.delegation:
        yield person.name.en, person


@pytest.mark.parametrize("person", _cases(_delegates))
def test_ministry_is_the_title_s_prefix(person: Any) -> None:
    """総務副大臣 is 総務(省) + 副大臣: the recorded ministry and rank make up the release's title."""
    _release()
    assert person.ministry is not None and person.rank is not None
    assert person.ministry.ja[-1] in "省庁"
    assert person.title.ja == f"{person.ministry.ja[:-1]}{person.rank.ja}"
    assert person.named("ja") in ORIGINAL


@pytest.mark.parametrize("bilateral", _cases(_counterparts))
def test_counterpart_named_exactly_as_in_the_list_sentence(bilateral: Any) -> None:
    """How the bot writes name and title in Japanese is the release's own spelling, spaces included."""
    _release()
    sentence = next(line for line in LINES if line.startswith("今回の出張中には"))
    assert f"{bilateral.organisation.ja}の{bilateral.counterpart.named('ja')}" in sentence


# --- desks and documents -----------------------------------------------------------------------


def _desks(release: Release) -> Iterator[tuple[str, Any]]:
    for desk in release.desks:
        yield desk.id, desk


@pytest.mark.parametrize("desk", _cases(_desks))
def test_desk_block_as_published(desk: Any) -> None:
    """Topic, bureau/office/lead, staff, phone and mail appear together, in this order, in the footer."""
    _release()
    parts = [
        desk.topic.ja,
        f"{desk.bureau.ja} {desk.office.ja} {desk.lead.ja}",
        f"担当者:{'、'.join(s.ja for s in desk.staff)}",
        f"電話:{desk.phone}(内線 {desk.extension})",
        f"メール:{desk.email_as_published}",
    ]
    pattern = r"\s*".join(re.escape(p) for p in parts)
    assert re.search(pattern, ORIGINAL), f"desk {desk.id} is not published as one block"


@pytest.mark.parametrize("desk", _cases(_desks))
def test_desk_email_is_usable(desk: Any) -> None:
    _release()
    assert "※[★]を[@]に置き換えてください" in ORIGINAL
    assert desk.email_as_published.count("★") == 1
    assert desk.email.count("@") == 1
    assert "★" not in desk.email
    assert re.fullmatch(r"[a-z0-9._-]+@meti\.go\.jp", desk.email), desk.email


@pytest.mark.parametrize("desk", _cases(_desks))
def test_desk_keywords_lowercase(desk: Any) -> None:
    _release()
    assert desk.keywords == [k.strip().lower() for k in desk.keywords]
    assert len(set(desk.keywords)) == len(desk.keywords)


def _documents(release: Release) -> Iterator[tuple[str, Any]]:
    for i, doc in enumerate(release.documents):
        yield f"documents[{i}]", doc


def _document_line(doc: Any) -> str:
    line = f"{doc.title.ja}({doc.language.ja})"
    if doc.size_kb is not None:
        line += f"({doc.format}形式:{doc.size_kb:,}KB)"
    return line


def test_documents_are_the_release_list_in_order() -> None:
    release = _release()
    listed = [line[2:] for line in _between("関連資料", "担当") if line.startswith("- ")]
    assert [_document_line(d) for d in release.documents] == listed


@pytest.mark.parametrize("doc", _cases(_documents))
def test_document_size_as_published(doc: Any) -> None:
    _release()
    assert (doc.format is None) == (doc.size_kb is None)
    if doc.size_kb is not None:
        assert f"{doc.size_kb:,}KB" in ORIGINAL
        assert re.fullmatch(r"\d{1,3}(,\d{3})*KB", f"{doc.size_kb:,}KB")


# --- dates -------------------------------------------------------------------------------------


def _md(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def _until(start: dt.date, end: dt.date) -> str:
    """The end of a span as the release writes it: the month is repeated only if it changes."""
    return f"{end.day}日" if (end.year, end.month) == (start.year, start.month) else _md(end)


def _weekday(day: dt.date) -> str:
    return f"({WEEKDAYS[day.weekday()]}曜日)"


def _range(start: dt.date, end: dt.date) -> str:
    """A span with weekdays, e.g. 12月8日(月曜日)から9日(火曜日)."""
    return f"{_md(start)}{_weekday(start)}から{_until(start, end)}{_weekday(end)}"


def _dates(release: Release) -> Iterator[tuple[str, Any]]:
    m = release.meeting
    published = release.published
    yield "published", f"{published.year}年{_md(published)}"
    yield "meeting.start", _md(m.start)
    yield "meeting.end", _until(m.start, m.end)
    yield "meeting.trip_start", _md(m.trip_start)
    yield "meeting.trip_end", _until(m.trip_start, m.trip_end)
    yield "meeting.span", _range(m.start, m.end)
    yield "meeting.trip_span", _range(m.trip_start, m.trip_end)


@pytest.mark.parametrize("form", _cases(_dates))
def test_date_in_release_form(form: str | None) -> None:
    _release()
    assert form is not None
    assert form in ORIGINAL, f"{form!r} does not occur in the original release"


def test_published_date_is_the_release_dateline() -> None:
    release = _release()
    p = release.published
    title_at = LINES.index(release.title.ja, 1)
    assert LINES[title_at + 1] == f"{p.year}年{p.month}月{p.day}日"


def test_meeting_span_sentence_and_trip_sentence() -> None:
    m = _release().meeting
    assert f"{_range(m.trip_start, m.trip_end)}にかけて、{m.country.ja}の{m.city.ja}に出張し" in ORIGINAL
    assert f"{_range(m.start, m.end)}にかけて、今年のG7議長国" in ORIGINAL


# --- English -----------------------------------------------------------------------------------


def _english(release: Release) -> Iterator[tuple[str, Any]]:
    for path, text in _texts(release):
        yield f"{path}.en", text.en


@pytest.mark.parametrize("value", _cases(_english))
def test_english_is_complete_and_kana_free(value: str | None) -> None:
    _release()
    assert value is not None
    assert value.strip() == value
    assert value, "empty English text"
    assert not KANA.search(value), f"kana in English text: {value!r}"
    outside_parentheses = re.sub(r"\([^)]*\)", "", value)
    assert not CJK.search(outside_parentheses), f"Japanese script outside parentheses: {value!r}"


def _named_people(release: Release) -> Iterator[tuple[str, Any]]:
    for i, person in enumerate(release.meeting.delegation):
        yield f"meeting.delegation[{i}].name", person.name
    for desk in release.desks:
        yield f"desks[{desk.id}].lead", desk.lead
        for i, staff in enumerate(desk.staff):
            yield f"desks[{desk.id}].staff[{i}]", staff


@pytest.mark.parametrize("name", _cases(_named_people))
def test_english_surname_carries_the_kanji(name: Text | None) -> None:
    _release()
    assert name is not None
    assert re.fullmatch(rf"[A-Z][a-z]+ \({re.escape(name.ja)}\)", name.en), name.en


@pytest.mark.parametrize("bilateral", _cases(_counterparts))
def test_participants_english_names_match(bilateral: Any) -> None:
    surnames = {p.name.ja: p.name.en for p in _release().meeting.delegation}
    for participant in bilateral.japan_participants:
        surname = next(s for s in surnames if participant.ja.startswith(s))
        assert participant.en.endswith(surnames[surname]), participant.en


@pytest.mark.parametrize("bilateral", _cases(_counterparts))
def test_aliases_lowercase_and_distinct(bilateral: Any) -> None:
    _release()
    aliases = bilateral.aliases
    assert aliases, f"{bilateral.id} has no aliases"
    assert aliases == [a.strip().lower() for a in aliases]
    assert len(set(aliases)) == len(aliases)
