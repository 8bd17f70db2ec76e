"""The release library: every release the bot serves, loaded once into an immutable snapshot.

`Library` is the snapshot (what every request reads); `bot.library.owner.LibraryOwner` holds the current one
and swaps it whole on reload; `bot.library.loader.load_library(data_dir)` builds one from the data folder:

    data/
      schedule.yml, gazetteer.yml        library-wide: channels, digests, reminders; names
      owners.yml                         library-wide: each desk's Slack owners (optional)
      releases/<release id>/
        release.yml                      the structured release (bot.release.models.Release)
        source.txt                       its original text, which citations quote
        commitments.yml                  its own follow-ups (optional)
        import-report.txt                what `g7bot import` found and left (optional)

A snapshot is compared and hashed by identity: caches (search index, "also met", replies) are keyed by it
and die with it, so nothing is ever cleared by hand.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.release.gazetteer import Gazetteer, shipped_gazetteer
from bot.release.lookup import ReleaseLookup
from bot.release.models import Release
from bot.schedule.models import Commitment
from bot.schedule.owners import EMPTY as NO_OWNERS
from bot.schedule.owners import OwnersFile


@dataclass(frozen=True, eq=False)
class Entry:
    """One release of the library, with what is derived from it."""

    release: Release
    lookup: ReleaseLookup
    # Its own follow-ups, each with `release_id` set to this release.
    commitments: tuple[Commitment, ...] = ()
    # Its folder under data/releases/ (None for a release built in memory, as in tests).
    folder: Path | None = None

    @property
    def id(self) -> str:
        return self.release.id


def _newest_first(entry: Entry) -> tuple[int, str]:
    return (-entry.release.published.toordinal(), entry.release.id)


@dataclass(frozen=True, eq=False)
class Library:
    """An immutable snapshot of every release: newest first (by publication date, then id)."""

    entries: tuple[Entry, ...]
    gazetteer: Gazetteer
    # The release a command reads when none is selected (an admin setting); None: the newest.
    default_id: str | None = None
    # data/owners.yml, checked against these releases' desks: swapped with them on reload.
    owners: OwnersFile = NO_OWNERS
    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.entries:
            raise ValueError("a library holds at least one release")
        ordered = tuple(sorted(self.entries, key=_newest_first))
        object.__setattr__(self, "entries", ordered)
        by_id = {e.id: e for e in ordered}
        if len(by_id) != len(ordered):
            raise ValueError("release ids must be unique in a library")
        if self.default_id is not None and self.default_id not in by_id:
            raise ValueError(f"default release {self.default_id!r} is not in the library")
        object.__setattr__(self, "_by_id", by_id)

    @classmethod
    def of(
        cls,
        releases: Sequence[Release],
        gazetteer: Gazetteer | None = None,
        *,
        commitments: Sequence[Commitment] = (),
        default_id: str | None = None,
        owners: OwnersFile = NO_OWNERS,
    ) -> Library:
        """A library built in memory (tests, benchmarks): commitments go to the release their release_id names."""
        gz = gazetteer if gazetteer is not None else shipped_gazetteer()
        entries = tuple(
            Entry(
                release=r,
                lookup=ReleaseLookup(r, gz),
                commitments=tuple(c for c in commitments if c.release_id == r.id),
            )
            for r in releases
        )
        return cls(entries=entries, gazetteer=gz, default_id=default_id, owners=owners)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, release_id: str) -> Entry | None:
        return self._by_id.get(release_id)

    @property
    def newest(self) -> Entry:
        return self.entries[0]

    @property
    def default(self) -> Entry:
        """The release a command reads when none is selected."""
        return self._by_id[self.default_id] if self.default_id is not None else self.newest

    @cached_property
    def commitments(self) -> tuple[Commitment, ...]:
        """Every release's follow-ups (ids are unique across the library)."""
        return tuple(c for e in self.entries for c in e.commitments)
