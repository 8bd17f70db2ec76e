"""A BM25 index over the passages of a sequence of releases, kept in SQLite; results ranked, grouped, paged.

Each term's postings are two blobs: passage ids (int32) and their BM25 weights (float32), best first, so a
one-term query's page is a slice of its list and a two-word query intersects two arrays. The weights are
computed when the index is built; a query only adds them up. The passages themselves are rows, read only for
the hits shown. The same file serves every process and survives restarts (see bot.search.loaded).
"""

from __future__ import annotations

import gc
import heapq
import json
import math
import sqlite3
import sys
import threading
from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bot.release.models import Release
from bot.search.corpus import Corpus, Passage, passages
from bot.search.tokens import QueryWord, fold_text, query_words, terms

# BM25's usual constants: term frequency saturates after a few repeats; length normalises by three quarters.
K1 = 1.2
B = 0.75
# The team's own plans are short and would outrank what the release says; they come after it.
TEAM_PLAN_WEIGHT = 0.5
# A passage's count of one term, packed under its id in 20 bits (a sentence repeats no term a million times).
_TF_BITS = 20
_TF_MAX = (1 << _TF_BITS) - 1
# Bump when what is stored changes shape (the cache key also covers the code that makes the passages and terms).
FORMAT = 2
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE releases (pos INTEGER PRIMARY KEY, id TEXT NOT NULL, first INTEGER NOT NULL, stop INTEGER NOT NULL);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, release INTEGER NOT NULL, line INTEGER, ja TEXT NOT NULL, en TEXT NOT NULL,
    hidden TEXT NOT NULL, record TEXT, team_plan INTEGER NOT NULL, folded TEXT NOT NULL
);
CREATE TABLE terms (term TEXT PRIMARY KEY, ids BLOB NOT NULL, weights BLOB NOT NULL) WITHOUT ROWID;
"""


class StaleIndex(Exception):
    """A stored index that does not hold the releases it was opened for (or is not an index at all)."""


@dataclass(frozen=True)
class Indexed:
    """A passage and the release it belongs to (by position in the index's sequence)."""

    id: int
    release: int
    passage: Passage

    @property
    def text(self) -> str:
        """The passage's searchable text: Japanese, then the English, then the hidden words."""
        return searchable(self.passage)

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


def searchable(p: Passage) -> str:
    return "\n".join((p.ja, *p.en, *p.hidden))


def _connect(path: Path | None) -> sqlite3.Connection:
    # One connection per index, used under the index's lock: requests come from the event loop, builds from a
    # worker, `ask` from the main thread.
    db = sqlite3.connect(":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA cache_size = -4096")
    return db


class SearchIndex:
    """A built index, read-only: `build()` makes one (in memory, or into a file), `open()` reads a file."""

    def __init__(self, db: sqlite3.Connection, releases: Sequence[Release], *, path: Path | None = None):
        self._db = db
        self._lock = threading.Lock()
        self.path = path
        self.releases = tuple(releases)
        rows = db.execute("SELECT pos, id, first, stop FROM releases ORDER BY pos").fetchall()
        if [r[1] for r in rows] != [r.id for r in self.releases]:
            raise StaleIndex(f"the index holds releases {[r[1] for r in rows][:3]}..., not the library's")
        # Passage ids run release by release: release `pos` holds ids first <= id < stop.
        self._ranges = [(first, stop) for _, _, first, stop in rows]
        self.size = rows[-1][3] if rows else 0

    # --- building ---------------------------------------------------------------------------------------------

    @classmethod
    def build(cls, corpora: Iterable[Corpus], *, path: Path | None = None, key: str = "") -> SearchIndex:
        """Index `corpora` (in this order) into `path` (which must not exist yet), or in memory when None.

        `key` is stored with it, so that `open()` can tell an index of other content (see bot.search.loaded).
        """
        db = _connect(path)
        # Building makes millions of small objects that all live until the blobs are written: the cyclic
        # collector would walk them again and again and could free none.
        enabled = gc.isenabled()
        gc.disable()
        try:
            releases = _fill(db, corpora, key)
        except BaseException:
            db.close()
            raise
        finally:
            if enabled:
                gc.enable()
        return cls(db, releases, path=path)

    @classmethod
    def open(cls, path: Path, releases: Sequence[Release], *, key: str | None = None) -> SearchIndex:
        """The index stored at `path`, which must hold `releases` in this order (and `key`, when given)."""
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA cache_size = -4096")
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != str(FORMAT) or (key is not None and meta.get("key") != key):
                raise StaleIndex(f"{path} is another index (format {meta.get('format')}, key {meta.get('key')})")
            return cls(db, releases, path=path)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StaleIndex(f"{path} cannot be read: {exc}") from exc
        except StaleIndex:
            db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- reading ------------------------------------------------------------------------------------------------

    def _postings(self, term: str) -> tuple[array[int], array[float]]:
        row = self._db.execute("SELECT ids, weights FROM terms WHERE term = ?", (term,)).fetchone()
        ids, weights = array("i"), array("f")
        if row is not None:
            ids.frombytes(row[0])
            weights.frombytes(row[1])
            if sys.byteorder != "little":
                ids.byteswap()
                weights.byteswap()
        return ids, weights

    def _docs(self, ids: Iterable[int]) -> dict[int, Indexed]:
        rows = self._db.execute(
            "SELECT id, release, line, ja, en, hidden, record, team_plan FROM passages "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        ).fetchall()
        return {
            row[0]: Indexed(
                row[0],
                row[1],
                Passage(
                    ja=row[3],
                    line=row[2],
                    en=tuple(json.loads(row[4])),
                    hidden=tuple(json.loads(row[5])),
                    record=row[6],
                    team_plan=bool(row[7]),
                ),
            )
            for row in rows
        }

    def doc(self, doc_id: int) -> Indexed:
        with self._lock:
            return self._docs([doc_id])[doc_id]

    def docs(self) -> list[Indexed]:
        """Every passage, in id order (benchmarks and tests; a query reads only what it shows)."""
        with self._lock:
            found = self._docs(range(self.size))
        return [found[i] for i in range(self.size)]

    @cached_property
    def vocabulary(self) -> tuple[str, ...]:
        """The English words of the index longer than three letters (what "did you mean" offers)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT substr(term, 3) FROM terms WHERE term >= 'w:' AND term < 'w;' AND length(term) > 5"
            ).fetchall()
        return tuple(r[0] for r in rows)

    def _in(self, allowed: Collection[int] | None) -> Collection[range] | None:
        if allowed is None:
            return None
        return [range(*self._ranges[pos]) for pos in sorted(set(allowed))]

    def _every(self, words: Sequence[QueryWord], ranges: Collection[range] | None) -> dict[int, float]:
        """The passages holding every one of `words` (in the allowed releases), with their BM25 weights added up."""
        lists = sorted((self._postings(t) for w in words for t in w.terms), key=lambda p: len(p[0]))
        if not lists or not lists[0][0]:
            return {}
        ids, weights = lists[0]
        found = dict(zip(ids, weights, strict=True))
        if ranges is not None:
            found = {d: w for d, w in found.items() if any(d in r for r in ranges)}
        for other_ids, other_weights in lists[1:]:
            # Walking the longer list once costs less than making a dict of it.
            found = {d: w + found[d] for d, w in zip(other_ids, other_weights, strict=True) if d in found}
            if not found:
                return found
        for word in words:
            if not word.exact:
                # Four or more characters: the trigrams need not be next to each other, the word itself must be.
                found = {d: found[d] for d in self._holding(found, word.folded)}
        return found

    def _holding(self, ids: Iterable[int], folded: str) -> list[int]:
        """Those of `ids` whose folded text holds `folded` (SQLite reads and compares them, not Python)."""
        rows = self._db.execute(
            "SELECT id FROM passages WHERE id IN (SELECT value FROM json_each(?)) AND instr(folded, ?) > 0",
            (json.dumps(list(ids)), folded),
        )
        return [r[0] for r in rows]

    def _one_term(self, word: QueryWord, *, page: int, per_page: int, ranges: Collection[range] | None) -> Results:
        """The common case (量子, 仏, steel): the page is a slice of the term's list, already ranked."""
        ids, weights = self._postings(word.terms[0])
        if ranges is not None:
            kept = [(d, w) for d, w in zip(ids, weights, strict=True) if any(d in r for r in ranges)]
            ids, weights = array("i", (d for d, _ in kept)), array("f", (w for _, w in kept))
        pages = max(1, math.ceil(len(ids) / per_page))
        page = min(max(page, 1), pages)
        start = (page - 1) * per_page
        shown = list(zip(ids[start : start + per_page], weights[start : start + per_page], strict=True))
        docs = self._docs(d for d, _ in shown)
        hits = [Hit(docs[d], w, (word,)) for d, w in shown]
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

    def search(
        self, query: str, *, page: int = 1, per_page: int = 5, releases: Collection[str] | None = None
    ) -> Results:
        """Passages holding every word of `query` (else any word, said so), best first, `per_page` a page.

        `releases` (ids) limits the search to those releases; None searches them all.
        """
        words = tuple(query_words(query))
        allowed = None if releases is None else {i for i, r in enumerate(self.releases) if r.id in releases}
        with self._lock:
            ranges = self._in(allowed)
            if len(words) == 1 and words[0].exact:
                return self._one_term(words[0], page=page, per_page=per_page, ranges=ranges)
            return self._many(words, page=page, per_page=per_page, ranges=ranges)

    def _many(
        self, words: tuple[QueryWord, ...], *, page: int, per_page: int, ranges: Collection[range] | None
    ) -> Results:
        scores = self._every(words, ranges) if words else {}
        every_word = bool(scores) or not words
        matched: dict[int, int] = {}
        per_word: list[dict[int, float]] = [scores] * len(words)
        if not scores and len(words) > 1:
            per_word = [self._every([w], ranges) for w in words]
            for p in per_word:
                for d, s in p.items():
                    scores[d] = scores.get(d, 0.0) + s
                    matched[d] = matched.get(d, 0) + 1
        total = len(scores)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 1), pages)
        # Most words first, then BM25; ties in text order, so a reply is the same every time.
        if matched:
            best = heapq.nsmallest(page * per_page, scores, key=lambda d: (-matched[d], -scores[d], d))
        else:
            best = [d for _, d in heapq.nsmallest(page * per_page, ((-s, d) for d, s in scores.items()))]
        best = best[(page - 1) * per_page :]
        docs = self._docs(best)
        shown = [
            Hit(docs[d], scores[d], tuple(w for w, p in zip(words, per_word, strict=True) if d in p)) for d in best
        ]
        return self._results(words, shown, total=total, page=page, pages=pages, every_word=every_word)


