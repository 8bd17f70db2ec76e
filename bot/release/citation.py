"""Where a reply's facts come from: the release, the lines of its original text, and its page."""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from bot.messages import format_date, msg
from bot.release.loader import DATA_DIR, release_folder
from bot.release.models import Bilateral, Desk, Lang, Release
from bot.reply import Citation
from bot.text import escape

# Slack's limit for one text object of a context block, as the brief for citations states it.
MAX_ELEMENT = 2000
# The line numbers stay shorter still (some 200 ranges), so the plain-text fallback carries the whole citation.
MAX_LINES_ELEMENT = 1000

Span = tuple[int, int]
SourceKind = Literal["bilateral", "outcome", "meeting"]


def _norm(text: str) -> str:
    """Whitespace collapsed, as tests/test_release_data.py compares the Japanese with the original."""
    return " ".join(text.split())


class _Text:
    """The original text with whitespace collapsed, and for each character the (1-based) line it is on."""

    def __init__(self, text: str):
        chars: list[str] = []
        line_of: list[int] = []
        for number, line in enumerate(text.splitlines(), start=1):
            for word in line.split():
                if chars:
                    # The space between two words counts as the later word's line.
                    chars.append(" ")
                    line_of.append(number)
                chars.extend(word)
                line_of.extend([number] * len(word))
        self.flat = "".join(chars)
        self.line_of = line_of
        self.line_count = len(text.splitlines())

    def spans(self, value: str) -> list[Span]:
        """Every (first line, last line) where `value` occurs; a value may run over a line break."""
        needle = _norm(value)
        if not needle:
            return []
        found: list[Span] = []
        at = self.flat.find(needle)
        while at >= 0:
            found.append((self.line_of[at], self.line_of[at + len(needle) - 1]))
            at = self.flat.find(needle, at + 1)
        return found


Region = tuple[int, int]  # inclusive line bounds

# A publication date as METI's pages write it under the title: 2025年12月10日, 令和7年1月17日, 平成30年9月25日(火).
_PUBLISHED = re.compile(r"^(?:\d{4}|(?:令和|平成)(?:\d{1,2}|元))年\d{1,2}月\d{1,2}日")


def _heading(release: Release, text: str) -> frozenset[int]:
    """The lines of the release's title as its page heads it (a line of its own, not the breadcrumb's) and of
    the publication date under it; where the title has no line of its own, where the text first says it."""
    lines = [_norm(line) for line in text.splitlines()]
    at = next((n for n, line in enumerate(lines, start=1) if line == _norm(release.title.ja)), None)
    if at is None:
        return _lines(_pick(_Text(text).spans(release.title.ja), None, None))
    # The date, and an update note, follow the title (a few lines down at most: a blank line, an old header).
    dated = next((n for n in range(at + 1, min(at + 4, len(lines)) + 1) if _PUBLISHED.match(lines[n - 1])), None)
    return frozenset({at} | ({dated} if dated is not None else set()))


def _pick(spans: list[Span], region: Region | None, anchor: int | None) -> Span | None:
    """The occurrence inside the item's region nearest its anchor; otherwise where the text first says it."""
    if not spans:
        return None
    if region is not None:
        inside = [s for s in spans if region[0] <= s[0] and s[1] <= region[1]]
        if inside:
            target = anchor if anchor is not None else region[1]
            return min(inside, key=lambda s: (abs(s[0] - target), s[0]))
    return spans[0]


def _lines(span: Span | None) -> frozenset[int]:
    return frozenset(range(span[0], span[1] + 1)) if span is not None else frozenset()


