"""The page's frame: header or breadcrumb, title, date, update notes, numbered sections and subsections."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.importer import dates
from bot.importer.lines import Source

_DIGIT_DOT = re.compile(r"^(?P<num>[0-9０-９]{1,2})\s*[.．、]\s*(?P<title>\S.*)$")
_PAREN = re.compile(r"^[\(（](?P<num>[0-9０-９]{1,2})[\)）]\s*(?P<title>\S.*)$")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_CIRCLE = re.compile(rf"^(?P<num>[{_CIRCLED}])\s*(?P<title>\S.*)$")
_STYLES = (("1.", _DIGIT_DOT), ("(1)", _PAREN), ("①", _CIRCLE))
# Unnumbered headings METI puts at the foot of a release.
DOCUMENT_HEADINGS = ("関連資料", "関連リンク", "添付資料", "配布資料")
CONTACT_HEADINGS = (
    "担当",
    "本件の担当",
    "お問合せ先",
    "お問い合わせ先",
    "問い合わせ先",
    "担当課",
    "本件に関するお問合せ先",
)
OVERVIEW_HEADINGS = ("本件の概要", "概要")
HEADING_MAX = 100
_INLINE_CONTACT = re.compile(r"^(?:本件の)?担当\s*[:：]\s*\S")


@dataclass
class Heading:
    style: str
    number: int
    title: str
    line: int


@dataclass
class Part:
    """A numbered subsection (or the text before the first one): its heading and body line numbers."""

    heading: Heading | None
    body: list[int] = field(default_factory=list)


@dataclass
class Section:
    """A top-level section, or one of the foot blocks (関連資料, 担当), with its parts."""

    heading: Heading | None
    label: str
    parts: list[Part] = field(default_factory=list)

    def body(self) -> list[int]:
        out: list[int] = []
        for part in self.parts:
            out.extend(([part.heading.line] if part.heading else []) + part.body)
        return out


@dataclass
class Head:
    """What comes before the body: the title, the publication date, update notes, skipped header lines."""

    title: str | None = None
    title_line: int | None = None
    published: dt.date | None = None
    date_line: int | None = None
    updates: list[tuple[int, dt.date]] = field(default_factory=list)
    header_lines: list[int] = field(default_factory=list)


def heading(line: str, number: int) -> Heading | None:
    """`line` as a numbered heading, in any of METI's styles, or None for an ordinary line."""
    if len(line) > HEADING_MAX + 4:
        return None
    for style, pattern in _STYLES:
        m = pattern.match(line)
        if m and not line.endswith("。"):
            raw = m["num"]
            n = _CIRCLED.index(raw) + 1 if style == "①" else int(raw)
            return Heading(style, n, m["title"].strip(), number)
    return None


def read_head(source: Source) -> Head:
    """Find the publication date line; the title is the last line before it that is not a breadcrumb."""
    head = Head()
    for n in source.numbers():
        day = dates.published(source.line(n))
        if day is not None:
            head.published, head.date_line = day, n
            break
    if head.date_line is None:
        return head
    before = [n for n in range(1, head.date_line) if source.line(n)]
    for n in reversed(before):
        text = source.line(n)
        if not text.startswith(("-", "・", ">", "＞", "|")):
            head.title, head.title_line = text, n
            break
    if head.title_line is None and before:
        # Only breadcrumb items before the date: the last of them is the title.
        n = before[-1]
        head.title, head.title_line = source.line(n).lstrip("-・>＞| ").strip(), n
    head.header_lines = [n for n in before if n != head.title_line]
    source.use(head.date_line, *before)
    for n in source.numbers():
        day = dates.update_note(source.line(n))
        if day is not None:
            head.updates.append((n, day))
            source.use(n)
    return head


def _label(text: str) -> str | None:
    bare = text.strip().strip("■□●◆◇【】[]［］").strip()
    for label in (*DOCUMENT_HEADINGS, *CONTACT_HEADINGS):
        if bare == label or bare.startswith(label + "先"):
            return "documents" if label in DOCUMENT_HEADINGS else "contacts"
    return None


def split_sections(source: Source, start: int) -> list[Section]:
    """Sections from line `start` on: the lead (label "lead"), numbered sections, then the foot blocks."""
    sections = [Section(None, "lead", [Part(None)])]
    top: str | None = None
    for n in range(start, len(source.lines) + 1):
        text = source.line(n)
        if not text or dates.update_note(text):
            continue
        label = _label(text)
        if sections[-1].label == "lead" and text.strip("■□●◆◇【】[]［］ ") in OVERVIEW_HEADINGS:
            # An unnumbered 「本件の概要」 before the first section: what follows is the lead paragraph.
            sections.append(Section(Heading("", 0, text, n), "overview", [Part(None)]))
            continue
        if label:
            sections.append(Section(Heading("", 0, text, n), label, [Part(None)]))
            continue
        if _INLINE_CONTACT.match(text):
            # 「担当:通商政策局 米州課長 山田」: the heading and the first desk's unit on one line.
            sections.append(Section(Heading("", 0, text, n), "contacts", [Part(None, [n])]))
            continue
        h = heading(text, n)
        if h and (label := _label(h.title)):
            # 「3.担当」: a foot block that carries a number.
            sections.append(Section(h, label, [Part(None)]))
            continue
        current = sections[-1]
        if h and current.label in ("documents", "contacts") and h.style == (top or "1."):
            # A numbered section after a foot block (a page cut and pasted out of order) ends the block.
            sections.append(Section(h, "section", [Part(None)]))
            continue
        if h and current.label not in ("documents", "contacts"):
            if top is None and (current.label in ("lead", "overview") or h.style == "1."):
                top = h.style
            if h.style == top:
                sections.append(Section(h, "section", [Part(None)]))
                continue
            if current.label == "section":
                current.parts.append(Part(h))
                continue
        current.parts[-1].body.append(n)
    for section in sections:
        if section.heading and section.heading.title.strip() in OVERVIEW_HEADINGS:
            section.label = "overview"
    return sections


def paragraphs(source: Source, numbers: list[int]) -> list[tuple[int, str]]:
    """Non-blank lines of a body with their numbers (METI puts one paragraph on a line)."""
    return [(n, source.line(n)) for n in numbers if source.line(n)]


_SENTENCE = re.compile(r"[^。]+。?")


def sentences(text: str) -> list[str]:
    """A paragraph's sentences, each ending with its 。 (brackets are not split inside)."""
    out: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        current += ch
        if ch in "「(（":
            depth += 1
        elif ch in "」)）":
            depth = max(0, depth - 1)
        elif ch == "。" and depth == 0:
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out