def _fill(db: sqlite3.Connection, corpora: Iterable[Corpus], key: str) -> list[Release]:
    """Write the passages and postings of `corpora` into the empty database `db`; the releases, in order."""
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(_SCHEMA)
    db.execute("BEGIN")
    releases: list[Release] = []
    # Per term: its passages and how often it is there, as one number each (passage id << 20 | count).
    postings: defaultdict[str, array[int]] = defaultdict(_packed)
    lengths = array("i")
    plans: set[int] = set()
    for number, corpus in enumerate(corpora):
        first = len(lengths)
        rows = []
        for passage in passages(corpus):
            doc_id = len(lengths)
            folded = fold_text(searchable(passage))
            found = terms(folded)
            lengths.append(max(len(found), 1))
            if passage.team_plan:
                plans.add(doc_id)
            base = doc_id << _TF_BITS
            for term, count in Counter(found).items():
                postings[term].append(base | (count if count < _TF_MAX else _TF_MAX))
            rows.append(
                (
                    doc_id,
                    number,
                    passage.line,
                    passage.ja,
                    json.dumps(passage.en, ensure_ascii=False),
                    json.dumps(passage.hidden, ensure_ascii=False),
                    passage.record,
                    int(passage.team_plan),
                    folded,
                )
            )
        db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("INSERT INTO releases VALUES (?, ?, ?, ?)", (number, corpus.release.id, first, len(lengths)))
        releases.append(corpus.release)
    _write_postings(db, postings, lengths, plans)
    db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", str(FORMAT)), ("key", key)])
    db.execute("COMMIT")
    return releases


