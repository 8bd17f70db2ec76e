"""What every subcommand receives (`Ask`) and how a subcommand module is described (`Command`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from bot.release.lookup import ReleaseLookup
from bot.release.models import Lang, Release, Text
from bot.reply import Reply


@dataclass(frozen=True)
class Ask:
    """One request, already parsed: pure input to a subcommand (the clock included)."""

    args: tuple[str, ...]
    raw_args: str
    lang: Lang
    now: dt.datetime
    lookup: ReleaseLookup
    command: str = "/g7"
    user_id: str = ""
    is_admin: bool = False
    # Services for the follow-up commands (bot.schedule); None where they are not wired (tests, check).
    services: Any = None

    @property
    def release(self) -> Release:
        return self.lookup.release


@dataclass(frozen=True)
class Command:
    """A subcommand: its module's docstring is its help (first line English, `ja:` Japanese)."""

    name: str
    summary: Text
    usage: str
    examples: tuple[str, ...]
    run: Callable[[Ask], Reply]
    aliases: tuple[str, ...] = ()
    admin: bool = False
    hidden: bool = False
    # True when the answer depends on nothing but the text, language, admin-ness and release data.
    static: bool = False
    words: tuple[str, ...] = field(default=())

    @classmethod
    def from_module(cls, module: ModuleType) -> Command:
        doc = (module.__doc__ or "").strip().splitlines()
        en = doc[0].strip() if doc else module.__name__
        meta = {}
        for line in doc[1:]:
            key, sep, value = line.partition(":")
            if sep and key.strip() in {"ja", "usage", "examples"}:
                meta[key.strip()] = value.strip()
        name = module.__name__.rsplit(".", 1)[-1].replace("_", "-")
        aliases = tuple(getattr(module, "ALIASES", ()))
        return cls(
            name=name,
            summary=Text(ja=meta.get("ja", en), en=en),
            usage=meta.get("usage", name),
            examples=tuple(e.strip() for e in meta.get("examples", "").split(";") if e.strip()),
            run=module.run,
            aliases=aliases,
            admin=bool(getattr(module, "ADMIN", False)),
            hidden=bool(getattr(module, "HIDDEN", False)),
            static=bool(getattr(module, "STATIC", False)),
            words=(name, *aliases),
        )
