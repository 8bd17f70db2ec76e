"""The import report: per section what it found and what it could not read; fields left for a person; lines unused."""

from __future__ import annotations

from dataclasses import dataclass, field

# The order sections are listed in (the page's order); a section not named here comes after them.
SECTIONS = (
    "text",
    "header",
    "title",
    "published",
    "update note",
    "title and date",
    "url",
    "meeting",
    "visit",
    "delegation",
    "outcomes",
    "bilaterals",
    "contacts",
    "documents",
    "validation",
)


@dataclass
class Report:
    findings: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    # (dotted path, the Japanese it holds) of every field written without English.
    untranslated: list[tuple[str, str]] = field(default_factory=list)
    unused: list[tuple[int, str]] = field(default_factory=list)

    def found(self, section: str, what: str) -> None:
        self.findings.append((section, what))

    def cannot(self, section: str, what: str) -> None:
        self.problems.append((section, what))

    def todo(self, what: str) -> None:
        self.todos.append(what)

    def sections(self) -> list[str]:
        named = {s for s, _ in (*self.findings, *self.problems)}
        return [s for s in SECTIONS if s in named] + sorted(named - set(SECTIONS))

    def render(self) -> str:
        """Plain text, the same for the same input (no clock, no paths)."""
        out = [
            "Import report",
            f"  {len(self.findings)} found, {len(self.problems)} not read (reported, not guessed), "
            f"{len(self.untranslated)} field(s) left for a person, {len(self.unused)} source line(s) not used",
        ]
        for section in self.sections():
            out += ["", f"[{section}]"]
            out += [f"  found: {w}" for s, w in self.findings if s == section]
            out += [f"  NOT READ: {w}" for s, w in self.problems if s == section]
        out += [
            "",
            f"Left for a person: {len(self.untranslated)} field(s) without English (the Japanese is kept, "
            "listed under `untranslated` in release.yml):",
        ]
        out += [f"  {p}: {ja}" for p, ja in self.untranslated]
        out += ["", f"To do: {len(self.todos)}"]
        out += [f"  {t}" for t in self.todos]
        out += ["", f"Source lines not used: {len(self.unused)}"]
        out += [f"  {n}: {text}" for n, text in self.unused]
        return "\n".join(out) + "\n"
