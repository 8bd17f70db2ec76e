"""Related documents (関連資料): title, language (原文, 仮訳) and format and size (PDF形式:5,818KB)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.importer.lines import Source

_ITEM = re.compile(
    r"^(?:[-・●■]\s*)?(?P<title>.+?)"
    r"(?:[\(（](?P<lang>原文|仮訳|英文|英語|和文|概要|本文|参考資料)[\)）])?"
    r"(?:[\(（](?P<fmt>PDF|Word|Excel|PowerPoint|HTML|ZIP)\s*形式\s*[:：]\s*(?P<size>[0-9０-９][0-9０-９,，.．]*)\s*(?P<unit>KB|MB|kB|キロバイト|メガバイト)\s*[\)）])?$"
)


@dataclass(frozen=True)
class DocumentFound:
    title: str
    language: str | None
    format: str | None
    size_kb: int | None
    line: int


def _kb(size: str, unit: str) -> int:
    value = float(size.translate(str.maketrans("０１２３４５６７８９．", "0123456789.", ",，")))
    return max(1, round(value * 1024)) if unit in ("MB", "メガバイト") else max(1, round(value))


def read(source: Source, numbers: list[int]) -> list[DocumentFound]:
    found: list[DocumentFound] = []
    for n in numbers:
        text = source.line(n)
        m = _ITEM.match(text) if text else None
        if not m or not m["title"].strip("-・ "):
            continue
        if not (text.startswith(("-", "・", "●", "■")) or m["lang"] or m["fmt"]):
            # Neither a list item nor a document's marks: not a document (left for the report).
            continue
        size = _kb(m["size"], m["unit"]) if m["size"] else None
        found.append(DocumentFound(m["title"].strip(), m["lang"], m["fmt"], size, n))
        source.use(n)
    return found
