"""The meeting section: name, dates, place, presidency, delegation, topics, what Japan said, outcomes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.importer import dates
from bot.importer.lines import Source
from bot.importer.people import JA_RANKS, Official, official
from bot.importer.sections import Section, sentences

_LEAD_PERSON = re.compile(rf"^(?P<who>[^、。\s]+?(?:{'|'.join(JA_RANKS)}))(?:は|が)")
# 「カナダのモントリオールに出張」; 「今年のG20議長国である日本のつくば市において」 names 日本 and つくば市.
# 「サウジアラビア王国のリヤド及びアラブ首長国連邦のアブダビを訪問し」: further places joined by 及び are `more`.
_PLACE_ITEM = r"[^、。\sの]+?の[^、。\sの]+?"
_PLACE = re.compile(
    r"(?:[^、。\s]*?である)?(?P<country>[^、。\sの]+?)の(?P<city>[^、。\sの]+?)"
    rf"(?P<more>(?:(?:及び|並びに){_PLACE_ITEM})*)(?:に出張|を訪問|を訪れ|において|で開催|にて)"
)
_JOINED = re.compile(r"及び|並びに")
_PRESIDENCY = re.compile(r"議長国である(?P<p>[^、。のにで]+?)(?:の|に|で|が|、)")
_TOPICS = re.compile(r"会合では、(?P<t>.+?)について")
_SAID_BY = re.compile(r"^(?P<by>[^、。]+?)からは、")
_CONNECTOR = re.compile(r"^(?:また|一方|さらに|更に|加えて|その上で)、")
_OFFICIAL_END = re.compile(rf"(?:{'|'.join(JA_RANKS)})$")


@dataclass
class MeetingFound:
    name: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    trip: dates.Span | None = None
    city: str | None = None
    country: str | None = None
    presidency: str | None = None
    lead: Official | None = None
    delegation: list[Official] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    said_by: str | None = None
    japan_said: list[str] = field(default_factory=list)
    outcomes: list[tuple[str, list[str]]] = field(default_factory=list)
    outcomes_intro: str | None = None
    # What the place sentence held that was not written (a second place, a joined name): for the report.
    place_notes: list[str] = field(default_factory=list)
    place_read: bool = False

    def read_place(self, text: str, line: int | None) -> None:
        """The first place of `text`; a second is reported (a release holds one), a joined name not written."""
        m = _PLACE.search(text)
        if m is None:
            return
        self.place_read = True
        where = f"line {line}: " if line is not None else ""
        if _JOINED.search(m["country"]) or _JOINED.search(m["city"]):
            # 「サウジアラビア王国及びアラブ首長国連邦のアブダビ」: the text does not say which country the city is in.
            self.place_notes.append(
                f"{where}place 「{m['country']}の{m['city']}」 joins several names: city and country left for a person"
            )
            return
        self.country, self.city = m["country"], m["city"]
        for other in _JOINED.split(m["more"])[1:]:
            kept = f"{m['country']}の{m['city']}"
            note = f"second place 「{other}」 not used: a release holds one place (kept 「{kept}」)"
            self.place_notes.append(where + note)


def lead_person(title: str | None, lead: str | None, text: str) -> Official | None:
    for candidate in (lead, title):
        m = _LEAD_PERSON.match(candidate or "")
        if m:
            return official(m["who"], text)
    return None


def _split_topics(phrase: str) -> list[str]:
    phrase = phrase[:-1] if phrase.endswith("等") else phrase
    out: list[str] = []
    for part in phrase.split("、"):
        pieces = part.split("・")
        # 「強靱化・産業競争力強化」 is two topics; 「G7産業・デジタル」 is one name.
        if len(pieces) == 2 and all(len(p) >= 5 for p in pieces):
            out += pieces
        elif part:
            out.append(part)
    return [t for t in out if len(t) <= 150]


def _delegation(sentence: str, lead: Official | None, text: str) -> list[Official]:
    m = re.search(r"(?:が|も)(?:参加|出席|同行)", sentence)
    if not m:
        return []
    items = re.split(r"、|及び|並びに", sentence[: m.start()])
    people: list[Official] = []
    for raw in reversed(items):
        item = raw.strip()
        if not _OFFICIAL_END.search(item):
            break
        if lead and item in (lead.short, lead.name + lead.title):
            people.append(lead)
        elif (person := official(item, text)) is not None:
            people.append(person)
        else:
            break
    return list(reversed(people))


def read(
    section: Section | None,
    lead_text: str | None,
    source: Source,
    *,
    title: str | None,
    near: dt.date | None,
    lead_line: int | None = None,
) -> MeetingFound:
    found = MeetingFound()
    found.lead = lead_person(title, lead_text, source.text)
    if lead_text:
        found.trip = dates.first_range(lead_text, near=near)
        found.read_place(lead_text, lead_line)
    if section is None:
        return found
    assert section.heading is not None
    found.name = section.heading.title
    source.use(section.heading.line)
    first = section.parts[0]
    body = [(n, source.line(n)) for n in first.body if source.line(n)]
    for n, text in body:
        span = dates.first_range(text, near=near) if found.start is None else None
        if span:
            found.start, found.end = span.start, span.end
            source.use(n)
        if not found.place_read:
            found.read_place(text, n)
        if found.presidency is None and (m := _PRESIDENCY.search(text)):
            found.presidency = m["p"]
            source.use(n)
        if not found.delegation:
            for sentence in sentences(text):
                found.delegation = _delegation(sentence, found.lead, source.text)
                if found.delegation:
                    source.use(n)
                    break
        if not found.topics and (m := _TOPICS.search(text)):
            found.topics = _split_topics(m["t"])
            source.use(n)
    saying = False
    for n, text in body:
        if found.said_by is None and (m := _SAID_BY.match(text)):
            found.said_by, saying = m["by"], True
        elif saying and (text.startswith(("会合の成果", "会議の成果")) or not _CONNECTOR.match(text)):
            saying = False
        if saying:
            for sentence in sentences(text):
                said = (
                    sentence[len(f"{found.said_by}からは、") :]
                    if sentence.startswith(f"{found.said_by}からは、")
                    else sentence
                )
                said = _CONNECTOR.sub("", said)
                if said.endswith("。"):
                    found.japan_said.append(said)
            source.use(n)
        for sentence in sentences(text):
            if "以下のとおり" in sentence:
                found.outcomes_intro = sentence
                source.use(n)
    for part in section.parts[1:]:
        assert part.heading is not None
        points = [
            source.line(n).lstrip("-・●").strip() for n in part.body if source.line(n).startswith(("-", "・", "●"))
        ]
        if points:
            found.outcomes.append((part.heading.title, points))
            source.use(part.heading.line, *[n for n in part.body if source.line(n).startswith(("-", "・", "●"))])
    if found.trip is None and found.start and found.end:
        found.trip = dates.Span(found.start, found.end, "")
    return found
