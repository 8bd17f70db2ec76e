"""A small LRU of built Slack messages for answers that depend only on the text, language and data."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any
from weakref import WeakKeyDictionary

from bot.library import Library


class ReplyCache:
    """Built messages by library snapshot, then key: a reload's new snapshot starts empty, the old one's go with it.

    Nothing is ever cleared by hand; a request that began on the old snapshot still finds (and fills) its own.
    """

    def __init__(self, size: int = 1024):
        self.size = size
        self._by_snapshot: WeakKeyDictionary[Library, OrderedDict[Hashable, dict[str, Any]]] = WeakKeyDictionary()

    def get(self, library: Library, key: Hashable, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        entries = self._by_snapshot.get(library)
        if entries is None:
            entries = self._by_snapshot.setdefault(library, OrderedDict())
        found = entries.get(key)
        if found is not None:
            entries.move_to_end(key)
            return found
        built = make()  # an exception is not cached: the guard turns it into an apology
        entries[key] = built
        if len(entries) > self.size:
            entries.popitem(last=False)
        return built

    def __len__(self) -> int:
        """Messages held for the snapshots still alive."""
        return sum(len(entries) for entries in list(self._by_snapshot.values()))
