"""The `g7bot import` command: read a file, import it, write the folder, print the report."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.importer.build import import_text
from bot.importer.writer import FolderExists, write_release
from bot.messages import msg
from bot.release.gazetteer import Gazetteer
from bot.release.models import Lang

# sysexits.h EX_DATAERR: the input held nothing a release could be made of.
EXIT_NOTHING = 65
EXIT_EXISTS = 73  # EX_CANTCREAT


def run_import(
    file: Path,
    *,
    into: Path,
    gazetteer: Gazetteer,
    url: str | None = None,
    release_id: str | None = None,
    replace: bool = False,
    lang: Lang = "en",
) -> int:
    """Import `file` into `into/<id>/`; 0 when something usable was written, non-zero otherwise."""
    try:
        raw = file.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        print(msg("import.unreadable", lang, file=file, reason=exc.strerror or exc), file=sys.stderr)
        return EXIT_NOTHING
    result = import_text(raw, gazetteer=gazetteer, url=url, release_id_=release_id)
    print(result.report.render(), end="")
    if result.data is None:
        print(msg("import.nothing", lang, file=file), file=sys.stderr)
        return EXIT_NOTHING
    try:
        folder, kept = write_release(result, into, replace=replace)
    except FolderExists as exc:
        print(msg("import.exists", lang, folder=exc), file=sys.stderr)
        return EXIT_EXISTS
    print(msg("import.written", lang, folder=folder))
    if kept is not None:
        print(msg("import.kept", lang, folder=kept))
    if result.release is None:
        print(msg("import.invalid", lang), file=sys.stderr)
    return 0
