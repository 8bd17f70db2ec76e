"""What every subcommand receives (`Ask`) and how a subcommand module is described (`Command`)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from bot.library import Entry, Library
from bot.release.lookup import ReleaseLookup
from bot.release.models import Lang, Release, Text
from bot.reply import Reply

# A library of the one release a caller passed as `lookup=` (until every caller passes the library): built once
# per lookup and kept on it. Not in a WeakKeyDictionary: the library holds the lookup, so the key would never die;
# on the lookup, the pair is a cycle the collector takes with the lookup.
_SINGLE = "_g7_library_of_one"
_SINGLE_LOCK = threading.Lock()


def library_of(lookup: ReleaseLookup) -> Library:
    """The library holding only `lookup`'s release (that very lookup as its entry's), cached on the lookup."""
    held = lookup.__dict__.get(_SINGLE)
    if isinstance(held, Library):
        return held
    with _SINGLE_LOCK:
        held = lookup.__dict__.get(_SINGLE)
        if not isinstance(held, Library):
            entry = Entry(release=lookup.release, lookup=lookup)
            held = Library(entries=(entry,), gazetteer=lookup.gazetteer)
            lookup.__dict__[_SINGLE] = held
        return held


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
    # The library the request reads (one snapshot for the whole request) and the release it selected: `lookup`
    # is that entry's. None only where an Ask is built by hand (tests); `lib` and `chosen` then use `lookup`.
    library: Library | None = None
    entry: Entry | None = None
    # What `@…` selected: the matching entries (newest first) and the selectors as typed; () when none was given.
    selection: tuple[Entry, ...] = ()
    selectors: tuple[str, ...] = ()
    # The requester's Slack time zone (users.info `tz`); None when unknown. Only for replies that are not reused
    # (the reply cache keys static ones by text, language and admin-ness alone).
    tz: ZoneInfo | None = None

    @property
    def release(self) -> Release:
        return self.lookup.release

    @property
    def lib(self) -> Library:
        return self.library if self.library is not None else library_of(self.lookup)

    @property
    def chosen(self) -> Entry:
        """The selected release's entry (the library's default when none was selected)."""
        if self.entry is not None:
            return self.entry
        lib = self.lib
        return lib.get(self.release.id) or lib.default

    @property
    def scope(self) -> tuple[Entry, ...]:
        """The releases a command spanning the library reads: what was selected, else every release."""
        return self.selection if self.selectors else self.lib.entries


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
    # True when a selector may match several releases (the command spans them); else it must pick one.
    multi: bool = False

    @classmethod
    def from_module(cls, module: ModuleType) -> Command:
        run = getattr(module, "run", None)
        if not callable(run):
            raise TypeError(f"command module {module.__name__} has no run(ask) function")
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
            run=run,
            aliases=aliases,
            admin=bool(getattr(module, "ADMIN", False)),
            hidden=bool(getattr(module, "HIDDEN", False)),
            static=bool(getattr(module, "STATIC", False)),
            multi=bool(getattr(module, "MULTI", False)),
            words=(name, *aliases),
        )