class SourceIndex:
    """The lines of the original text each fact of one release comes from; built once per loaded release.

    Each item (a meeting, outcome, desk, document) is looked for in its own region of the text: from after
    the previous item of its kind to its anchor (a value that names it alone, such as a meeting's summary).
    A value said again elsewhere (カナダ, 井野副大臣, a shared phone number) is taken nearest the anchor inside
    the region, or else where the text first says it; a value the text does not hold is not cited.
    """

    def __init__(self, release: Release, text: str | None, *, label: str):
        # No reference to the release is kept: the table of indexes must not keep a release alive.
        self.label = label
        self.folder: Path | None = None
        self._text = _Text(text or "")
        self._quotes: dict[tuple[str, SourceKind, str], frozenset[int]] = {}
        self._regions: dict[tuple[SourceKind | str, str], tuple[Region | None, int | None]] = {}
        self.bilateral_full: dict[str, frozenset[int]] = {}
        self.bilateral_line: dict[str, frozenset[int]] = {}
        self.desk_full: dict[str, frozenset[int]] = {}
        self.desk_topic: dict[str, frozenset[int]] = {}
        # What a listed follow-up shows of its owner desk: bureau, office and lead; a reminder adds how to reach it.
        self.desk_unit: dict[str, frozenset[int]] = {}
        self.desk_contact: dict[str, frozenset[int]] = {}
        # What a reminder shows of its owner desk: all but the staff.
        self.desk_owner: dict[str, frozenset[int]] = {}
        self.outcome_full: dict[str, frozenset[int]] = {}
        self.outcome_title: dict[str, frozenset[int]] = {}
        self.document: list[frozenset[int]] = []
        self.heading = _heading(release, text or "")
        self._index_lists(release)
        self._index_meeting(release)

    # --- finding values -------------------------------------------------------------------------------

    def _find(self, values: Iterable[str], region: Region | None, anchor: int | None) -> frozenset[int]:
        out: set[int] = set()
        for value in values:
            out |= _lines(_pick(self._text.spans(value), region, anchor))
        return frozenset(out)

    def _find_whole_or_parts(
        self, whole: str, parts: Sequence[str], region: Region | None, anchor: int | None
    ) -> frozenset[int]:
        """A name with its title as the reply shows it, or (where the text splits them) each part."""
        found = self._find([whole], region, anchor)
        return found if found else self._find(parts, region, anchor)

    def _regions_of(self, anchors: list[Span | None]) -> list[tuple[Region | None, int | None]]:
        """Each item's region: after the previous item's anchor up to (and including) its own."""
        regions: list[tuple[Region | None, int | None]] = []
        previous = 0
        for span in anchors:
            if span is None:
                regions.append((None, None))
                continue
            regions.append(((previous + 1, span[1]), span[0]))
            previous = span[1]
        return regions

    def _anchor(self, value: str, after: int) -> Span | None:
        """The first occurrence of `value` starting after line `after` (items come in the text's order)."""
        spans = [s for s in self._text.spans(value) if s[0] > after]
        return spans[0] if spans else None

    def _anchors(self, values: list[list[str]]) -> list[Span | None]:
        anchors: list[Span | None] = []
        after = 0
        for candidates in values:
            span = next((s for v in candidates if (s := self._anchor(v, after)) is not None), None)
            anchors.append(span)
            if span is not None:
                after = span[1]
        return anchors

    # --- the release's items --------------------------------------------------------------------------

    def _index_lists(self, r: Release) -> None:
        for b, (region, anchor) in zip(
            r.bilaterals, self._regions_of(self._anchors([[b.summary.ja] for b in r.bilaterals])), strict=True
        ):
            self._regions[("bilateral", b.id)] = (region, anchor)
            brief = self._find([b.organisation.ja], region, anchor) | self._named(b, region, anchor)
            self.bilateral_line[b.id] = brief
            rest = [b.summary.ja, *(p.ja for p in b.japan_participants), *(t.ja for t in b.topics)]
            if b.note is not None:
                rest.append(b.note.ja)
            self.bilateral_full[b.id] = brief | self._find(rest, region, anchor)
        outcome_anchors = self._anchors([[o.points[-1].ja] for o in r.outcomes])
        for o, (region, anchor) in zip(r.outcomes, self._regions_of(outcome_anchors), strict=True):
            self._regions[("outcome", o.id)] = (region, anchor)
            self.outcome_title[o.id] = self._find([o.title.ja], region, anchor)
            self.outcome_full[o.id] = self.outcome_title[o.id] | self._find([p.ja for p in o.points], region, anchor)
        desk_anchors = self._anchors([[d.email_as_published, d.topic.ja] for d in r.desks])
        for d, (region, anchor) in zip(r.desks, self._regions_of(desk_anchors), strict=True):
            self.desk_topic[d.id] = self._find([d.topic.ja], region, anchor)
            self.desk_unit[d.id] = self._find([d.bureau.ja, d.office.ja, d.lead.ja], region, anchor)
            self.desk_contact[d.id] = self._find(_desk_values(d)[1:], region, anchor)
            self.desk_full[d.id] = self._find([*_desk_values(d), *(s.ja for s in d.staff)], region, anchor)
            self.desk_owner[d.id] = self._find(_desk_values(d), region, anchor)
        doc_anchors = self._anchors(
            [[f"{d.title.ja}({d.language.ja})", d.title.ja] if d.language else [d.title.ja] for d in r.documents]
        )
        for doc, (region, anchor) in zip(r.documents, self._regions_of(doc_anchors), strict=True):
            values = [doc.title.ja, *([doc.language.ja] if doc.language else [])]
            if doc.format and doc.size_kb:
                values.append(f"{doc.size_kb:,}KB")
            self.document.append(self._find(values, region, anchor))
        self.overview = self._find([r.bilaterals_overview.ja] if r.bilaterals_overview else [], None, None)
        intro_region = self._regions[("outcome", r.outcomes[0].id)] if r.outcomes else (None, None)
        self.outcomes_intro = self._find([r.outcomes_intro.ja] if r.outcomes_intro else [], *intro_region)

    def _named(self, b: Bilateral, region: Region | None, anchor: int | None) -> frozenset[int]:
        p = b.counterpart
        found = self._find_whole_or_parts(p.named("ja"), [p.name.ja, p.title.ja], region, anchor)
        # The meeting's own heading ((2)ドイツのロウエンホフ…政務次官との意見交換) names the post again.
        if region is not None:
            found |= _lines(
                _pick(
                    [s for s in self._text.spans(p.title.ja) if region[0] <= s[0] and s[1] <= region[1]], region, anchor
                )
            )
        return found

    def _index_meeting(self, release: Release) -> None:
        m = release.meeting
        # The meeting is described before the outcomes' points (or, without them, the first meeting) begin.
        starts = self._anchors(
            [[o.points[0].ja] for o in release.outcomes[:1]] + [[b.summary.ja] for b in release.bilaterals[:1]]
        )
        first = next((s[0] for s in starts if s is not None), self._text.line_count + 1)
        end = first - 1
        if m is None:
            self._index_trip(release, (1, max(end, 1)))
            return
        anchor_span = self._anchor(m.topics[0].ja, 0) or self._anchor(m.name.ja, 0)
        region: Region = (1, max(end, 1))
        anchor = anchor_span[0] if anchor_span else None
        self._regions[("meeting", "meeting")] = (region, anchor)
        values = [m.name.ja, m.city.ja, m.country.ja, *(t.ja for t in m.topics), *(s.ja for s in m.japan_said)]
        found = set(self._find(values, region, anchor))
        # The release writes the presidency as 今年のG7議長国であるカナダ: the country is found near the anchor.
        found |= self._find([m.presidency.ja], region, anchor)
        for person in m.delegation:
            found |= self._find_whole_or_parts(person.named("ja"), [person.name.ja, person.title.ja], region, anchor)
        if m.said_by is not None:
            found |= self._find([m.said_by.ja], region, anchor)
        for day in (m.start, m.end, m.trip_start, m.trip_end):
            found |= self._find_date(day, region, anchor)
        self.meeting = frozenset(found)
        said_by = [m.said_by.ja] if m.said_by is not None else []
        self.meeting_brief = self._find([m.name.ja, *said_by], region, anchor)
        self.said = self._find([s.ja for s in m.japan_said], region, anchor)
        if m.said_by is not None:
            self.said |= self._find([m.said_by.ja], region, anchor)

    def _index_trip(self, release: Release, region: Region) -> None:
        """A visit without a meeting: its dates, place and delegation, told before the first bilateral."""
        self.meeting_brief = self.said = frozenset()
        self._regions[("meeting", "meeting")] = (region, None)
        t = release.trip
        if t is None:
            self.meeting = frozenset()
            return
        found = set(self._find([x.ja for x in (t.city, t.country) if x is not None], region, None))
        for person in t.delegation:
            found |= self._find_whole_or_parts(person.named("ja"), [person.name.ja, person.title.ja], region, None)
        for day in (t.start, t.end):
            found |= self._find_date(day, region, None)
        self.meeting = frozenset(found)

    def _find_date(self, day: dt.date, region: Region, anchor: int | None) -> frozenset[int]:
        # The release's own forms: 12月8日(月曜日), or the day alone after a range's から (9日(火曜日)).
        for form in (f"{day.month}月{day.day}日", f"{day.day}日("):
            found = self._find([form], region, anchor)
            if found:
                return found
        return frozenset()

    # --- quotes (commitments) -------------------------------------------------------------------------

    def quote(self, text_ja: str, *, kind: SourceKind, ref: str) -> frozenset[int]:
        """The lines of a verbatim quote from the release (a commitment's detail), near the item it is about.

        Kept per release: the commitments file is reloaded apart from the release, so they are found on first use.
        """
        key = (text_ja, kind, ref)
        if key not in self._quotes:
            region, anchor = self._regions.get((kind, ref), (None, None))
            found = self._find([text_ja], region, anchor)
            if not found:
                # Not quoted verbatim: the commitment is about its source item, so cite that.
                found = self.item(kind, ref)
            self._quotes[key] = found
        return self._quotes[key]

    def item(self, kind: SourceKind, ref: str) -> frozenset[int]:
        if kind == "bilateral":
            return self.bilateral_full.get(ref, frozenset())
        if kind == "outcome":
            return self.outcome_full.get(ref, frozenset())
        return self.said

    def source_brief(self, kind: SourceKind, ref: str) -> frozenset[int]:
        """The lines of how a reminder names its source: the meeting's counterpart, the outcome's title, the speaker."""
        if kind == "bilateral":
            return self.bilateral_line.get(ref, frozenset())
        if kind == "outcome":
            return self.outcome_title.get(ref, frozenset())
        return self.meeting_brief


