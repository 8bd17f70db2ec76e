"""Find bilateral meetings and contact desks from what staff type: codes, names, posts, ministries, typos.

How a query is read (the same for meetings and desks):

1. The whole query, then the longest run of words, is looked up as one known name ("united states",
   "dg cnect", "ドイツ連邦共和国"). Names come from the release (organisation, counterpart, post, desk
   fields, both languages) and from data/gazetteer.yml (codes, demonyms, formal names, ministries).
2. A word that is not a name is a filler ("with", "の"), or a word of a post or desk line ("minister",
   "商務"), or it is split: Japanese at its hiragana (フランスとの会談 -> フランス, 会談), then at the known
   words inside it (ロウエンホフ政務次官 -> ロウエンホフ, 政務次官).
3. Only then, and only for words longer than SHORT characters, a misspelling is corrected (rapidfuzz), and
   the correction is reported so the reply can say so. Codes and short words match exactly or not at all:
   "U.K." is "uk", never "us".

Meetings are combined per country: names of one country narrow each other ("canada joly" is Joly), names
of different countries add up ("france germany" is both); words of a post then narrow what is left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from bot.release.gazetteer import Gazetteer, key, shipped_gazetteer
from bot.release.models import Bilateral, Desk, Release, Text

# A code or word this short (after normalising) matches exactly or not at all: "uk" must never become "us".
SHORT = 3
_FUZZY_CUTOFF = 75.0
# Several words typed together are read as one name up to this many words ("federal ministry for ...").
_MAX_PHRASE = 12

_CHUNKS = re.compile(r"[\s,、,。?？!！/／;；]+")
_HIRAGANA = re.compile(r"[\u3041-\u3096\u309d\u309e]+")
_ASCII_RUN = re.compile(r"[a-z0-9][a-z0-9&\-]*")
_TEXT_WORDS = re.compile(r"[\s・·()（）=/\-–]+")
_NAME_PARTS = re.compile(r"[\s・·()（）]+")
_SEPARATORS = " ・·=()（）-"

T = TypeVar("T")


def _name_parts(name: str) -> Iterator[str]:
    """A full name and each part of it: "アン・ル=エナンフ" gives the whole, "アン", "ル=エナンフ", "エナンフ"."""
    yield name
    for part in _NAME_PARTS.split(name):
        if part:
            yield part
            yield from (p for p in re.split(r"[=-]", part) if len(p) > 1)
    joined = re.sub(r"[\s・·=-]+", "", re.sub(r"\(.*?\)", "", name))
    if joined:
        yield joined


def _words(text: str) -> str:
    """Normalised text as space-separated words, for whole-word containment ("ai" is not in "said")."""
    return " " + " ".join(w for w in _TEXT_WORDS.split(key(text)) if w) + " "


@dataclass(frozen=True)
class _Field:
    """A piece of structured text a typed word may be part of: a counterpart's post, a desk's topic line."""

    text: str
    words: str

    @classmethod
    def of(cls, texts: Iterable[str]) -> list[_Field]:
        return [cls(key(t), _words(t)) for t in texts]


@dataclass(frozen=True)
class Correction:
    """A misspelt word and what it was read as: `ids` of the meetings or desks it now names."""

    typed: str
    ids: tuple[str, ...]
    person: bool = False


@dataclass
class _Reading(Generic[T]):
    """What the words of one query were read as."""

    names: list[T] = field(default_factory=list)
    attrs: list[frozenset[str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    corrected: list[tuple[str, T]] = field(default_factory=list)

    @property
    def found_anything(self) -> bool:
        return bool(self.names or self.attrs)

    def add(self, other: _Reading[T]) -> None:
        self.names += other.names
        self.attrs += other.attrs
        self.unknown += other.unknown
        self.corrected += other.corrected


class _Reader(Generic[T]):
    """Reads a query against known names (value T each), filler words and the words of structured fields."""

    def __init__(
        self,
        *,
        names: dict[str, T],
        exact_only: set[str],
        ignore: set[str],
        segment_words: Iterable[str],
        attr: Callable[[str], frozenset[str]],
    ):
        self.names = names
        self.ignore = ignore
        self.attr = attr
        self.fuzzy_keys = [k for k in names if k not in exact_only and len(k) > SHORT]
        words = {w for w in (*names, *ignore, *segment_words) if len(w) >= 2 and not w.isascii()}
        self.segment_words = words
        self.longest = max((len(w) for w in words), default=0)

    def read(self, raw: str) -> _Reading[T]:
        out: _Reading[T] = _Reading()
        whole = key(raw)
        if not whole:
            return out
        if whole in self.names:
            out.names.append(self.names[whole])
            return out
        chunks = [c for c in _CHUNKS.split(raw) if key(c)]
        i = 0
        while i < len(chunks):
            for j in range(min(len(chunks), i + _MAX_PHRASE), i + 1, -1):
                phrase = key(" ".join(chunks[i:j]))
                if phrase in self.names:
                    out.names.append(self.names[phrase])
                    i = j
                    break
            else:
                self._chunk(chunks[i], out)
                i += 1
        if not out.found_anything and len(whole) > SHORT and len(chunks) > 1:
            # "untied states": no single word is close to anything, the whole is.
            fixed = self._fuzzy(whole)
            if fixed is not None:
                return _Reading(names=[self.names[fixed]], corrected=[(raw.strip(), self.names[fixed])])
        return out

    def _known(self, k: str, out: _Reading[T]) -> bool:
        if k in self.names:
            out.names.append(self.names[k])
            return True
        if k in self.ignore:
            return True
        ids = self.attr(k)
        if ids:
            out.attrs.append(ids)
            return True
        return False

    def _chunk(self, raw: str, out: _Reading[T]) -> None:
        k = key(raw)
        if not k or self._known(k, out):
            return
        # Hiragana between names is grammar (と, の, を話した); a name typed in hiragana was caught above.
        parts = [p for p in _HIRAGANA.split(raw) if key(p)]
        if len(parts) != 1 or key(parts[0]) != k:
            for part in parts:
                self._chunk(part, out)
            return
        if len(k) > 1 and k[0] in self.names:
            # 米商務次官, 加産業大臣: a one-kanji country before a post, as Japanese headlines write it. Only
            # when the rest is wholly understood, so that 独自 or 加速 never name Germany or Canada.
            rest = self._read_pieces(self._segment(k[1:]))
            if rest.found_anything and not rest.unknown:
                out.names.append(self.names[k[0]])
                out.add(rest)
                return
        pieces = self._segment(k)
        if len(pieces) > 1:
            inner = self._read_pieces(pieces)
            if inner.found_anything:
                out.add(inner)
                return
        fixed = self._fuzzy(k)
        if fixed is not None:
            out.names.append(self.names[fixed])
            out.corrected.append((raw, self.names[fixed]))
            return
        out.unknown.append(raw)

    def _read_pieces(self, pieces: list[str]) -> _Reading[T]:
        inner: _Reading[T] = _Reading()
        for piece in pieces:
            if not self._known(piece, inner):
                inner.unknown.append(piece)
        return inner

    def _segment(self, k: str) -> list[str]:
        """Split a run of Japanese at the known words inside it; Latin letters are a word of their own."""
        if len(k) > 1 and all(ch in self.names for ch in k):
            return list(k)  # 米英: each character is a country
        pieces: list[str] = []
        buf = ""
        i = 0
        while i < len(k):
            m = _ASCII_RUN.match(k, i)
            found = (
                m.group()
                if m
                else next(
                    (
                        k[i : i + n]
                        for n in range(min(self.longest, len(k) - i), 1, -1)
                        if k[i : i + n] in self.segment_words
                    ),
                    None,
                )
            )
            if found is None:
                buf += k[i]
                i += 1
                continue
            if buf.strip(_SEPARATORS):
                pieces.append(buf.strip(_SEPARATORS))
            buf = ""
            pieces.append(found)
            i += len(found)
        if buf.strip(_SEPARATORS):
            pieces.append(buf.strip(_SEPARATORS))
        return pieces

    def _fuzzy(self, k: str) -> str | None:
        if len(k) <= SHORT:
            return None
        best = process.extractOne(k, self.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
        return best[0] if best else None


@dataclass(frozen=True)
class _Named:
    """The meetings one name stands for, and the country (or organisation) code it belongs to."""

    code: str
    ids: frozenset[str]
    person: bool = False


@dataclass(frozen=True)
class BilateralMatch:
    """The meetings a query names, in release order; misspellings that were corrected; words not understood."""

    bilaterals: tuple[Bilateral, ...] = ()
    corrections: tuple[Correction, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeskMatch:
    """The desks a query names, in release order; misspellings that were corrected; words not understood."""

    desks: tuple[Desk, ...] = ()
    corrections: tuple[Correction, ...] = ()
    unknown: tuple[str, ...] = ()


def _both(text: Text) -> tuple[str, str]:
    return text.ja, text.en


class ReleaseLookup:
    """Lookups over one release; built once per loaded release and reused by every request."""

    def __init__(self, release: Release, gazetteer: Gazetteer | None = None):
        self.release = release
        self.gazetteer = gazetteer if gazetteer is not None else shipped_gazetteer()

    # --- shared vocabulary -----------------------------------------------------------------------------

    @cached_property
    def _ignore(self) -> set[str]:
        return {key(w) for w in self.gazetteer.ignore}

    @cached_property
    def _synonyms(self) -> dict[str, tuple[str, ...]]:
        groups: dict[str, tuple[str, ...]] = {}
        for group in self.gazetteer.synonyms:
            words = tuple(dict.fromkeys(" ".join(_TEXT_WORDS.split(key(w))).strip() for w in group))
            for w in words:
                groups[w] = tuple(dict.fromkeys((*groups.get(w, ()), *words)))
        return groups

    def _in_field(self, piece: str, fields: list[_Field]) -> bool:
        """Whether `piece` (or a synonym) is part of one of the fields: whole words for Latin, any run otherwise."""
        spaced = " ".join(w for w in _TEXT_WORDS.split(piece) if w)
        for form in self._synonyms.get(spaced, (spaced,)):
            if form.isascii():
                if any(f" {form} " in f.words for f in fields):
                    return True
            elif len(form) >= 2 and any(form in f.text for f in fields):
                return True
        return False

    def is_filler(self, word: str) -> bool:
        """Whether a word names nobody ("with", "何", "会談"): natural phrasing relies on it."""
        return key(word) in self._ignore

    # --- bilateral meetings ----------------------------------------------------------------------------

    @cached_property
    def _code_ids(self) -> dict[str, frozenset[str]]:
        codes: dict[str, set[str]] = {key(p.code): set() for p in self.gazetteer.countries}
        for b in self.release.bilaterals:
            codes.setdefault(key(b.code), set()).add(b.id)
        return {c: frozenset(ids) for c, ids in codes.items()}

    @cached_property
    def _posts(self) -> dict[str, list[_Field]]:
        return {b.id: _Field.of(_both(b.counterpart.title)) for b in self.release.bilaterals}

    def _post_ids(self, piece: str) -> frozenset[str]:
        words = [w for w in piece.split() if w not in self._ignore] if piece.isascii() else [piece]
        if not words:
            return frozenset()
        return frozenset(
            b.id for b in self.release.bilaterals if all(self._in_field(w, self._posts[b.id]) for w in words)
        )

    @cached_property
    def _bilateral_reader(self) -> _Reader[tuple[_Named, ...]]:
        names: dict[str, dict[str, _Named]] = {}
        exact: set[str] = set()

        def add(text: str, named: _Named, *, exact_only: bool = False) -> None:
            k = key(text)
            if not k:
                return
            per_code = names.setdefault(k, {})
            old = per_code.get(named.code)
            # Two names for one code merge: the broader wins, so "canada" stays both meetings.
            if old is None or named.ids > old.ids:
                per_code[named.code] = named
            if exact_only:
                exact.add(k)

        for place in self.gazetteer.countries:
            code = key(place.code)
            country = _Named(code, self._code_ids[code])
            for c in (place.code, *place.codes):
                add(c, country, exact_only=True)
            for name in place.names:
                add(name, country)
        for body in self.gazetteer.bodies:
            code = key(body.of)
            whole = self._code_ids.get(code, frozenset())
            named_in_post = frozenset(
                i
                for i in whole
                if any(self._in_field(key(n), self._posts[i]) for n in body.names if len(key(n)) > SHORT)
            )
            named = _Named(code, named_in_post or whole)
            for c in body.codes:
                add(c, named, exact_only=True)
            for name in body.names:
                add(name, named)
        for b in self.release.bilaterals:
            code = key(b.code)
            country = _Named(code, self._code_ids[code])
            add(b.code, country, exact_only=True)
            for text in (*_both(b.organisation), *b.aliases):
                add(text, country)
            person = _Named(code, frozenset({b.id}), person=True)
            add(b.id, person, exact_only=True)
            for name in _both(b.counterpart.name):
                for part in _name_parts(name):
                    add(part, person)
            for title in _both(b.counterpart.title):
                add(title, _Named(code, frozenset({b.id})))
        return _Reader(
            names={k: tuple(v.values()) for k, v in names.items()},
            exact_only=exact,
            ignore=self._ignore,
            segment_words=[key(p) for p in self.gazetteer.posts] + [w for w in self._synonyms if not w.isascii()],
            attr=self._post_ids,
        )

    def find_bilaterals(self, query: str) -> BilateralMatch:
        """The meetings `query` names; see the module docstring for how it is read."""
        reading = self._bilateral_reader.read(query)
        by_code: dict[str, list[_Named]] = {}
        for named in reading.names:
            for n in named:
                by_code.setdefault(n.code, []).append(n)
        ids: set[str] = set()
        if by_code:
            for code, found in by_code.items():
                whole = self._code_ids.get(code, frozenset())
                narrower = [n.ids for n in found if n.ids != whole]
                ids |= set().union(*narrower) if narrower else whole
            narrowed = {i for i in ids if all(i in a for a in reading.attrs)}
            if narrowed:
                ids = narrowed
        elif reading.attrs and not reading.unknown:
            ids = set.intersection(*(set(a) for a in reading.attrs))
        corrections = tuple(
            Correction(typed, tuple(sorted(shown)), person=any(n.person for n in named))
            for typed, named in reading.corrected
            if (shown := ids & set().union(*(n.ids for n in named)))
        )
        return BilateralMatch(
            bilaterals=tuple(b for b in self.release.bilaterals if b.id in ids),
            corrections=corrections,
            unknown=tuple(reading.unknown),
        )

    # --- contact desks ---------------------------------------------------------------------------------

    @cached_property
    def _desk_fields(self) -> dict[str, list[_Field]]:
        return {d.id: _Field.of((*_both(d.topic), *_both(d.bureau), *_both(d.office))) for d in self.release.desks}

    def _desk_words(self, piece: str) -> frozenset[str]:
        words = [w for w in piece.split() if w not in self._ignore] if piece.isascii() else [piece]
        if not words:
            return frozenset()
        return frozenset(
            d.id for d in self.release.desks if all(self._in_field(w, self._desk_fields[d.id]) for w in words)
        )

    @cached_property
    def _desk_reader(self) -> _Reader[frozenset[str]]:
        names: dict[str, set[str]] = {}
        exact: set[str] = set()

        def add(text: str, desk_id: str, *, exact_only: bool = False) -> None:
            k = key(text)
            if k:
                names.setdefault(k, set()).add(desk_id)
                if exact_only:
                    exact.add(k)

        for d in self.release.desks:
            add(d.id, d.id, exact_only=True)
            for word in d.keywords:
                add(word, d.id)
            for person in (d.lead, *d.staff):
                for name in _both(person):
                    for part in _name_parts(name):
                        add(part, d.id)
            for bureau, office in ((d.bureau.ja, d.office.ja), (d.bureau.en, d.office.en)):
                for text in (bureau, office, f"{bureau} {office}"):
                    add(text, d.id)
            for text in (d.topic.ja, d.topic.en):
                add(text, d.id)
            # Numbers and addresses are exact: 3051 must not be taken for 3991.
            both = f"{d.phone} {d.extension}" if d.phone and d.extension else None
            for number in (d.extension, d.phone, both, d.direct, d.email, d.email_as_published):
                if number:
                    add(number, d.id, exact_only=True)
        return _Reader(
            names={k: frozenset(v) for k, v in names.items()},
            exact_only=exact,
            ignore=self._ignore,
            segment_words=(),
            attr=self._desk_words,
        )

    def find_desks(self, query: str) -> DeskMatch:
        """The desks `query` names: by staff, lead, bureau, office, extension or the words of their topic."""
        reading = self._desk_reader.read(query)
        named: set[str] = set().union(*reading.names) if reading.names else set()
        by_words = set.intersection(*(set(a) for a in reading.attrs)) if reading.attrs else set()
        if named:
            ids = (named & by_words) or named
        elif reading.unknown:
            ids = set()  # a word we cannot place: say so rather than guess from the rest
        else:
            ids = by_words
        corrections = tuple(
            Correction(typed, tuple(sorted(ids & desks))) for typed, desks in reading.corrected if ids & desks
        )
        return DeskMatch(
            desks=tuple(d for d in self.release.desks if d.id in ids),
            corrections=corrections,
            unknown=tuple(reading.unknown),
        )

    # --- short forms used by "did you mean" ------------------------------------------------------------

    def bilaterals(self, query: str) -> list[Bilateral]:
        """Meetings matching `query`, in release order; Canada gives both of its meetings."""
        return list(self.find_bilaterals(query).bilaterals)

    def desk(self, query: str) -> Desk | None:
        """The one desk `query` names, or None (nothing, or several)."""
        desks = self.find_desks(query).desks
        return desks[0] if len(desks) == 1 else None

    def is_bilateral_name(self, query: str) -> bool:
        """Whether `query` is exactly a name of a place or person Japan met."""
        found = self._bilateral_reader.names.get(key(query), ())
        return any(n.ids for n in found)

    def is_desk_keyword(self, query: str) -> bool:
        return key(query) in self._desk_reader.names
