"""Writing a release folder: release.yml, source.txt, import-report.txt; the previous files kept on --replace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from bot.importer.build import ImportResult

FILES = ("release.yml", "source.txt", "import-report.txt")


class FolderExists(Exception):
    """The release folder is there already and --replace was not given."""


def dump(data: dict[str, Any]) -> str:
    header = "# Written by `g7bot import` from source.txt; see import-report.txt for what is left to do.\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100_000)


def write_release(result: ImportResult, into: Path, *, replace: bool, now: dt.datetime) -> Path:
    """Write `result` to `into/<id>/`; with `replace`, existing files are kept as `<name>.prev-<timestamp>`."""
    assert result.data is not None
    folder = into / str(result.data["id"])
    if folder.exists():
        if not replace:
            raise FolderExists(str(folder))
        stamp = now.strftime("%Y%m%dT%H%M%S")
        for name in FILES:
            old = folder / name
            if old.exists():
                old.rename(folder / f"{name}.prev-{stamp}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "source.txt").write_text(result.source_text, encoding="utf-8")
    (folder / "release.yml").write_text(dump(result.data), encoding="utf-8")
    (folder / "import-report.txt").write_text(result.report.render(), encoding="utf-8")
    return folder