def _write_postings(
    db: sqlite3.Connection, postings: dict[str, array[int]], lengths: Sequence[int], plans: Collection[int]
) -> None:
    """Each term's passages and BM25 weights, best first (`postings` is emptied as it goes, to free memory)."""
    total = len(lengths)
    avg = sum(lengths) / total if total else 1.0
    # The part of BM25's denominator that depends on the passage alone, and the weight of one occurrence
    # (most postings), both with the team's plans weighed down.
    norms = [K1 * (1 - B + B * n / avg) for n in lengths]
    factor = [TEAM_PLAN_WEIGHT if d in plans else 1.0 for d in range(total)]
    once = [f / (1 + n) for f, n in zip(factor, norms, strict=True)]
    rows = []
    while postings:
        term, packed = postings.popitem()
        ids = [p >> _TF_BITS for p in packed]
        idf = math.log(1 + (total - len(ids) + 0.5) / (len(ids) + 0.5)) * (K1 + 1)
        if all(p & _TF_MAX == 1 for p in packed):
            raw = [idf * once[d] for d in ids]
        else:
            raw = [
                idf * tf * factor[d] / (tf + norms[d]) for d, tf in zip(ids, (p & _TF_MAX for p in packed), strict=True)
            ]
        # Stored as float32: equal passages get equal weights, and the sort sees what a query will read.
        weights = array("f", raw)
        # Best first; the sort is stable, so equal weights stay in text order.
        order = sorted(range(len(ids)), key=weights.__getitem__, reverse=True)
        ranked_ids = array("i", map(ids.__getitem__, order))
        ranked_weights = array("f", map(weights.__getitem__, order))
        if sys.byteorder != "little":
            ranked_ids.byteswap()
            ranked_weights.byteswap()
        rows.append((term, ranked_ids.tobytes(), ranked_weights.tobytes()))
        if len(rows) >= 1000:
            db.executemany("INSERT INTO terms VALUES (?, ?, ?)", rows)
            rows = []
    db.executemany("INSERT INTO terms VALUES (?, ?, ?)", rows)


def _packed() -> array[int]:
    return array("q")
