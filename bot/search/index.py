"""A BM25 index over the passages of a sequence of releases; results ranked, grouped by release, paged."""

from __future__ import annotations

import gc
import heapq
import math
import operator
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.release.models import Release
from bot.search.corpus import Corpus, Passage, passages
from bot.search.tokens import QueryWord, fold_text, query_words, terms

# BM25's usual constants: term frequency saturates after a few repeats; length normalises by three quarters.
K1 = 1.2
B = 0.75
# The team's own plans are short and would outrank what the release says; they come after it.
TEAM_PLAN_WEIGHT = 0.5


@dataclass(frozen=True)
class Indexed:
    """A passage and the release it belongs to (by position in the index's sequence)."""

    id: int
    release: int
    passage: Passage

    @property
    def text(self) -> str:
        """The passage's searchable text: Japanese, then the English, then the hidden words."""
        p = self.passage
        return "\n".join((p.ja, *p.en, *p.hidden))

    @property
    def folded(self) -> str:
        return fold_text(self.text)


@dataclass(frozen=True)
class Hit:
    """One result: the passage, its score, and the query words it holds."""

    doc: Indexed
    score: float
    matched: tuple[QueryWord, ...]


@dataclass(frozen=True)
class Group:
    """The hits of one release on a page, best first."""

    release: Release
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class Results:
    """One page of results. `every_word` is False when no passage holds all words and some-word hits are shown."""

    words: tuple[QueryWord, ...]
    groups: tuple[Group, ...]
    total: int
    page: int
    pages: int
    every_word: bool = True


def _and(maps: Sequence[dict[int, float]]) -> dict[int, float]:
    """The passages in every map (smallest first), with their weights added up."""
    common = maps[0].keys() & maps[1].keys() if len(maps) > 1 else maps[0].keys()
    for other in maps[2:]:
        common &= other.keys()
    keys = list(common)
    # map() keeps the adding in C: at 1,000 releases a two-word query adds up thousands of weights.
    totals: list[float] = list(map(maps[0].__getitem__, keys))
    for other in maps[1:]:
        totals = list(map(operator.add, totals, map(other.__getitem__, keys)))
    return dict(zip(keys, totals, strict=True))


class SearchIndex:
    """Built once from a sequence of releases (today one, the library later); read-only afterwards.

    Each term's postings are two arrays (passage ids, BM25 weights), kept compact for a library of
    thousands of releases; the weights are computed at build time, so a query only adds them up.
    """

    def __init__(self, corpora: Sequence[Corpus]):
        # Building makes millions of small tuples that all live until the arrays are made: the cyclic collector
        # would walk them again and again and could free none (29.5 s instead of 32.4 s at 1,000 releases).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._build(corpora)
        finally:
            if enabled:
                gc.enable()

    def _build(self, corpora: Sequence[Corpus]) -> None:
        self.releases = tuple(c.release for c in corpora)
        self.docs: list[Indexed] = []
        counts: dict[str, list[tuple[int, int]]] = {}
        lengths: list[int] = []
        for number, corpus in enumerate(corpora):
            for passage in passages(corpus):
                doc_id = len(self.docs)
                self.docs.append(Indexed(doc_id, number, passage))
                found = terms(fold_text("\n".join((passage.ja, *passage.en, *passage.hidden))))
                lengths.append(max(len(found), 1))
                for term, count in Counter(found).items():
                    counts.setdefault(term, []).append((doc_id, count))
        avg = sum(lengths) / len(lengths) if lengths else 1.0
        total = len(self.docs)
        self.postings: dict[str, tuple[array[int], array[float]]] = {}
        for term, posting in counts.items():
            idf = math.log(1 + (total - len(posting) + 0.5) / (len(posting) + 0.5))
            weights = []
            for doc_id, tf in posting:
                w = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[doc_id] / avg))
                # Rounded, so that equal passages tie exactly and ties go in text order.
                weights.append(round(w * TEAM_PLAN_WEIGHT if self.docs[doc_id].passage.team_plan else w, 9))
            # Best first, so a one-term query's page is the head of its list.
            ranked = sorted(zip(weights, (d for d, _ in posting), strict=True), key=lambda p: (-p[0], p[1]))
            self.postings[term] = (array("i", (d for _, d in ranked)), array("d", (w for w, _ in ranked)))

    def _word(self, word: QueryWord) -> dict[int, float]:
        """The passages holding `word`, each with the word's BM25 weight there."""
        lists = [self.postings.get(t) for t in word.terms]
        if not lists or any(p is None for p in lists):
            return {}
        maps = sorted((dict(zip(ids, weights, strict=True)) for ids, weights in (p for p in lists if p)), key=len)
        found = maps[0] if len(maps) == 1 else _and(maps)
        if len(word.folded) > 2 and word.japanese:
            # Three or more characters: the bigrams need not be next to each other, the word itself must be there.
            found = {d: s for d, s in found.items() if word.folded in self.docs[d].folded}
        return found

    def _one_term(self, word: QueryWord, *, page: int, per_page: int) -> Results:
        """The common case (量子, 仏, steel): the page is a slice of the term's list, already ranked."""
        ids, weights = self.postings.get(word.terms[0], (array("i"), array("d")))
        pages = max(1, math.ceil(len(ids) / per_page))
        page = min(max(page, 1), pages)
        start = (page - 1) * per_page
        hits = [
            Hit(self.docs[d], w, (word,)) for d, w in zip(ids[start : start + per_page], weights[start:], strict=False)
        ]
        return self._results((word,), hits, total=len(ids), page=page, pages=pages, every_word=True)

    def _results(
        self, words: tuple[QueryWord, ...], hits: list[Hit], *, total: int, page: int, pages: int, every_word: bool
    ) -> Results:
        groups: dict[int, list[Hit]] = {}
        for hit in hits:
            groups.setdefault(hit.doc.release, []).append(hit)
        return Results(
            words=words,
            groups=tuple(Group(self.releases[r], tuple(h)) for r, h in groups.items()),
            total=total,
            page=page,
            pages=pages,
            every_word=every_word,
        )

    def search(self, query: str, *, page: int = 1, per_page: int = 5) -> Results:
        """Passages holding every word of `query` (else any word, said so), best first, `per_page` a page."""
        words = tuple(query_words(query))
        if len(words) == 1 and len(words[0].terms) == 1:
            return self._one_term(words[0], page=page, per_page=per_page)
        per_word = [self._word(w) for w in words]
        scores: dict[int, float] = {}
        matched: dict[int, int] = {}
        if per_word:
            scores = _and(sorted(per_word, key=len))
        every_word = bool(scores) or not per_word
        if not scores:
            for p in per_word:
                for d, s in p.items():
                    scores[d] = scores.get(d, 0.0) + s
                    matched[d] = matched.get(d, 0) + 1
        total = len(scores)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 1), pages)
        # Most words first, then BM25; ties in text order, so a reply is the same every time (nlargest is stable).
        if matched:
            best = heapq.nsmallest(page * per_page, scores, key=lambda d: (-matched[d], -scores[d], d))
        else:
            best = heapq.nlargest(page * per_page, sorted(scores), key=scores.__getitem__)
        shown = [
            Hit(self.docs[d], scores[d], tuple(w for w, p in zip(words, per_word, strict=True) if d in p))
            for d in best[(page - 1) * per_page :]
        ]
        return self._results(words, shown, total=total, page=page, pages=pages, every_word=every_word)
