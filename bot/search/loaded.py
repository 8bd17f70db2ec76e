"""The search index of the loaded data: built on first use, once per loaded release and commitments file."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from weakref import WeakKeyDictionary

from bot.errors import ConfigError
from bot.release.lookup import ReleaseLookup
from bot.schedule.models import Commitment, load_commitments
from bot.search.corpus import Corpus
from bot.search.index import SearchIndex

logger = logging.getLogger(__name__)

# Keyed by the lookup object: a reload makes a new one, so the old index goes with it (nothing to clear).
_INDEXES: WeakKeyDictionary[ReleaseLookup, tuple[object, SearchIndex]] = WeakKeyDictionary()
_LOCK = threading.Lock()


def source_lines(data_dir: Path, source_file: str) -> list[str]:
    """The lines of the release's original text; none (logged) if it cannot be read, so search still has the data."""
    path = data_dir / source_file
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        logger.warning("search: cannot read the release text %s (%s); searching the structured data only", path, exc)
        return []


def shipped_commitments(lookup: ReleaseLookup, data_dir: Path) -> Sequence[Commitment]:
    """The commitments file next to the release, for callers without the follow-up services (tests, `ask`)."""
    try:
        return load_commitments(data_dir / "commitments.yml", release=lookup.release).commitments
    except ConfigError as exc:
        logger.warning("search: commitments not searched: %s", exc)
        return ()


def index_for(lookup: ReleaseLookup, *, data_dir: Path, commitments: Sequence[Commitment] | None = None) -> SearchIndex:
    """The index of the release `lookup` holds (and `commitments`, or the file's when None), built once."""
    with _LOCK:
        held = _INDEXES.get(lookup)
        if held is not None and (commitments is None or held[0] is commitments):
            return held[1]
        chosen = shipped_commitments(lookup, data_dir) if commitments is None else commitments
        corpus = Corpus(lookup.release, source_lines(data_dir, lookup.release.source_file), tuple(chosen))
        index = SearchIndex([corpus])
        _INDEXES[lookup] = (commitments if commitments is not None else chosen, index)
        return index
