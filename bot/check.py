"""`g7bot check`: validate manifest.yml, the settings, every release of the library, the schedule and the owners."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from bot.errors import ConfigError
from bot.library import Entry, Library
from bot.library.loader import scan_library
from bot.manifest import load_manifest
from bot.release.gazetteer import load_gazetteer, shipped_gazetteer
from bot.release.models import untranslated_fields
from bot.schedule.models import CommitmentsFile, ScheduleFile, load_schedule, placeholder_channels
from bot.schedule.owners import OwnersFile, check_owners, load_owners, placeholder_ids
from bot.settings import Settings

EXIT_CONFIG = 78

T = TypeVar("T")


def placeholder_warnings(settings: Settings, schedule: ScheduleFile | None, entries: Iterable[Entry]) -> list[str]:
    """One line per channel id that is still an example shipped with g7bot (a warning, not a failure)."""
    files: list[tuple[Path, list[tuple[str, str]]]] = [(settings.schedule_path, placeholder_channels(schedule, None))]
    for entry in entries:
        files.append((_commitments_file(settings, entry), placeholder_channels(None, _file_of(entry))))
    return [
        f"{file}: {field}: warning: {channel} is a placeholder shipped with g7bot; "
        "replace it with your channel's id (channel name > About, at the bottom)"
        for file, found in files
        for field, channel in found
    ]


def owner_placeholder_warnings(settings: Settings, owners: OwnersFile | None) -> list[str]:
    """One line per user or user group id in data/owners.yml that is still an example shipped with g7bot."""
    return [
        f"{settings.owners_path}: {field}: warning: {value} is a placeholder shipped with g7bot; "
        "replace it with your person's or user group's id"
        for field, value in (placeholder_ids(owners) if owners is not None else [])
    ]


def _file_of(entry: Entry) -> CommitmentsFile:
    return CommitmentsFile.model_construct(commitments=list(entry.commitments))


def _commitments_file(settings: Settings, entry: Entry) -> Path:
    return (entry.folder or settings.data_dir) / "commitments.yml"


def _checked_owners(settings: Settings, entries: Sequence[Entry]) -> OwnersFile:
    """data/owners.yml, each entry checked against the desks of the releases that loaded."""
    owners = load_owners(settings.owners_path)
    if entries:
        check_owners(owners, settings.owners_path, Library(entries=tuple(entries), gazetteer=shipped_gazetteer()))
    return owners


def release_line(entry: Entry) -> str:
    """id, date, title and counts of one release, as `check` lists it."""
    r = entry.release
    counts = (
        f"{len(r.bilaterals)} bilateral(s), {len(r.desks)} desk(s), {len(r.documents)} document(s), "
        f"{len(entry.commitments)} commitment(s)"
    )
    return f"{r.id}  {r.published.isoformat()}  {r.title('ja')}  ({counts})"


def untranslated_lines(entry: Entry, settings: Settings, *, strict: bool) -> list[str]:
    """One line per field its release lists as not yet translated: a warning, or with --strict an error."""
    path = (entry.folder or settings.data_dir) / "release.yml"
    kind = "error" if strict else "warning"
    return [
        f"{path}: {field}: {kind}: not yet translated (English replies show the Japanese, marked)"
        for field in untranslated_fields(entry.release)
    ]


def run_check(settings: Settings, *, strict: bool = False) -> int:
    """Check every file, print `ok` or the problems (file: field: reason); 78 if any failed.

    A field a release lists under `untranslated` is a warning; `strict` makes it a failure.
    """
    failures = 0

    def check(path: Path, load: Callable[[], T]) -> T | None:
        nonlocal failures
        try:
            result = load()
        except ConfigError as exc:
            failures += 1
            print(exc.describe(), file=sys.stderr)
            return None
        print(f"ok  {path}")
        return result

    check(settings.manifest, lambda: load_manifest(settings.manifest))
    gazetteer = check(settings.gazetteer_file, lambda: load_gazetteer(settings.gazetteer_file))
    scan = scan_library(settings, gazetteer=gazetteer or shipped_gazetteer())
    for error in scan.errors:
        failures += 1
        print(error.describe(), file=sys.stderr)
    untranslated: list[str] = []
    # Newest first, as the library and /g7 releases list them.
    for entry in sorted(scan.entries, key=lambda e: (-e.release.published.toordinal(), e.id)):
        print(f"ok  {(entry.folder or settings.data_dir) / 'release.yml'}  {release_line(entry)}")
        untranslated += untranslated_lines(entry, settings, strict=strict)
    print(f"{len(scan.entries)} release(s) loaded, {len(scan.errors)} with problems")
    if untranslated:
        failures += 1 if strict else 0
        print("\n".join(untranslated), file=sys.stderr)
    schedule = check(settings.schedule_path, lambda: load_schedule(settings.schedule_path))
    for line in placeholder_warnings(settings, schedule, scan.entries):
        print(line, file=sys.stderr)
    owners: OwnersFile | None = None
    if settings.owners_path.exists():
        owners = check(settings.owners_path, lambda: _checked_owners(settings, scan.entries))
    else:
        print(f"--  {settings.owners_path}: none (optional): reminders name the desk and @mention nobody")
    for line in owner_placeholder_warnings(settings, owners):
        print(line, file=sys.stderr)
    return EXIT_CONFIG if failures else 0
