"""Find bilateral meetings and contact desks from what a user typed: names, codes, either script, typos."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz, process

from bot.release.models import Bilateral, Desk, Release
from bot.text import normalize

# Below this many characters a query must match exactly: "de" should not fuzzily become "dx".
_FUZZY_MIN_LEN = 3
_FUZZY_CUTOFF = 75.0


def _name_parts(name: str) -> Iterable[str]:
    """A full name and each part of it: "アン・ル=エナンフ" gives the whole, "アン", "ル=エナンフ", "エナンフ"."""
    yield name
    for part in re.split(r"[\s・·]+", name):
        if part:
            yield part
            yield from (p for p in re.split(r"[=-]", part) if len(p) > 1)
    joined = re.sub(r"[\s・·=-]+", "", name)
    if joined:
        yield joined


@dataclass(frozen=True)
class _Index:
    """Normalised key -> ids of the things it names."""

    keys: dict[str, tuple[str, ...]]

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str]]) -> _Index:
        keys: dict[str, list[str]] = {}
        for key, item_id in entries:
            norm = normalize(key)
            if norm and item_id not in keys.setdefault(norm, []):
                keys[norm].append(item_id)
        return cls({k: tuple(v) for k, v in keys.items()})

    def find(self, query: str) -> tuple[str, ...]:
        norm = normalize(query)
        if not norm:
            return ()
        if norm in self.keys:
            return self.keys[norm]
        if len(norm) < _FUZZY_MIN_LEN:
            return ()
        best = process.extractOne(norm, list(self.keys), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
        return self.keys[best[0]] if best else ()


class ReleaseLookup:
    """Lookups over one release; built once per loaded release and reused by every request."""

    def __init__(self, release: Release):
        self.release = release

    @cached_property
    def _bilaterals(self) -> _Index:
        def entries() -> Iterable[tuple[str, str]]:
            for b in self.release.bilaterals:
                for key in (b.id, b.code, b.organisation.ja, b.organisation.en, *b.aliases):
                    yield key, b.id
                for name in (b.counterpart.name.ja, b.counterpart.name.en):
                    for part in _name_parts(name):
                        yield part, b.id

        return _Index.build(entries())

    @cached_property
    def _desks(self) -> _Index:
        def entries() -> Iterable[tuple[str, str]]:
            for d in self.release.desks:
                for key in (d.id, *d.keywords):
                    yield key, d.id

        return _Index.build(entries())

    def bilaterals(self, query: str) -> list[Bilateral]:
        """Meetings matching `query`, in release order; Canada gives both of its meetings."""
        ids = set(self._bilaterals.find(query))
        return [b for b in self.release.bilaterals if b.id in ids]

    def desk(self, query: str) -> Desk | None:
        ids = self._desks.find(query)
        return self.release.desk(ids[0]) if ids else None

    def is_bilateral_name(self, query: str) -> bool:
        return normalize(query) in self._bilaterals.keys

    def is_desk_keyword(self, query: str) -> bool:
        return normalize(query) in self._desks.keys
