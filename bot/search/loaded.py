"""The search index of a library snapshot: opened from the cache, or built (in a worker when large), once.

A library of a few releases is indexed at once, in memory (milliseconds). A larger one is opened from the
cache file named by a hash of its content (`search-<key>.sqlite3` in the cache folder), or built into it by a
worker thread; until the worker is done, search reads a small index of the default release alone and says
so. The cache is keyed by content, so a restart with the same data opens it in milliseconds, a reload with
new data builds a new one, and several instances may share the folder (a file is written whole, then renamed).
Indexes are held per `Library` object: a new snapshot gets its own, and the old one goes with its snapshot.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from weakref import WeakKeyDictionary

from bot.errors import ConfigError
from bot.library import Entry, Library
from bot.release.lookup import ReleaseLookup
from bot.schedule.models import Commitment, load_commitments
from bot.search import corpus as _corpus_module
from bot.search import index as _index_module
from bot.search import tokens as _tokens_module
from bot.search.corpus import Corpus
from bot.search.index import SearchIndex, StaleIndex

logger = logging.getLogger(__name__)

# Up to this many releases, the index is built where it is asked for, in memory (a few milliseconds each).
AT_ONCE = 4
# Cache files of other content kept besides the one in use (another instance may still read them).
KEEP_OTHERS = 2
_PREFIX = "search-"
_SUFFIX = ".sqlite3"


@dataclass(frozen=True)
class Found:
    """The index a search reads: the whole library's, or (`complete` False) the default release's meanwhile."""

    index: SearchIndex
    complete: bool


@dataclass
class _Slot:
    """What is held for one library snapshot (never the snapshot itself: it is the weak key)."""

    index: SearchIndex | None = None
    fallback: SearchIndex | None = None
    worker: threading.Thread | None = None
    ready: threading.Event = field(default_factory=threading.Event)


_SLOTS: WeakKeyDictionary[Library, _Slot] = WeakKeyDictionary()
_LOCK = threading.Lock()


# --- what is indexed -----------------------------------------------------------------------------------------------


def source_lines(folder: Path, source_file: str) -> list[str]:
    """The lines of the release's original text; none (logged) if it cannot be read, so search still has the data."""
    path = folder / source_file
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        logger.warning("search: cannot read the release text %s (%s); searching the structured data only", path, exc)
        return []


def entry_folder(entry: Entry, data_dir: Path) -> Path:
    """Where the entry's original text is: its own folder, else releases/<id>/ of `data_dir`, else `data_dir`."""
    if entry.folder is not None:
        return entry.folder
    own = data_dir / "releases" / entry.id
    return own if (own / "release.yml").is_file() else data_dir


def corpora(library: Library, data_dir: Path) -> Iterator[Corpus]:
    """Each release of the library as search reads it, newest first."""
    for entry in library.entries:
        folder = entry_folder(entry, data_dir)
        yield Corpus(entry.release, source_lines(folder, entry.release.source_file), entry.commitments)


@functools.cache
def _code_fingerprint() -> bytes:
    """The code that decides what is stored: a change to it is a change of content."""
    h = hashlib.blake2b(digest_size=16)
    for module in (_corpus_module, _index_module, _tokens_module):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.digest()


def content_key(corpora: Sequence[Corpus]) -> str:
    """A hash of everything an index of `corpora` is made from (data, text, commitments, code), in order."""
    h = hashlib.blake2b(_code_fingerprint(), digest_size=20)
    for c in corpora:
        h.update(c.release.model_dump_json().encode())
        h.update(b"\0".join(line.encode() for line in c.lines))
        for commitment in c.commitments:
            h.update(commitment.model_dump_json().encode())
        h.update(b"\1")
    return h.hexdigest()


# --- the cache folder ----------------------------------------------------------------------------------------------


