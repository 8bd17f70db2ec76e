"""Parsed YAML kept between runs, by the hash of the file's bytes: a library of a thousand releases starts in a second.

PyYAML builds every node in Python, about 3 ms for a release.yml; the same mapping read back from JSON takes a
tenth of that. So when a large library is read, each file's parsed mapping is written to the cache folder as
JSON, named by a hash of the file's bytes and of this parser's rules, and read from there while the file
is unchanged. Only what parsing produced is cached, never the validated model: every model is validated
again on every load, so a code change to a model applies at once and a bad file is reported as before.

A mapping is cached only if JSON gives back exactly the same values (str keys, str, int, float, bool,
None, lists, mappings), so a cached read and a parse always agree. A cache that cannot be read or written
(a read-only folder, a full disk, a damaged file) is skipped: the file is parsed as if there were none.
Duplicate values are shared (`Pool`): the releases of a library repeat bureaus, offices, posts and names.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Part of every key: raise it when the parser's rules change (bot.datafiles: timestamps as strings,
# repeated keys refused), so that nothing parsed under the old rules is read back.
RULES = b"g7bot-yaml-1"  # at most 16 bytes (blake2b's personalisation)
_SUFFIX = ".json"
# Cached files not used for this long are removed when a large library is read again.
KEEP_UNUSED_SECONDS = 7 * 24 * 3600


class Pool:
    """One copy of each distinct string of the files read through it (a dict, not sys.intern: it dies with the scan)."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}

    def share(self, value: Any) -> Any:
        """`value` with each string value replaced by the pool's copy of it (keys are left: models keep none)."""
        keep = self._strings.setdefault

        def walk(v: Any) -> Any:
            kind = type(v)
            if kind is str:
                return keep(v, v)
            if kind is dict:
                return {k: walk(x) for k, x in v.items()}
            if kind is list:
                return [walk(x) for x in v]
            return v

        return walk(value)

    def loads(self, text: bytes) -> Any:
        """JSON `text` decoded with the pool's strings: the values of mappings and the strings of their lists
        (what parsed YAML holds), shared as the decoder builds each mapping, at a fifth of the cost of `share`."""
        keep = self._strings.setdefault

        def mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for k, v in pairs:
                kind = type(v)
                if kind is str:
                    out[k] = keep(v, v)
                elif kind is list:
                    out[k] = [keep(x, x) if type(x) is str else x for x in v]
                else:
                    out[k] = v
            return out

        return json.loads(text, object_pairs_hook=mapping)


def plain(value: Any) -> bool:
    """True if JSON gives `value` back exactly: str-keyed mappings, lists, str, int, finite float, bool, None."""
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(plain(v) for v in value)
    if isinstance(value, dict):
        return all(type(k) is str and plain(v) for k, v in value.items())
    return False


class ParseCache:
    """Parsed files by content: `get(data)` gives what `put(data, parsed)` stored, in this process or an earlier one."""

    def __init__(self, folder: Path, *, pool: Pool | None = None):
        self.folder = folder
        self.pool = pool if pool is not None else Pool()
        self.hits = 0
        self.misses = 0
        self._writable = True

    @staticmethod
    def key(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=20, person=RULES).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{_SUFFIX}"

    def get(self, data: bytes) -> tuple[bool, Any]:
        """(True, the parsed value) if cached, else (False, None)."""
        path = self._path(self.key(data))
        try:
            text = path.read_bytes()
        except OSError:
            self.misses += 1
            return False, None
        try:
            value = self.pool.loads(text)
        except ValueError:
            logger.warning("parse cache: %s is damaged; parsing the file again", path)
            self.misses += 1
            return False, None
        with contextlib.suppress(OSError):
            os.utime(path)  # used: kept by prune()
        self.hits += 1
        return True, value

    def put(self, data: bytes, parsed: Any) -> None:
        """Keep `parsed` for `data`, if JSON keeps it exactly; a failure to write is logged once and ignored."""
        if not self._writable or not plain(parsed):
            return
        path = self._path(self.key(data))
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(parsed, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            self._writable = False
            logger.warning("parse cache: cannot write in %s (%s); large libraries will start slower", self.folder, exc)
            with contextlib.suppress(OSError):
                partial.unlink()

    def prune(self, *, now: float | None = None) -> int:
        """Remove cached files unused for KEEP_UNUSED_SECONDS, and partial ones an hour old; how many went."""
        current = time.time() if now is None else now
        removed = 0
        try:
            candidates = list(self.folder.iterdir())
        except OSError:
            return 0
        for p in candidates:
            try:
                age = current - p.stat().st_mtime
                stale = age > KEEP_UNUSED_SECONDS if p.suffix == _SUFFIX else p.name.endswith(".tmp") and age > 3600
                if stale:
                    p.unlink()
                    removed += 1
            except OSError:
                continue
        return removed