def _desk_values(d: Desk) -> list[str]:
    return [
        d.topic.ja,
        d.bureau.ja,
        d.office.ja,
        d.lead.ja,
        *(n for n in (d.phone, d.extension, d.direct, d.fax) if n),
        d.email_as_published,
    ]


# --- one index per loaded release -------------------------------------------------------------------

# Keyed by the release object: an entry lives as long as its release and goes with it, so a reload (a new
# Release) gets a new index and nothing is cleared by hand.
_INDEXES: dict[int, tuple[weakref.ref[Release], SourceIndex]] = {}
_LOCK = threading.RLock()


def _forget(table: dict[int, tuple[weakref.ref[Release], SourceIndex]], key: int, _ref: object) -> None:
    table.pop(key, None)


# Where each loaded release's folder is: the library loader records it, the index is built on first use
# (a thousand releases would take seconds to index at start-up).
_FOLDERS: dict[int, tuple[weakref.ref[Release], Path]] = {}


def _forget_folder(table: dict[int, tuple[weakref.ref[Release], Path]], key: int, _ref: object) -> None:
    table.pop(key, None)


def remember_folder(release: Release, folder: Path) -> None:
    """Record the folder of `release` (where its release.yml is): its citations read the original there."""
    with _LOCK:
        key = id(release)
        _FOLDERS[key] = (weakref.ref(release, functools.partial(_forget_folder, _FOLDERS, key)), folder)


