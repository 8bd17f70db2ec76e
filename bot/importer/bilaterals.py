"""Bilateral meetings in every shape METI writes them: headed subsections, paragraphs, one listing sentence."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.importer import dates
from bot.importer.lines import Source
from bot.importer.people import Counterpart, counterpart, doubt
from bot.importer.sections import Section, sentences
from bot.release.gazetteer import Gazetteer

_MEETING_WORDS = r"(?:バイ会談|二国間会談|電話会談|会談|意見交換|面会|立ち話)"
_HEAD_SUFFIX = re.compile(rf"(?:との|と)(?:の)?{_MEETING_WORDS}$")
_HEAD_DATE = re.compile(r"[\(（](?P<date>[^()（）]*[0-9０-９]+日[^()（）]*(?:[\(（][^()（）]*[\)）])?)[\)）]$")
_LISTING = re.compile(
    rf"^(?P<items>.+?)と(?:の)?{_MEETING_WORDS}(?:を)?(?:実施し|行い|行った|実施した|しました|行いました)"
)
# 「今回の出張中には、」「会合の機会に、」: the opening clause before the first counterpart.
_LEAD_IN = re.compile(r"^[^、]*?(?:中には|においては|では|には|は|に|で)、")
_PARAGRAPH = re.compile(
    r"^(?P<who>[^、。]+?)(?:とは|との会談では|との会談において|との意見交換では|との間では)、(?P<rest>.+)$"
)
# 「堀内総務副大臣及び今枝デジタル副大臣とともに、」: only officials (a post at the end), not 「確認するとともに」.
_WITH = re.compile(r"^(?P<with>[^、。]+?(?:副大臣|大臣|政務官|長官|審議官|次官|局長))(?:とともに|と共に)、")
_SPLIT_PEOPLE = re.compile(r"及び|並びに|、")


@dataclass
class Meeting:
    """One meeting with one counterpart (a meeting with two counterparts gives two, sharing `number`)."""

    number: int
    who: Counterpart
    summary: str
    lines: list[int]
    participants: list[str]
    date: dt.date | None = None
    shape: str = ""
    # Every line of the meeting's own text (a heading's whole subsection), where `lines` holds what was read.
    extent: list[int] = field(default_factory=list)

    def own(self) -> list[int]:
        return self.extent or self.lines


@dataclass
class Found:
    meetings: list[Meeting] = field(default_factory=list)
    overview: str | None = None
    problems: list[str] = field(default_factory=list)


def _split_items(text: str) -> list[str]:
    items, depth, current = [], 0, ""
    for ch in text:
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        if ch == "、" and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return [i.strip() for i in items if i.strip()]


def _people(text: str, gazetteer: Gazetteer) -> list[Counterpart] | None:
    """One counterpart, or two joined by 及び (the second may share the first's organisation)."""
    one = counterpart(text, gazetteer)
    parts = re.split(r"及び|並びに", text)
    if len(parts) == 2:
        first = counterpart(parts[0], gazetteer)
        second = counterpart(parts[1], gazetteer)
        if first and second is None:
            second = counterpart(f"{first.organisation}の{parts[1].strip()}", gazetteer)
            if second is not None:
                second = Counterpart(first.organisation, second.name, second.title)
        if first and second:
            return [first, second]
    return [one] if one else None


def _doubt(text: str, gazetteer: Gazetteer) -> str:
    """Why `_people` read no counterpart in `text`, when the reason is known (an uncertain name and post)."""
    for part in (text, *re.split(r"及び|並びに", text)):
        why = doubt(part, gazetteer)
        if why is not None:
            return f" ({why})"
    return ""


def _listing(source: Source, numbers: list[int], gazetteer: Gazetteer, found: Found) -> list[list[Counterpart]]:
    """The counterparts of a sentence listing them all, one group per meeting (「A大臣及びB次官補」 is one)."""
    for n in numbers:
        for sentence in sentences(source.line(n)):
            m = _LISTING.match(sentence)
            if not m or "の" not in m["items"]:
                continue
            items = _split_items(_LEAD_IN.sub("", m["items"]))
            people: list[list[Counterpart]] = []
            for item in items:
                got = _people(item, gazetteer)
                if got is None:
                    why = _doubt(item, gazetteer)
                    found.problems.append(f"line {n}: could not read the counterpart 「{item}」{why}")
                else:
                    people.append(got)
            if not people:
                continue
            tail = sentence[m.end() :].lstrip("、")
            if tail and "について" in tail:
                found.overview = tail
            source.use(n)
            return people
    return []


def _full(short: Counterpart, listing: list[Counterpart]) -> Counterpart:
    """The listing sentence's fuller form (given names, formal country name) of a heading's counterpart."""
    for full in listing:
        if full.name.endswith(short.name) or short.name.endswith(full.name):
            return full
    return short


def _participants(lead: str | None, summary: str) -> list[str]:
    out = [lead] if lead else []
    m = _WITH.match(summary)
    if m:
        out += [p.strip() for p in _SPLIT_PEOPLE.split(m["with"]) if p.strip() and p.strip() != lead]
    return out


def read(
    section: Section | None,
    body: list[int],
    source: Source,
    gazetteer: Gazetteer,
    *,
    lead: str | None,
    near: dt.date | None,
    lead_named: str | None = None,
) -> Found:
    """Every bilateral in the section (or, without one, in `body`), and the problems met on the way."""
    found = Found()
    numbers = section.body() if section else body
    if section and section.heading:
        source.use(section.heading.line)
    groups = _listing(source, numbers, gazetteer, found)
    listing = [who for group in groups for who in group]
    headed = [p for p in section.parts if p.heading] if section else []
    number = 0
    for part in headed:
        assert part.heading is not None
        title = part.heading.title
        when = None
        d = _HEAD_DATE.search(title)
        if d:
            span = dates.first_date(d["date"], near=near)
            when = span.start if span else None
            title = title[: d.start()].strip()
        title = _HEAD_SUFFIX.sub("", title).strip()
        people = _people(title, gazetteer)
        number = part.heading.number
        body_lines = [n for n in part.body if source.line(n)]
        if people is None or not body_lines:
            what = (
                f"its counterpart{_doubt(title, gazetteer)}"
                if people is None
                else "its text (no paragraph under the heading)"
            )
            found.problems.append(
                f"line {part.heading.line}: bilateral 「{part.heading.title}」: could not read {what}"
            )
            continue
        summary = source.line(body_lines[0])
        source.use(part.heading.line, body_lines[0])
        for who in people:
            found.meetings.append(
                Meeting(
                    number,
                    _full(who, listing),
                    summary,
                    [part.heading.line, body_lines[0]],
                    _participants(lead, summary),
                    when,
                    "heading",
                    [part.heading.line, *part.body],
                )
            )
    if not headed:
        for n in numbers:
            m = _PARAGRAPH.match(source.line(n))
            people = _people(m["who"], gazetteer) if m else None
            if m and people is None and (why := _doubt(m["who"], gazetteer)):
                found.problems.append(f"line {n}: could not read the counterpart 「{m['who']}」{why}")
            if m and people:
                number += 1
                source.use(n)
                for who in people:
                    found.meetings.append(
                        Meeting(
                            number,
                            _full(who, listing),
                            m["rest"],
                            [n],
                            _participants(lead, m["rest"]),
                            None,
                            "paragraph",
                        )
                    )
    if not found.meetings and listing:
        # Only the listing sentence: every counterpart shares what it says they discussed.
        line = next(n for n in numbers if any(p.name in source.line(n) for p in listing))
        summary = found.overview or source.line(line)
        for i, group in enumerate(groups, 1):
            for who in group:
                found.meetings.append(Meeting(i, who, summary, [line], [lead] if lead else [], None, "listing"))
    _lead_as_named(found.meetings, source, lead, lead_named)
    return found


def _lead_as_named(meetings: list[Meeting], source: Source, lead: str | None, named: str | None) -> None:
    """The lead in a meeting whose text does not name them, written as the lead paragraph names them.

    The short form (松田大臣) may be said only in another meeting's text: written here, it would be that
    meeting's words, and its citation would point there. Kept where the text first says it outside every meeting.
    """
    if not lead or not named or lead == named or named not in source.text:
        return
    first = next((n for n in source.numbers() if lead in source.line(n)), None)
    for m in meetings:
        if lead not in m.participants or any(lead in source.line(n) for n in m.own()):
            continue
        others = {n for o in meetings if o.number != m.number for n in o.own()}
        if first is None or first in others:
            m.participants = [named if p == lead else p for p in m.participants]


def topics(summary: str) -> list[str]:
    """What a meeting was about: the words before its last について, split at や; else its first clause."""
    i = summary.rfind("について")
    if i > 0:
        phrase = summary[:i].rsplit("、", 1)[-1]
        phrase = phrase[:-1] if phrase.endswith("等") else phrase
        words = [w for w in phrase.split("や") if w]
        if words and all(len(w) <= 150 for w in words):
            return words
    first = summary.split("、", 1)[0]
    return [first[:150]]
