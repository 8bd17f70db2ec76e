"""LibraryOwner: the one holder of the loaded library; a request reads `current` once, a reload swaps it whole."""

from __future__ import annotations

import threading

from bot.library import Library


class LibraryOwner:
    """Holds the current Library snapshot.

    A request reads `current` once and uses that snapshot to the end, so a reload never changes the
    data under a request that has started: it finishes on the old snapshot, the next one gets the new.
    """

    def __init__(self, library: Library):
        self._current = library
        self._lock = threading.Lock()

    @property
    def current(self) -> Library:
        return self._current

    def swap(self, new: Library) -> Library:
        """Make `new` the current snapshot (one reference assignment); returns the one it replaced."""
        with self._lock:
            old, self._current = self._current, new
        return old

    def __call__(self) -> Library:
        """The current snapshot (so the owner is a `Callable[[], Library]`)."""
        return self._current
