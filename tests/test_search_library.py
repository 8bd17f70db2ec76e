"""Search across a library: one index per snapshot, cached on disk by content, built by a worker when large."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.generate import variant_release
from bot.commands import answer
from bot.commands.search import release_name
from bot.library import Library
from bot.messages import msg
from bot.release.loader import COMMITMENTS_FILE, RELEASE_DIR
from bot.release.models import Release
from bot.schedule.models import Commitment, load_commitments
from bot.search import loaded
from bot.search.corpus import Corpus
from bot.search.index import SearchIndex, StaleIndex
from bot.search.loaded import search_index, wait
from tests.conftest import NOW
from tests.helpers import text_of

SIZE = loaded.AT_ONCE + 3


@pytest.fixture(scope="module")
def lines(release: Release) -> list[str]:
    return (RELEASE_DIR / release.source_file).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def commitments(release: Release) -> tuple[Commitment, ...]:
    found = load_commitments(COMMITMENTS_FILE, release=release).commitments
    return tuple(c.model_copy(update={"release_id": release.id}) for c in found)


def make_library(release: Release, lines: list[str], commitments: tuple[Commitment, ...], size: int) -> Library:
    """The shipped release (with its commitments) and size-1 variants: other ids, dates, titles, counterparts."""
    releases = [release] + [variant_release(release, lines, n)[0] for n in range(1, size)]
    return Library.of(releases, commitments=commitments)


@pytest.fixture
def data_dir(tmp_path: Path, release: Release, lines: list[str]) -> Path:
    """A data folder holding each variant's original text in releases/<id>/ (what the index reads)."""
    root = tmp_path / "data"
    for n in range(SIZE):
        r, text = (release, lines) if n == 0 else variant_release(release, lines, n)
        folder = root / "releases" / r.id
        folder.mkdir(parents=True)
        (folder / "release.yml").write_text("id: " + r.id + "\n", encoding="utf-8")
        (folder / r.source_file).write_text("\n".join(text), encoding="utf-8")
    return root


