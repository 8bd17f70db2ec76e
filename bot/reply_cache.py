"""A small LRU of built Slack messages for answers that depend only on the text, language and data."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class ReplyCache:
    """Built messages by key; cleared whenever the data is swapped (Runtime.set_release)."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._entries: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        built = make()  # an exception is not cached: the guard turns it into an apology
        self._entries[key] = built
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return built

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
