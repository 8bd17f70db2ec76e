"""Search benchmark: query p50/p99 in process and index build time, for the release and 1,000 varied copies."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.release.loader import COMMITMENTS_FILE, RELEASE_DIR

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import loadavg, version
from bot.release.loader import load_release
from bot.release.models import Release
from bot.schedule.models import Commitment, load_commitments
from bot.search.corpus import Corpus
from bot.search.index import SearchIndex
from bot.search.loaded import source_lines
from bot.search.tokens import english_words, query_words

QUERIES = ("量子", "仏", "会談", "関税", "semiconductors", "steel tariffs", "ai", "quantum 量子", "xyzzy")
# Names swapped in each copy, so that copies differ in their counterparts and places, not only in their dates.
_SWAPS = (
    ("フランス", ("イタリア", "スペイン", "ブラジル", "インド", "豪州", "韓国", "メキシコ")),
    ("ル=エナンフ", ("ロッシ", "ガルシア", "シルバ", "シャルマ", "スミス", "キム", "ロペス")),
    ("ジョリー", ("ブラウン", "タナー", "ルイス", "ミラー", "ウィルソン")),
    ("モントリオール", ("トロント", "ローマ", "リオ", "デリー", "シドニー", "ソウル")),
    ("France", ("Italy", "Spain", "Brazil", "India", "Australia", "Korea", "Mexico")),
    ("Montréal", ("Toronto", "Rome", "Rio", "Delhi", "Sydney", "Seoul")),
)


def vary(text: str, n: int) -> str:
    for old, new in _SWAPS:
        text = text.replace(old, new[n % len(new)])
    return text


def library(release: Release, lines: Sequence[str], commitments: Sequence[Commitment], copies: int) -> list[Corpus]:
    """The release and `copies - 1` copies with other ids, dates, titles and names (text and data alike)."""
    out = [Corpus(release, lines, commitments)]
    dumped = release.model_dump_json()
    for n in range(1, copies):
        data = json.loads(vary(dumped, n))
        data.pop("email", None)
        for desk in data["desks"]:
            desk.pop("email", None)
        data["id"] = f"copy-{n:04d}"
        data["published"] = (release.published - dt.timedelta(days=7 * n)).isoformat()
        data["title"]["ja"] = f"{data['title']['ja']}(第{n}報)"
        data["title"]["en"] = f"{data['title']['en']} (no. {n})"
        out.append(Corpus(Release.model_validate(data), [vary(line, n) for line in lines], commitments))
    return out


class Scan:
    """The baseline: no index, every passage's folded text scanned for every word of the query."""

    def __init__(self, index: SearchIndex):
        self.folded = [(f, english_words(f)) for f in (d.folded for d in index.docs)]

    def search(self, query: str) -> int:
        words = query_words(query)
        return sum(1 for d in self.folded if words and all(w.matches(*d) for w in words))


def timed(run: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=1000, help="releases in the generated library (default 1000)")
    parser.add_argument("--rounds", type=int, default=50, help="timed runs of each query (default 50)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, pydantic {version('pydantic')}, load {loadavg()}")
    release = load_release()
    lines = source_lines(RELEASE_DIR, release.source_file)
    commitments = load_commitments(COMMITMENTS_FILE, release=release).commitments
    start = time.perf_counter()
    corpora = library(release, lines, commitments, args.copies)
    print(f"generated {len(corpora)} releases in {time.perf_counter() - start:.1f} s")
    figures: dict[int, tuple[float, dict[str, tuple[float, float, float, float]]]] = {}
    for size in dict.fromkeys((1, len(corpora))):
        gc.collect()
        start = time.perf_counter()
        index = SearchIndex(corpora[:size])
        build = time.perf_counter() - start
        scan = Scan(index)
        per_query = {}
        for query in QUERIES:
            rounds = args.rounds if size == 1 else max(5, args.rounds // 5)
            ours = timed(lambda q=query, i=index: i.search(q), args.rounds)
            base = timed(lambda q=query, s=scan: s.search(q), rounds)
            per_query[query] = (
                percentile(ours, 0.5),
                percentile(ours, 0.99),
                percentile(base, 0.5),
                percentile(base, 0.99),
            )
        figures[size] = (build, per_query)
        print(
            f"\n{size} release(s): {len(index.docs)} passages, {len(index.postings)} terms, index built in "
            f"{build * 1000:.0f} ms, peak RSS so far {rss_mb():.0f} MB"
        )
        print(f"  {'query':<16} {'p50 ms':>8} {'p99 ms':>8} {'scan p50':>9} {'scan p99':>9} {'scan/index':>10}  hits")
        for query, (p50, p99, b50, b99) in per_query.items():
            hits = index.search(query).total
            print(f"  {query:<16} {p50:8.3f} {p99:8.3f} {b50:9.3f} {b99:9.3f} {b50 / p50:10.1f}x  {hits}")
    if len(figures) == 2:
        (b1, q1), (bn, qn) = figures[1], figures[len(corpora)]
        print(
            f"\n{len(corpora)} vs 1 release: build {bn / b1:.0f}x; query p50 by query: "
            + ", ".join(f"{q} {qn[q][0] / q1[q][0]:.0f}x" for q in QUERIES)
        )
        worst = max(v[0] for v in qn.values())
        print(f"slowest query p50 at {len(corpora)} releases: {worst:.2f} ms (issue 8 target: 5 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