def _cached(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{_PREFIX}{key}{_SUFFIX}"


def _build_into(cache_dir: Path, key: str, found: Sequence[Corpus]) -> SearchIndex:
    """The index of `found`, opened from the cache when another process (or an earlier run) built it, else built."""
    path = _cached(cache_dir, key)
    releases = [c.release for c in found]
    if path.exists():
        try:
            index = SearchIndex.open(path, releases, key=key)
        except StaleIndex as exc:
            logger.warning("search: rebuilding the index cache %s (%s)", path, exc)
        else:
            _touch(path)
            return index
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_dir / f".{_PREFIX}{key}.{os.getpid()}.{threading.get_ident()}.tmp"
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        SearchIndex.build(found, path=partial, key=key).close()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    logger.info("search: indexed %d releases in %.1f s into %s", len(found), time.perf_counter() - started, path.name)
    _prune(cache_dir, keep=path)
    return SearchIndex.open(path, releases, key=key)


def _touch(path: Path) -> None:
    # The pruning keeps the files used last; one that cannot be touched is simply pruned sooner.
    with contextlib.suppress(OSError):
        os.utime(path)


def _prune(cache_dir: Path, *, keep: Path) -> None:
    """Remove all but the newest KEEP_OTHERS cache files of other content, and partial files an hour old."""
    others = sorted(
        (p for p in cache_dir.glob(f"{_PREFIX}*{_SUFFIX}") if p != keep), key=lambda p: p.stat().st_mtime, reverse=True
    )
    stale = [p for p in cache_dir.glob(f".{_PREFIX}*.tmp") if time.time() - p.stat().st_mtime > 3600]
    for p in others[KEEP_OTHERS:] + stale:
        try:
            p.unlink()
        except OSError as exc:
            logger.warning("search: cannot remove the old index cache %s (%s)", p, exc)


# --- per snapshot ----------------------------------------------------------------------------------------------------


def _slot(library: Library) -> _Slot:
    with _LOCK:
        held = _SLOTS.get(library)
        if held is None:
            held = _SLOTS[library] = _Slot()
        return held


def prepare(library: Library, *, data_dir: Path, cache_dir: Path | None) -> None:
    """Start indexing `library` now (at start-up and after a reload), so that its first search finds it ready."""
    if len(library) > AT_ONCE:
        _start(library, _slot(library), data_dir=data_dir, cache_dir=cache_dir)


def _start(library: Library, slot: _Slot, *, data_dir: Path, cache_dir: Path | None) -> None:
    with _LOCK:
        if slot.worker is not None or slot.index is not None:
            return
        slot.worker = threading.Thread(
            target=_work,
            args=(library, slot, data_dir, cache_dir),
            name=f"search-index-{len(library)}",
            daemon=True,
        )
        slot.worker.start()


def _work(library: Library, slot: _Slot, data_dir: Path, cache_dir: Path | None) -> None:
    try:
        found = list(corpora(library, data_dir))
        key = content_key(found)
        index: SearchIndex | None = None
        if cache_dir is not None:
            try:
                index = _build_into(cache_dir, key, found)
            except OSError as exc:
                logger.warning("search: cannot use the index cache in %s (%s); indexing in memory", cache_dir, exc)
        if index is None:
            index = SearchIndex.build(found, key=key)
        slot.index = index
    except Exception:
        logger.exception("search: indexing %d releases failed; searching the default release only", len(library))
    finally:
        slot.ready.set()


def wait(library: Library, timeout: float | None = None) -> bool:
    """Wait for the worker indexing `library` (benchmarks, tests); True when its index is ready."""
    slot = _slot(library)
    if slot.index is not None:
        return True
    if slot.worker is None:
        return False
    slot.ready.wait(timeout)
    return slot.index is not None


def search_index(library: Library, *, data_dir: Path, cache_dir: Path | None) -> Found:
    """The index of the whole library if it is ready; else, while a worker builds it, the default release's."""
    slot = _slot(library)
    if slot.index is not None:
        return Found(slot.index, complete=True)
    if len(library) <= AT_ONCE:
        with _LOCK:
            if slot.index is None:
                slot.index = SearchIndex.build(corpora(library, data_dir))
        return Found(slot.index, complete=True)
    _start(library, slot, data_dir=data_dir, cache_dir=cache_dir)
    if slot.index is not None:
        return Found(slot.index, complete=True)
    with _LOCK:
        if slot.fallback is None:
            default = Library(entries=(library.default,), gazetteer=library.gazetteer)
            slot.fallback = SearchIndex.build(corpora(default, data_dir))
    return Found(slot.fallback, complete=False)


# --- one release, for callers that hold a lookup only (tests, the benchmark of one release) ---------------------------

_BY_LOOKUP: WeakKeyDictionary[ReleaseLookup, tuple[object, SearchIndex]] = WeakKeyDictionary()


def shipped_commitments(lookup: ReleaseLookup, folder: Path) -> Sequence[Commitment]:
    """The commitments file next to the release, for callers without the follow-up services (tests, `ask`)."""
    try:
        return load_commitments(folder / "commitments.yml", release=lookup.release).commitments
    except ConfigError as exc:
        logger.warning("search: commitments not searched: %s", exc)
        return ()


def index_for(lookup: ReleaseLookup, *, data_dir: Path, commitments: Sequence[Commitment] | None = None) -> SearchIndex:
    """The index of the release `lookup` holds (and `commitments`, or its folder's file when None), built once."""
    with _LOCK:
        held = _BY_LOOKUP.get(lookup)
        if held is not None and (commitments is None or held[0] is commitments):
            return held[1]
        entry = Entry(release=lookup.release, lookup=lookup)
        folder = entry_folder(entry, data_dir)
        chosen = shipped_commitments(lookup, folder) if commitments is None else commitments
        corpus = Corpus(lookup.release, source_lines(folder, lookup.release.source_file), tuple(chosen))
        index = SearchIndex.build([corpus])
        _BY_LOOKUP[lookup] = (commitments if commitments is not None else chosen, index)
        return index
