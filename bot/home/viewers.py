"""Who opened the Home tab recently, per process: whose tab is re-published when a follow-up changes."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

# A tab opened longer ago than this is probably closed; it is published afresh when opened again anyway.
RECENT = dt.timedelta(minutes=30)
# Each change costs one views.publish per recent viewer: bounded, the least recently opened go first.
MAX_VIEWERS = 100


class HomeViewers:
    """A bounded, expiring set of user ids, most recently opened last; safe to share between threads."""

    def __init__(self, *, size: int = MAX_VIEWERS, ttl: dt.timedelta = RECENT) -> None:
        self.size = size
        self.ttl = ttl
        self._opened: OrderedDict[str, dt.datetime] = OrderedDict()
        self._lock = threading.Lock()

    def opened(self, user_id: str, *, now: dt.datetime) -> None:
        with self._lock:
            self._opened[user_id] = now
            self._opened.move_to_end(user_id)
            while len(self._opened) > self.size:
                self._opened.popitem(last=False)

    def recent(self, *, now: dt.datetime) -> list[str]:
        """Who opened the tab within `ttl` of `now`, least recent first; older entries are forgotten."""
        with self._lock:
            while self._opened and next(iter(self._opened.values())) <= now - self.ttl:
                self._opened.popitem(last=False)
            return list(self._opened)