def _remembered(release: Release) -> Path | None:
    found = _FOLDERS.get(id(release))
    return found[1] if found is not None and found[0]() is release else None


def register_source(release: Release, folder: Path) -> SourceIndex:
    """Index `release` against its original text in `folder` (where its release.yml is); call once per load."""
    with _LOCK:
        return _register(release, folder)


def _label(path: Path) -> str:
    """How a reply names the original: data/<file>, or its path under data/ (data/releases/<id>/source.txt)."""
    try:
        return (Path("data") / path.resolve().relative_to(DATA_DIR.resolve())).as_posix()
    except ValueError:
        # Another data folder (G7BOT_DATA_DIR): still the release's own folder in it, as under the shipped data/.
        if path.parent.parent.name == "releases":
            return f"data/releases/{path.parent.name}/{path.name}"
        return f"data/{path.name}"


def _register(release: Release, folder: Path) -> SourceIndex:
    path = folder / release.source_file
    try:
        text: str | None = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        # `g7bot check` reports a missing source; a reply still names the release, without line numbers.
        text = None
    index = SourceIndex(release, text, label=_label(path))
    index.folder = folder
    key = id(release)
    # The callback holds the table itself: at interpreter exit the module's globals may already be gone.
    forget = functools.partial(_forget, _INDEXES, key)
    _INDEXES[key] = (weakref.ref(release, forget), index)
    return index


