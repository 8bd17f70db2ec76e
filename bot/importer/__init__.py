"""`g7bot import`: a METI press release, as copied text or a saved HTML page, becomes a release folder."""

from __future__ import annotations

from bot.importer.build import ImportResult, import_text
from bot.importer.writer import write_release

__all__ = ["ImportResult", "import_text", "write_release"]
