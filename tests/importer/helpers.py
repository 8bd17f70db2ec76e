"""Shared pieces of the importer tests: the fixture files, the original release, walking Japanese values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.importer.build import ImportResult, import_text
from bot.release.gazetteer import shipped_gazetteer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
ORIGINAL = ROOT / "data" / "releases" / "meti-2025-12-10-g7-idt" / "source.txt"


def run(text: str) -> ImportResult:
    return import_text(text, gazetteer=shipped_gazetteer())


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def japanese_values(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every `ja` value written, with its dotted path."""
    if isinstance(data, dict):
        for k, v in data.items():
            where = f"{path}.{k}" if path else str(k)
            if k == "ja" and isinstance(v, str):
                yield path, v
            else:
                yield from japanese_values(v, where)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from japanese_values(v, f"{path}.{i}")