def source_index(release: Release, *, folder: Path | None = None) -> SourceIndex:
    """The index of `release`, built on first use: from its text in `folder` when given (the running bot's
    data folder), else in the folder it was registered or remembered with, else in the shipped data/. A data folder is
    read in the library layout: the release's own folder releases/<id>/ when it has one."""
    own = release_folder(folder, release) if folder is not None else None
    with _LOCK:
        entry = _INDEXES.get(id(release))
        if entry is not None and entry[0]() is release and own in (None, entry[1].folder):
            return entry[1]
        return _register(release, own or _remembered(release) or release_folder(DATA_DIR, release))


def folder_of(services: object) -> Path | None:
    """The data folder of the running bot's settings, where the follow-up services carry them (`serve`)."""
    found = getattr(getattr(services, "settings", None), "data_dir", None)
    return found if isinstance(found, Path) else None


# --- wording ----------------------------------------------------------------------------------------


def _ranges(lines: Iterable[int], lang: Lang) -> list[str]:
    """10, 26–28 (10、26〜28): consecutive lines as one range."""
    dash = "〜" if lang == "ja" else "–"
    ordered = sorted(set(lines))
    out: list[str] = []
    start = prev = None
    for n in [*ordered, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None and prev is not None:
            out.append(str(start) if start == prev else f"{start}{dash}{prev}")
        start = prev = n
    return out


def _fit(text: str, limit: int = MAX_ELEMENT) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(",", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1] + "…"


def release_element(release: Release, lang: Lang) -> str:
    """The release by publisher, date and title (a link to its page when its URL is known); escaped mrkdwn."""
    title = escape(release.title(lang))
    if release.url is not None:
        # The model's pattern keeps <, > and | out of the URL, so the link cannot be broken open.
        title = f"<{release.url}|{title}>"
    return _fit(
        msg(
            "citation.release",
            lang,
            publisher=escape(release.publisher(lang)),
            published=format_date(release.published, lang),
            title=title,
        )
    )


def cite(release: Release, lang: Lang, lines: Iterable[int]) -> Citation:
    """The citation of a reply whose facts come from `lines` of the release's original text."""
    index = source_index(release)
    shown = sorted(set(lines))
    elements = [release_element(release, lang)]
    if shown:
        ranges = _ranges(shown, lang)
        key = "citation.line" if len(shown) == 1 else "citation.lines"
        lines_text = msg(key, lang, file=index.label, lines=msg("list.separator", lang).join(ranges))
        elements.append(_fit(lines_text, MAX_LINES_ELEMENT))
    return Citation(elements=elements, source=index.label, lines=shown)


def cite_bilaterals(
    release: Release, lang: Lang, bilaterals: Iterable[Bilateral], *, full: bool, extra: Iterable[int] = ()
) -> Citation:
    """Meetings shown in full (`bilateral france`) or one line each (the list), plus any `extra` lines shown."""
    index = source_index(release)
    table = index.bilateral_full if full else index.bilateral_line
    return cite(release, lang, set(extra).union(*(table.get(b.id, frozenset()) for b in bilaterals)))


def cite_desks(release: Release, lang: Lang, desks: Iterable[Desk]) -> Citation:
    index = source_index(release)
    return cite(release, lang, set().union(*(index.desk_full.get(d.id, frozenset()) for d in desks)))


def cite_several(parts: Sequence[tuple[Release, Iterable[int]]], lang: Lang) -> Citation | None:
    """One citation for a reply whose facts come from several releases: one element per release (its name, and
    the lines cited of its own text), in the order given; None without parts. One release reads as `cite`."""
    merged: dict[int, tuple[Release, set[int]]] = {}
    for release, lines in parts:
        merged.setdefault(id(release), (release, set()))[1].update(lines)
    if not merged:
        return None
    if len(merged) == 1:
        release, lines = next(iter(merged.values()))
        return cite(release, lang, lines)
    elements: list[str] = []
    shown = list(merged.values())
    # A context block holds ten elements: nine releases, then how many more the reply draws on.
    for release, lines in shown[:9] if len(shown) > 10 else shown:
        element = release_element(release, lang)
        if lines:
            index = source_index(release)
            key = "citation.line" if len(lines) == 1 else "citation.lines"
            ranges = msg("list.separator", lang).join(_ranges(lines, lang))
            element += " — " + msg(key, lang, file=index.label, lines=ranges)
        elements.append(_fit(element))
    if len(shown) > 10:
        elements.append(msg("citation.more", lang, count=len(shown) - 9))
    return Citation(elements=elements)
