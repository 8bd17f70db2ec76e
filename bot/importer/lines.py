"""Reading a release, as text or saved HTML, into numbered lines that remember which were used."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "dd", "dt", "section", "article"}
_SKIP_TAGS = {"script", "style", "noscript", "head", "title"}


class _TextOfPage(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:500].lower()
    return head.startswith("<!doctype html") or "<html" in head or "<body" in head


def html_to_text(html: str) -> str:
    """The visible text of a saved page, one block element a line (the form of text copied from it)."""
    parser = _TextOfPage()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


@dataclass
class Source:
    """The release's lines (1-based numbers as in source.txt) and which of them a reader used."""

    text: str
    lines: list[str]
    used: set[int] = field(default_factory=set)

    @classmethod
    def from_text(cls, text: str) -> Source:
        text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        return cls(text=text, lines=text.split("\n"))

    def line(self, number: int) -> str:
        return self.lines[number - 1].strip()

    def numbers(self) -> range:
        return range(1, len(self.lines) + 1)

    def use(self, *numbers: int) -> None:
        self.used.update(numbers)

    def unused(self) -> list[int]:
        return [n for n in self.numbers() if n not in self.used and self.line(n)]
