"""The migrations' revision ids, read from their files: every start asks whether the database is at head, and
importing alembic to answer it costs a quarter of a second and 9 MB. Alembic itself is imported only to migrate.

tests/schedule/test_migrations.py holds these to alembic's own ScriptDirectory.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent / "versions"


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    file: Path


def _constant(module: ast.Module, name: str, file: Path) -> str | None:
    """The string (or None) a top-level `name = ...` of `module` holds."""
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not (isinstance(target, ast.Name) and target.id == name):
            continue
        if isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, str)):
            return value.value
        raise RuntimeError(f"{file}: {name} must be a string (or None), as alembic reads it")
    if name == "revision":
        raise RuntimeError(f"{file}: no revision = '...' at the top level")
    return None


@cache
def revisions() -> tuple[Revision, ...]:
    """Every migration under versions/, in file order."""
    found = []
    for file in sorted(VERSIONS.glob("*.py")):
        if file.name == "__init__.py":
            continue
        module = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        revision = _constant(module, "revision", file)
        if revision is None:
            raise RuntimeError(f"{file}: revision is None")
        found.append(Revision(revision, _constant(module, "down_revision", file), file))
    return tuple(found)


def known_revisions() -> frozenset[str]:
    return frozenset(r.revision for r in revisions())


def head_revision() -> str:
    """The one revision no other migration follows; RuntimeError if there is none or more than one."""
    followed = {r.down_revision for r in revisions()}
    heads = [r.revision for r in revisions() if r.revision not in followed]
    if len(heads) != 1:
        raise RuntimeError(f"expected one head among the migrations in {VERSIONS}, found {heads or 'none'}")
    return heads[0]
