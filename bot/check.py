"""`g7bot check`: validate manifest.yml, the settings and the data files; report every problem found."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.errors import ConfigError
from bot.manifest import load_manifest
from bot.release.gazetteer import load_gazetteer
from bot.release.loader import load_release
from bot.schedule.models import (
    CommitmentsFile,
    ScheduleFile,
    load_commitments,
    load_schedule,
    placeholder_channels,
)
from bot.settings import Settings

EXIT_CONFIG = 78

T = TypeVar("T")


def placeholder_warnings(
    settings: Settings, schedule: ScheduleFile | None, commitments: CommitmentsFile | None
) -> list[str]:
    """One line per channel id that is still an example shipped with g7bot (a warning, not a failure)."""
    lines = []
    for file, found in (
        (settings.schedule_path, placeholder_channels(schedule, None)),
        (settings.commitments_file, placeholder_channels(None, commitments)),
    ):
        lines += [
            f"{file}: {field}: warning: {channel} is a placeholder shipped with g7bot; "
            "replace it with your channel's id (channel name > About, at the bottom)"
            for field, channel in found
        ]
    return lines


def run_check(settings: Settings) -> int:
    """Check every file, print `ok` or the problems (file: field: reason); 78 if any failed."""
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
    release = check(settings.release_file, lambda: load_release(settings.release_file))
    check(settings.gazetteer_file, lambda: load_gazetteer(settings.gazetteer_file))
    commitments: CommitmentsFile | None = None
    if release is not None:
        commitments = check(
            settings.commitments_file, lambda: load_commitments(settings.commitments_file, release=release)
        )
    else:
        failures += 1
        print(
            f"{settings.commitments_file}: (file): not checked, its references need a valid release file",
            file=sys.stderr,
        )
    schedule = check(settings.schedule_path, lambda: load_schedule(settings.schedule_path))
    for line in placeholder_warnings(settings, schedule, commitments):
        print(line, file=sys.stderr)
    return EXIT_CONFIG if failures else 0
