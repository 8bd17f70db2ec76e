"""The import report: what each section held, lines not used, fields left for a person, what could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    findings: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    unused: list[tuple[int, str]] = field(default_factory=list)

    def found(self, section: str, what: str) -> None:
        self.findings.append((section, what))

    def cannot(self, section: str, what: str) -> None:
        self.problems.append((section, what))

    def todo(self, what: str) -> None:
        self.todos.append(what)

    def render(self) -> str:
        """Plain text, the same for the same input (no clock, no paths)."""
        out = ["Import report", "", "Found:"]
        out += [f"  [{s}] {w}" for s, w in self.findings] or ["  (nothing)"]
        out += ["", "Could not read (reported, not guessed):"]
        out += [f"  [{s}] {w}" for s, w in self.problems] or ["  (none)"]
        out += [
            "",
            f"Left for a person: {len(self.untranslated)} field(s) without English (the Japanese is kept, "
            "listed under `untranslated` in release.yml):",
        ]
        out += [f"  {p}" for p in self.untranslated]
        out += [f"  {t}" for t in self.todos]
        out += ["", f"Source lines not used: {len(self.unused)}"]
        out += [f"  {n}: {text}" for n, text in self.unused]
        return "\n".join(out) + "\n"
