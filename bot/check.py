"""`g7bot check`: validate manifest.yml, the settings and the data files; report every problem found."""

from __future__ import annotations

import sys

from bot.errors import ConfigError
from bot.manifest import load_manifest
from bot.release.loader import load_release
from bot.release.models import Release
from bot.schedule.models import load_commitments, load_schedule
from bot.settings import Settings

EXIT_CONFIG = 78


def run_check(settings: Settings) -> int:
    """Check every file, print `ok` or the problems (file: field: reason); 78 if any failed."""
    failures = 0

    def check(path: object, load: object) -> object:
        nonlocal failures
        try:
            result = load()  # type: ignore[operator]
        except ConfigError as exc:
            failures += 1
            print(exc.describe(), file=sys.stderr)
            return None
        print(f"ok  {path}")
        return result

    check(settings.manifest, lambda: load_manifest(settings.manifest))
    release = check(settings.release_file, lambda: load_release(settings.release_file))
    if isinstance(release, Release):
        check(settings.commitments_file, lambda: load_commitments(settings.commitments_file, release=release))
    else:
        failures += 1
        print(
            f"{settings.commitments_file}: (file): not checked, its references need a valid release file",
            file=sys.stderr,
        )
    check(settings.schedule_path, lambda: load_schedule(settings.schedule_path))
    return EXIT_CONFIG if failures else 0