@pytest.fixture
def library(release: Release, lines: list[str], commitments: tuple[Commitment, ...]) -> Library:
    return make_library(release, lines, commitments, SIZE)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds every index worker before it starts, until the test sets the event."""
    event = threading.Event()
    work = loaded._work

    def held(*args: object) -> None:
        assert event.wait(10)
        work(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(loaded, "_work", held)
    yield event
    event.set()


def complete(library: Library, data_dir: Path, cache_dir: Path | None) -> SearchIndex:
    loaded.prepare(library, data_dir=data_dir, cache_dir=cache_dir)
    assert wait(library, timeout=60)
    found = search_index(library, data_dir=data_dir, cache_dir=cache_dir)
    assert found.complete
    return found.index


def test_the_whole_library_is_searched_and_grouped_by_release(library: Library, data_dir: Path, tmp_path: Path) -> None:
    index = complete(library, data_dir, tmp_path / "cache")
    results = index.search("量子", per_page=50)
    ids = [g.release.id for g in results.groups]
    # Every release says the same about quantum: ties go in library order, newest first, each release once.
    assert ids == [e.id for e in library.entries][: len(ids)] and len(ids) == len(set(ids)) > 1
    assert sum(len(g.hits) for g in results.groups) == 50
    assert results.total == sum(index.search("量子", releases={e.id}).total for e in library) > 50


def test_each_variant_finds_its_own_counterpart(library: Library, data_dir: Path, tmp_path: Path) -> None:
    index = complete(library, data_dir, tmp_path / "cache")
    brazil = [e.id for e in library.entries if any(b.code == "BR" for b in e.release.bilaterals)]
    found = index.search("ブラジル", per_page=100)
    assert brazil and {g.release.id for g in found.groups} == set(brazil)
    assert {g.release.id for g in index.search("brazil", per_page=100).groups} == set(brazil)


def test_a_selector_narrows_the_search(library: Library, data_dir: Path, tmp_path: Path) -> None:
    index = complete(library, data_dir, tmp_path / "cache")
    older = library.entries[2].id
    only = index.search("量子", releases={older}, per_page=100)
    assert only.total > 0 and {g.release.id for g in only.groups} == {older}
    two = index.search("steel tariffs", releases={older, library.newest.id}, per_page=100)
    assert {g.release.id for g in two.groups} == {older, library.newest.id}
    assert index.search("量子", releases=set()).total == 0


def test_the_cache_is_reused_by_a_new_snapshot_of_the_same_content(
    release: Release, lines: list[str], commitments: tuple[Commitment, ...], data_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = complete(make_library(release, lines, commitments, SIZE), data_dir, cache)
    assert first.path is not None and first.path.parent == cache
    # A restart or a reload with the same data: the file is opened, nothing is built.
    again = make_library(release, lines, commitments, SIZE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SearchIndex, "build", _no_build)
        second = complete(again, data_dir, cache)
    assert second is not first and second.path == first.path
    assert second.search("会談").total == first.search("会談").total
    # Other content (one release fewer): its own file, and the first one stays for whoever still reads it.
    other = complete(make_library(release, lines, commitments, SIZE - 1), data_dir, cache)
    assert other.path != first.path and first.path.exists()
    assert other.search("量子").total < first.search("量子").total


def _no_build(*args: object, **kwargs: object) -> SearchIndex:
    raise AssertionError("the index was built again")


def test_a_damaged_cache_file_is_rebuilt(
    library: Library, data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    first = complete(library, data_dir, cache)
    assert first.path is not None
    path = first.path
    first.close()
    path.write_bytes(b"not a database" * 100)
    again = Library(entries=library.entries, gazetteer=library.gazetteer)
    with caplog.at_level(logging.WARNING, logger="bot.search.loaded"):
        index = complete(again, data_dir, cache)
    assert index.path == path and index.search("量子").total > 0
    assert "rebuilding the index cache" in caplog.text


def test_an_unwritable_cache_folder_indexes_in_memory(
    library: Library, data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.search.loaded"):
        index = complete(library, data_dir, blocked / "cache")
    assert index.path is None and index.search("量子").total > 0
    assert "indexing in memory" in caplog.text


def test_an_index_of_other_releases_is_not_opened(library: Library, data_dir: Path, tmp_path: Path) -> None:
    index = complete(library, data_dir, tmp_path / "cache")
    assert index.path is not None
    with pytest.raises(StaleIndex):
        SearchIndex.open(index.path, [e.release for e in library.entries][1:])
    with pytest.raises(StaleIndex):
        SearchIndex.open(index.path, [e.release for e in library.entries], key="another")


def test_while_the_worker_builds_search_reads_the_default_release_and_says_so(
    library: Library, data_dir: Path, tmp_path: Path, gate: threading.Event
) -> None:
    cache = tmp_path / "cache"
    found = search_index(library, data_dir=data_dir, cache_dir=cache)
    assert not found.complete
    assert [r.id for r in found.index.releases] == [library.default.id]
    reply = answer("search 量子", library=library, lang="en", now=NOW)
    name = release_name(library.default.release, "en")
    assert reply.sections[0].text == msg("search.building", "en", count=SIZE, release=name)
    assert "\u200b*量子*\u200b" in text_of(reply)
    # A topic typed alone still searches meanwhile.
    assert answer("量子", library=library, lang="ja", now=NOW).title == msg("search.title", "ja")
    gate.set()
    assert wait(library, timeout=60)
    done = answer("search 量子", library=library, lang="en", now=NOW)
    assert msg("search.building", "en", count=SIZE, release=name) not in text_of(done)
    assert len({s.text for s in done.sections if s.text.startswith("*")}) > 1


def test_a_small_library_is_indexed_at_once_in_memory(
    release: Release, lines: list[str], commitments: tuple[Commitment, ...], data_dir: Path, tmp_path: Path
) -> None:
    small = make_library(release, lines, commitments, loaded.AT_ONCE)
    found = search_index(small, data_dir=data_dir, cache_dir=tmp_path / "cache")
    assert found.complete and found.index.path is None
    assert not (tmp_path / "cache").exists()
    assert {g.release.id for g in found.index.search("量子", per_page=100).groups} == {e.id for e in small}


def test_the_index_goes_with_its_snapshot(
    release: Release, lines: list[str], commitments: tuple[Commitment, ...], data_dir: Path
) -> None:
    library = make_library(release, lines, commitments, SIZE)
    index = complete(library, data_dir, None)
    held = weakref.ref(index)
    del index, library
    gc.collect()
    assert held() is None


def test_a_long_japanese_word_must_be_in_the_text_not_only_its_trigrams(release: Release) -> None:
    # 鉄鋼製 and 鋼製品 both in one sentence, but not 鉄鋼製品: the trigrams match, the word does not.
    lines = ["鉄鋼製の橋と、鋼製品の輸出について議論した。", "鉄鋼製品への関税について議論した。"]
    index = SearchIndex.build([Corpus(release, lines, ())])
    hits = [h.doc.passage.line for g in index.search("鉄鋼製品", per_page=50).groups for h in g.hits]
    assert 2 in hits and 1 not in hits
    assert {h.doc.passage.line for g in index.search("鉄鋼製", per_page=50).groups for h in g.hits} >= {1, 2}


def test_the_cache_key_follows_the_content(release: Release, lines: list[str]) -> None:
    base = [Corpus(release, lines, ())]
    assert loaded.content_key(base) == loaded.content_key([Corpus(release, list(lines), ())])
    assert loaded.content_key(base) != loaded.content_key([Corpus(release, [*lines[:-1], lines[-1] + "。"], ())])
    other = release.model_copy(update={"id": "other"})
    assert loaded.content_key(base) != loaded.content_key([Corpus(other, lines, ())])
