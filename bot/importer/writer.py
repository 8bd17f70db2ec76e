"""Writing a release folder: release.yml, source.txt, import-report.txt; the previous files kept on --replace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.importer.build import ImportResult

# What an import writes; anything else in the folder (commitments.yml, a person's follow-ups) is left alone.
FILES = ("release.yml", "source.txt", "import-report.txt")
PREVIOUS = "previous"


class FolderExists(Exception):
    """The release folder is there already and --replace was not given."""


def dump(data: dict[str, Any]) -> str:
    header = "# Written by `g7bot import` from source.txt; see import-report.txt for what is left to do.\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100_000)


def _keep_previous(folder: Path) -> Path | None:
    """Move the files an import wrote before to `previous/<n>/` (n = 1, 2, ...: the oldest is 1)."""
    old = [folder / name for name in FILES if (folder / name).exists()]
    if not old:
        return None
    kept = folder / PREVIOUS
    taken = {int(p.name) for p in kept.iterdir() if p.name.isdigit()} if kept.is_dir() else set()
    target = kept / str(max(taken, default=0) + 1)
    target.mkdir(parents=True)
    for path in old:
        path.rename(target / path.name)
    return target


def write_release(result: ImportResult, into: Path, *, replace: bool) -> tuple[Path, Path | None]:
    """Write `result` to `into/<id>/`; with `replace`, the files written before go to `<id>/previous/<n>/`.

    Returns the folder and where the previous files went (None: there were none). The library reads only
    `<id>/release.yml`, so the kept files are never loaded as a release of their own.
    """
    assert result.data is not None
    folder = into / str(result.data["id"])
    kept = None
    if folder.exists():
        if not replace:
            raise FolderExists(str(folder))
        kept = _keep_previous(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "source.txt").write_text(result.source_text, encoding="utf-8")
    (folder / "release.yml").write_text(dump(result.data), encoding="utf-8")
    (folder / "import-report.txt").write_text(result.report.render(), encoding="utf-8")
    return folder, kept
