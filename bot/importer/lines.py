"""Reading a release, as text or saved HTML, into numbered lines that remember which were used."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCK_TAGS = {
    *("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "dd", "dt"),
    *("section", "article", "main", "table", "ul", "ol", "dl", "blockquote", "pre", "hr"),
}
# Never text of the release: code, styles, and the site's own frame (menus, header, footer, side bars).
_SKIP_TAGS = {"script", "style", "noscript", "head", "title", "template", "svg", "nav", "header", "footer", "aside"}
# The element that holds the release itself on METI's pages (and most others): only its text is kept.
_MAIN_IDS = {"main", "contents", "maincontents", "main_contents", "main-contents", "content", "article"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "track", "wbr"}


class _TextOfPage(HTMLParser):
    """Visible text, one block a line; the text inside the page's main element kept apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.main: list[str] = []
        # Open skipped and main elements, counted by tag name (pages leave <p> and <li> unclosed).
        self._skip: dict[str, int] = {}
        self._main_tag: str | None = None
        self._main_depth = 0

    def _out(self, text: str) -> None:
        if any(self._skip.values()):
            return
        self.parts.append(text)
        if self._main_depth:
            self.main.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip[tag] = self._skip.get(tag, 0) + 1
            return
        if tag in _VOID:
            if tag in _BLOCK_TAGS:
                self._out("\n")
            return
        if self._main_tag == tag:
            self._main_depth += 1
        elif self._main_tag is None and not self.main and (tag == "main" or _main_id(attrs)):
            self._main_tag, self._main_depth = tag, 1
        if tag in _BLOCK_TAGS:
            self._out("\n")
        if tag == "li":
            self._out("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and tag not in _SKIP_TAGS:
            self._out("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip[tag] = max(0, self._skip.get(tag, 0) - 1)
            return
        if tag in _BLOCK_TAGS:
            self._out("\n")
        if tag == self._main_tag and self._main_depth:
            self._main_depth -= 1
            if not self._main_depth:
                self._main_tag = None

    def handle_data(self, data: str) -> None:
        self._out(data)


def _main_id(attrs: list[tuple[str, str | None]]) -> bool:
    return any(name in ("id", "role") and (value or "").lower() in (*_MAIN_IDS, "main") for name, value in attrs)


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:500].lower()
    return head.startswith("<!doctype html") or "<html" in head or "<body" in head


def html_to_text(html: str) -> str:
    """The visible text of a saved page, one block element a line (the form of text copied from it).

    Only the page's main element (<main>, or id="main", "contents", ...) when it has one; otherwise the
    whole body less the site's menus, header and footer.
    """
    parser = _TextOfPage()
    parser.feed(html)
    parser.close()
    kept = parser.main if "".join(parser.main).strip() else parser.parts
    lines = (" ".join(line.split()) for line in "".join(kept).splitlines())
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
