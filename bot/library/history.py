"""Meetings with one country or organisation across the library: built once per snapshot, read per request."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.library import Entry, Library
from bot.release.gazetteer import key
from bot.release.models import Bilateral

_MERGED_MAX = 256


@dataclass(frozen=True)
class Met:
    """One meeting: the release it is in and the bilateral."""

    entry: Entry
    bilateral: Bilateral


@dataclass(frozen=True)
class History:
    """Every meeting of a library by the code of who Japan met (newest release first), and the names of each code."""

    meetings: dict[str, tuple[Met, ...]]
    codes_by_name: dict[str, frozenset[str]]
    _merged: dict[frozenset[str], tuple[Met, ...]] = field(default_factory=dict, repr=False, compare=False)

    def of(self, codes: Iterable[str], *, within: Iterable[Entry] | None = None) -> tuple[Met, ...]:
        """The meetings with any of `codes`, newest first (in release order within one release); only in
        `within` when given."""
        wanted = {key(c) for c in codes}
        if len(wanted) == 1 and within is None:
            return self.meetings.get(next(iter(wanted)), ())
        merged = frozenset(wanted)
        if within is None and merged in self._merged:
            return self._merged[merged]
        keep = None if within is None else {id(e) for e in within}
        found = [m for c in wanted for m in self.meetings.get(c, ()) if keep is None or id(m.entry) in keep]
        if len(wanted) > 1:
            # Each code's list is newest first already; several are merged in the library's order.
            found.sort(key=lambda m: (-m.entry.release.published.toordinal(), m.entry.id, m.bilateral.number))
        result = tuple(found)
        if within is None:
            # Several codes at once (france germany): merged once; the table is bounded, what users type is not.
            if len(self._merged) >= _MERGED_MAX:
                self._merged.clear()
            self._merged[merged] = result
        return result

    def codes(self, text: str) -> frozenset[str]:
        """The codes a name stands for (france, フランス, FR, OECD): the whole text, else each of its words."""
        whole = self.codes_by_name.get(key(text))
        if whole:
            return whole
        out: set[str] = set()
        for word in text.split():
            out |= self.codes_by_name.get(key(word), frozenset())
        return frozenset(out)


def _build(library: Library) -> History:
    meetings: dict[str, list[Met]] = {}
    names: dict[str, set[str]] = {}

    def name(text: str, code: str) -> None:
        k = key(text)
        if k:
            names.setdefault(k, set()).add(code)

    gz = library.gazetteer
    for place in gz.countries:
        code = key(place.code)
        for text in (place.code, *place.codes, *place.names):
            name(text, code)
    for body in gz.bodies:
        for text in (*body.codes, *body.names):
            name(text, key(body.of))
    for entry in library.entries:  # newest first, so each list is too
        for b in entry.release.bilaterals:
            code = key(b.code)
            meetings.setdefault(code, []).append(Met(entry, b))
            for text in (b.code, b.organisation.ja, b.organisation.en, *b.aliases):
                name(text, code)
    return History(
        meetings={c: tuple(ms) for c, ms in meetings.items()},
        codes_by_name={k: frozenset(v) for k, v in names.items()},
    )


# Kept on the snapshot itself: a reload's new Library gets its own, and the old one goes with its snapshot. (Not a
# WeakKeyDictionary: the history holds the snapshot's entries, which would keep the key alive through the value.)
_HISTORY = "_g7_history"
_LOCK = threading.Lock()


def history(library: Library) -> History:
    """The library's meeting history, built on first use (once per snapshot)."""
    held = library.__dict__.get(_HISTORY)
    if isinstance(held, History):
        return held
    with _LOCK:
        held = library.__dict__.get(_HISTORY)
        if not isinstance(held, History):
            held = library.__dict__[_HISTORY] = _build(library)
        return held
