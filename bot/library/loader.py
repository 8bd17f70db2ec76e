"""load_library(settings): every release folder of the data folder, validated together, as one Library."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import load_yaml_model
from bot.errors import ConfigError
from bot.heap import collector_paused
from bot.library import Entry, Library
from bot.parse_cache import ParseCache
from bot.release.citation import remember_folder
from bot.release.gazetteer import Gazetteer, load_gazetteer
from bot.release.lookup import ReleaseLookup
from bot.release.models import Release
from bot.schedule.models import Commitment, load_commitments
from bot.schedule.owners import check_owners, load_owners
from bot.settings import Settings

logger = logging.getLogger(__name__)

# How many ids an error message lists before it says how many more there are.
_SHOWN_IDS = 10
# From how many releases on a library is read through the parse cache (bot.parse_cache): a small one
# parses in milliseconds and leaves nothing in the cache folder.
PARSE_CACHE_FROM = 50


class LibraryError(ConfigError):
    """Problems in several files of the library, each named with its file and field (`check` shows them all)."""

    def __init__(self, errors: Sequence[ConfigError]):
        self.errors = list(errors)
        super().__init__(self.errors[0].file, [p for e in self.errors for p in e.problems])

    def describe(self) -> str:
        return "\n".join(e.describe() for e in self.errors)


def release_folders(settings: Settings) -> list[Path]:
    """The folders holding a release.yml: releases/<id>/ in id order, or the data folder itself (legacy layout)."""
    if settings.legacy_layout:
        return [settings.data_dir]
    return sorted(p.parent for p in settings.releases_dir.glob("*/release.yml"))


def load_entry(
    folder: Path, gazetteer: Gazetteer, *, legacy: bool = False, cache: ParseCache | None = None
) -> Entry:
    """One release folder: release.yml, and commitments.yml (optional) checked against that release."""
    path = folder / "release.yml"
    release = load_yaml_model(path, Release, cache=cache)
    if not legacy and folder.name != release.id:
        raise ConfigError(
            path,
            [("id", f"expected {folder.name!r}, the name of its folder, got {release.id!r}: rename one of them")],
        )
    file = folder / "commitments.yml"
    commitments: tuple[Commitment, ...] = ()
    if file.exists():
        commitments = tuple(_own_commitments(file, release))
    # Citations (commands, digests, reminders alike) read the original text in this folder.
    remember_folder(release, folder)
    return Entry(release=release, lookup=ReleaseLookup(release, gazetteer), commitments=commitments, folder=folder)


def _own_commitments(file: Path, release: Release) -> list[Commitment]:
    """The follow-ups of `file`, each with release_id set to `release`; naming another release is an error."""
    loaded = load_commitments(file, release=release)
    wrong = [
        (f"commitments.{i}.release_id", f"expected {release.id!r}, the release of this folder, got {c.release_id!r}")
        for i, c in enumerate(loaded.commitments)
        if c.release_id not in (None, release.id)
    ]
    if wrong:
        raise ConfigError(file, wrong)
    return [
        c if c.release_id == release.id else c.model_copy(update={"release_id": release.id}) for c in loaded.commitments
    ]


def load_library(settings: Settings, *, gazetteer: Gazetteer | None = None) -> Library:
    """Every release of the data folder, and data/owners.yml checked against their desks; a ConfigError (a
    LibraryError for several) names each bad file and field.

    Every folder is read even after a bad one, so that the error lists all the problems at once.
    """
    gz = gazetteer if gazetteer is not None else load_gazetteer(settings.gazetteer_file)
    scan = scan_library(settings, gazetteer=gz)
    if scan.errors:
        raise scan.errors[0] if len(scan.errors) == 1 else LibraryError(scan.errors)
    library = Library(entries=tuple(scan.entries), gazetteer=gz, default_id=settings.default_release)
    owners = load_owners(settings.owners_path)
    check_owners(owners, settings.owners_path, library)
    return dataclasses.replace(library, owners=owners)


@dataclass(frozen=True)
class Scan:
    """What reading every release folder found: the good entries and every problem (`g7bot check` shows both)."""

    entries: list[Entry]
    errors: list[ConfigError]


def parse_cache_for(settings: Settings, folders: Sequence[Path]) -> ParseCache | None:
    """The parse cache a library of `folders` is read through: in the cache folder, for a large library only."""
    if len(folders) < PARSE_CACHE_FROM:
        return None
    return ParseCache(settings.search_cache_dir / "parsed")


def scan_library(settings: Settings, *, gazetteer: Gazetteer, cache: ParseCache | None = None) -> Scan:
    """Read every release folder; a bad one is an error of its own and the others are still read.

    `cache`: the parse cache to read through; by default parse_cache_for(settings, folders).
    """
    legacy = settings.legacy_layout
    if legacy:
        logger.warning(
            "%s holds release.yml at its top (the layout before the library): read as a library of one release; "
            "to move to the library layout, put release.yml, its source text (as source.txt, with "
            "source_file: source.txt) and commitments.yml in %s",
            settings.data_dir,
            settings.releases_dir / "<release id>",
        )
    folders = release_folders(settings)
    if not folders:
        problem = ("(folder)", "no release found: expected releases/<release id>/release.yml")
        return Scan(entries=[], errors=[ConfigError(settings.releases_dir, [problem])])
    if cache is None:
        cache = parse_cache_for(settings, folders)
    with collector_paused():
        return _scan(settings, folders, gazetteer=gazetteer, cache=cache)


def _scan(settings: Settings, folders: Sequence[Path], *, gazetteer: Gazetteer, cache: ParseCache | None) -> Scan:
    legacy = settings.legacy_layout
    errors: list[ConfigError] = []
    entries: list[Entry] = []
    # Commitment ids are unique across the library: the delivery log and Slack's buttons name them alone.
    first_file: dict[str, Path] = {}
    for folder in folders:
        try:
            entry = load_entry(folder, gazetteer, legacy=legacy, cache=cache)
        except ConfigError as exc:
            errors.append(exc)
            continue
        file = folder / "commitments.yml"
        repeated = [
            (f"commitments.{i}.id", f"{c.id!r} is in {first_file[c.id]} too: ids are unique across the library")
            for i, c in enumerate(entry.commitments)
            if c.id in first_file
        ]
        if repeated:
            errors.append(ConfigError(file, repeated))
            continue
        first_file.update((c.id, file) for c in entry.commitments)
        entries.append(entry)
    default = settings.default_release
    if default is not None and not errors and default not in {e.id for e in entries}:
        problem = ("G7BOT_DEFAULT_RELEASE", f"no release {default!r}; expected {_some({e.id for e in entries})}")
        errors.append(ConfigError("environment", [problem]))
    if cache is not None:
        cache.prune()
    return Scan(entries=entries, errors=errors)


def _some(ids: set[str]) -> str:
    shown = sorted(ids)[:_SHOWN_IDS]
    more = len(ids) - len(shown)
    return "one of " + ", ".join(shown) + (f" (and {more} more)" if more else "")
