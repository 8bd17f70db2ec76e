"""What search reads of one release: its original text as sentences, and its structured data attached to them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from bot.release.models import Release, Text
from bot.schedule.models import Commitment

_SENTENCE_END = re.compile(r"(?<=。)")


@dataclass(frozen=True)
class Passage:
    """One searchable unit: a sentence of the original text (with its line), or a record not found in it.

    `en` holds the English of the structured fields whose Japanese lies in this sentence; `hidden` holds
    words that find the passage but are not shown (aliases, codes).
    """

    ja: str
    line: int | None
    en: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    # Where a passage that is not a sentence of the text comes from, e.g. "commitments.yml: fr-presidency".
    record: str | None = None
    # Text the team wrote that the release does not say (a commitment's planned action).
    team_plan: bool = False


@dataclass(frozen=True)
class Corpus:
    """One release as search sees it: the release, its original text's lines, and its commitments."""

    release: Release
    lines: Sequence[str] = ()
    commitments: Sequence[Commitment] = ()


@dataclass
class _Item:
    """One structured item (a meeting, a desk, ...): its fields, and where its longest Japanese is."""

    fields: list[Text]
    hidden: list[str] = field(default_factory=list)
    record: str = ""


def sentences(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    """Each sentence of the text (split after 。) with its line number, counted from 1; blank lines skipped."""
    for number, line in enumerate(lines, start=1):
        for piece in _SENTENCE_END.split(line.strip()):
            if piece.strip():
                yield number, piece.strip()


def _items(corpus: Corpus) -> Iterator[_Item]:
    r = corpus.release
    m = r.meeting
    if m is not None:
        yield _Item([r.title, m.name, m.city, m.country], record="release.yml: title")
        yield _Item([*m.topics, *m.japan_said, *([m.said_by] if m.said_by else [])], record="release.yml: meeting")
    # A visit without a meeting: its trip's place and delegation.
    trip = r.trip
    place = [t for t in (trip.city, trip.country) if t is not None] if trip is not None else []
    if m is None:
        yield _Item([r.title, *place], record="release.yml: title")
    for p in m.delegation if m is not None else trip.delegation if trip is not None else []:
        yield _Item([p.name, p.title], record="release.yml: meeting.delegation")
    for o in r.outcomes:
        yield _Item([o.title, *o.points], record=f"release.yml: outcomes.{o.id}")
    for text in (r.bilaterals_overview, r.outcomes_intro):
        if text is not None:
            yield _Item([text], record="release.yml")
    for b in r.bilaterals:
        yield _Item(
            [b.summary, b.counterpart.name, b.counterpart.title, b.organisation, *b.topics, *b.japan_participants]
            + ([b.note] if b.note else []),
            hidden=[b.code, *b.aliases],
            record=f"release.yml: bilaterals.{b.id}",
        )
    for d in r.desks:
        yield _Item(
            [d.topic, d.bureau, d.office, d.lead, *d.staff],
            hidden=[n for n in (d.phone, d.extension, d.direct) if n] + [d.email, *d.keywords],
            record=f"release.yml: desks.{d.id}",
        )
    for doc in r.documents:
        shown: list[Text] = [doc.title, *([doc.language] if doc.language is not None else [])]
        yield _Item(shown, hidden=[doc.format or ""], record="release.yml: documents")
    for c in corpus.commitments:
        yield _Item([c.detail, c.title], record=f"commitments.yml: {c.id}")


def passages(corpus: Corpus) -> list[Passage]:
    """The passages of one release: every sentence, with the English of what lies in it; then the rest."""
    found = list(sentences(corpus.lines))
    english: dict[int, list[str]] = {i: [] for i in range(len(found))}
    hidden: dict[int, list[str]] = {i: [] for i in range(len(found))}
    records: list[Passage] = []

    def where(ja: str) -> list[int]:
        return [i for i, (_, s) in enumerate(found) if ja in s]

    def once(ja: str) -> int | None:
        # A value found in one sentence only belongs there; a short word (AI, 量子) found in many does not.
        at = where(ja)
        return at[0] if len(at) == 1 else None

    for item in _items(corpus):
        # The item's anchor: the sentence holding its longest Japanese that the text has exactly once.
        anchor = next((i for t in sorted(item.fields, key=lambda t: -len(t.ja)) if (i := once(t.ja)) is not None), None)
        if anchor is None:
            # A value split over sentences (an outcome point of two): the sentence where it starts.
            anchor = next((i for t in item.fields if (i := _start(found, t.ja)) is not None), None)
        if anchor is None:
            # Every value is in several sentences (a title repeated by the breadcrumb, a name): the first.
            anchor = next((_first(found, t.ja) for t in item.fields if where(t.ja)), None)
        for text in item.fields:
            at = once(text.ja)
            at = _start(found, text.ja) if at is None else at
            at = anchor if at is None else at
            # A field still to be translated has no English: its `en` is the Japanese again (replies mark it).
            en = (text.en,) if text.translated else ()
            if at is None:
                records.append(Passage(ja=text.ja, line=None, en=en, hidden=tuple(item.hidden), record=item.record))
            elif en and text.en not in english[at]:
                english[at].append(text.en)
        if anchor is not None:
            hidden[anchor].extend(h for h in item.hidden if h)
    for c in corpus.commitments:
        if c.planned_action is not None:
            records.append(
                Passage(
                    ja=c.planned_action.ja,
                    line=None,
                    en=(c.planned_action.en,),
                    record=f"commitments.yml: {c.id}",
                    team_plan=True,
                )
            )
    out = [
        Passage(ja=s, line=n, en=tuple(english[i]), hidden=tuple(dict.fromkeys(hidden[i])))
        for i, (n, s) in enumerate(found)
    ]
    return out + _unique(records)


def _start(found: Sequence[tuple[int, str]], ja: str) -> int | None:
    """The sentence a value spanning several sentences starts in (its first sentence is then a substring)."""
    head = _SENTENCE_END.split(ja, maxsplit=1)[0]
    if head == ja or not head:
        return None
    at = [i for i, (_, s) in enumerate(found) if s == head or s.endswith(head)]
    return at[0] if len(at) == 1 else None


def _first(found: Sequence[tuple[int, str]], ja: str) -> int:
    """The sentence that is exactly `ja` (a heading), else the first that holds it."""
    exact = [i for i, (_, s) in enumerate(found) if s == ja]
    return exact[0] if exact else next(i for i, (_, s) in enumerate(found) if ja in s)


def _unique(records: Iterable[Passage]) -> list[Passage]:
    seen: set[tuple[str, tuple[str, ...], str | None]] = set()
    out = []
    for p in records:
        k = (p.ja, p.en, p.record)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out
