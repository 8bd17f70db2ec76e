"""A BM25 index over the passages of a sequence of releases; results ranked, grouped by release, paged."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.release.models import Release
from bot.search.corpus import Corpus, Passage, passages
from bot.search.tokens import QueryWord, english_words, fold, query_words, terms

# BM25's usual constants: term frequency saturates after a few repeats; length normalises by three quarters.
K1 = 1.2
B = 0.75
TEAM_PLAN_WEIGHT = 0.5


@dataclass(frozen=True)
class Indexed:
    """A passage with what matching needs: its release, folded text (and the map back), stemmed words."""

    id: int
    release: int
    passage: Passage
    folded: str
    where: tuple[int, ...]
    words: frozenset[str]
    length: int

    @property
    def text(self) -> str:
        """The passage's searchable text: Japanese, then the English, then the hidden words."""
        p = self.passage
        return "\n".join((p.ja, *p.en, *p.hidden))


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


class SearchIndex:
    """Built once from a sequence of releases (today one, the library later); read-only afterwards."""

    def __init__(self, corpora: Sequence[Corpus]):
        self.releases = tuple(c.release for c in corpora)
        self.docs: list[Indexed] = []
        self.postings: dict[str, dict[int, int]] = {}
        for number, corpus in enumerate(corpora):
            for passage in passages(corpus):
                self._add(number, passage)
        self.avg_length = sum(d.length for d in self.docs) / len(self.docs) if self.docs else 1.0

    def _add(self, release: int, passage: Passage) -> None:
        p = passage
        folded, where = fold("\n".join((p.ja, *p.en, *p.hidden)))
        found = terms(folded)
        doc_id = len(self.docs)
        self.docs.append(Indexed(doc_id, release, p, folded, tuple(where), english_words(folded), max(len(found), 1)))
        for term, count in Counter(found).items():
            self.postings.setdefault(term, {})[doc_id] = count

    def _idf(self, term: str) -> float:
        n = len(self.postings.get(term, ()))
        return math.log(1 + (len(self.docs) - n + 0.5) / (n + 0.5))

    def _score(self, doc_id: int, words: Sequence[QueryWord]) -> float:
        length = self.docs[doc_id].length
        norm = K1 * (1 - B + B * length / self.avg_length)
        score = 0.0
        for term in {t for w in words for t in w.terms}:
            tf = self.postings.get(term, {}).get(doc_id, 0)
            if tf:
                score += self._idf(term) * tf * (K1 + 1) / (tf + norm)
        # The team's own plans are short and would outrank what the release says; they come after it.
        return score * TEAM_PLAN_WEIGHT if self.docs[doc_id].passage.team_plan else score

    def _candidates(self, word: QueryWord) -> set[int]:
        lists = [self.postings.get(t, {}) for t in word.terms]
        if not lists or not all(lists):
            return set()
        smallest = min(lists, key=len)
        found = {d for d in smallest if all(d in other for other in lists)}
        # Bigrams in a passage need not be next to each other: the word itself must be there.
        return {d for d in found if word.matches(self.docs[d].folded, self.docs[d].words)}

    def search(self, query: str, *, page: int = 1, per_page: int = 5) -> Results:
        """Passages holding every word of `query` (else any word, said so), best first, `per_page` a page."""
        words = tuple(query_words(query))
        per_word = [self._candidates(w) for w in words]
        every = set.intersection(*per_word) if per_word else set()
        every_word = bool(every) or not per_word
        chosen = every if every else set().union(*per_word) if per_word else set()
        ranked = [
            Hit(self.docs[d], self._score(d, words), tuple(w for w, f in zip(words, per_word, strict=True) if d in f))
            for d in chosen
        ]
        # Most words first, then BM25; ties in text order, so a reply is the same every time.
        ranked.sort(key=lambda h: (-len(h.matched), -round(h.score, 9), h.doc.id))
        pages = max(1, math.ceil(len(ranked) / per_page))
        page = min(max(page, 1), pages)
        shown = ranked[(page - 1) * per_page : page * per_page]
        groups: dict[int, list[Hit]] = {}
        for hit in shown:
            groups.setdefault(hit.doc.release, []).append(hit)
        return Results(
            words=words,
            groups=tuple(Group(self.releases[r], tuple(hits)) for r, hits in groups.items()),
            total=len(ranked),
            page=page,
            pages=pages,
            every_word=every_word,
        )
