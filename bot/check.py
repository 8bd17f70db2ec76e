"""`g7bot check`: validate manifest.yml, the settings and the data files; report every problem found."""

from __future__ import annotations

import sys
from collections.abc import Callable

from bot.errors import ConfigError
from bot.manifest import load_manifest
from bot.release.loader import load_release
from bot.schedule.models import load_commitments, load_schedule
from bot.settings import Settings


def checks(settings: Settings) -> list[tuple[str, Callable[[], object]]]:
    """(what, how) pairs; every later file (commitments, schedule) adds its loader here."""
    return [
        (str(settings.manifest), lambda: load_manifest(settings.manifest)),
        (str(settings.release_file), lambda: load_release(settings.release_file)),
        (
            str(settings.commitments_file),
            lambda: load_commitments(settings.commitments_file, release=load_release(settings.release_file)),
        ),
        (str(settings.schedule_path), lambda: load_schedule(settings.schedule_path)),
    ]


def run_check(settings: Settings) -> int:
    failures = 0
    for what, check in checks(settings):
        try:
            check()
        except ConfigError as exc:
            failures += 1
            print(exc.describe(), file=sys.stderr)
        else:
            print(f"ok  {what}")
    return 78 if failures else 0
