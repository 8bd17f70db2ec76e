"""data/owners.yml: which Slack users and user groups own each desk's follow-ups, and how they are told.

An entry names its desk one of two ways:

* `bureau` + `office`, in Japanese as the release writes them (bot.release.models.Desk): that desk in
  every release of the library;
* `release` + `desk` (a release id and one of its desk ids): that desk of that release only. It wins over
  a bureau + office entry for the same desk (the more specific one replaces it, nothing is merged).

Each entry lists `users` (Slack user ids, U… or W…), `usergroups` (S…), or both, and `notify`: `channel`
(the default: the reminder is posted in the channel and @mentions them) or `dm` (each user, the members
of the user groups included, gets the reminder by DM instead of the channel post).

Public surface: `load_owners(path)` (a missing file is no owners), `check_owners(file, path, library)`
(every entry names a desk of the library), and on `OwnersFile`: `owners_of(release_id, desk)` (a Desk
model, not its id: the bureau + office entries match on it), `owners_of_desk(release, desk_id)` (a
commitment's owner_desk) and `desks_of(user_id, library, groups)`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.datafiles import load_yaml_model
from bot.errors import ConfigError
from bot.release.models import ID_MAX, LIST_MAX, Desk, Release

if TYPE_CHECKING:
    from bot.library import Library

_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_USERGROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_NAME_MAX = 100
# The example ids the shipped data/owners.yml uses: `g7bot check` warns while they are left in.
PLACEHOLDER_USERS = frozenset({"U0123456789", "U0123456790", "U0123456791"})
PLACEHOLDER_USERGROUPS = frozenset({"S0123456789", "S0123456790"})

Notify = Literal["channel", "dm"]


def is_user_id(value: str) -> bool:
    """`value` is a Slack user id (U…, W…), not a channel's: a delivery to it is a DM."""
    return bool(_USER.match(value))


def where(channel: str) -> str:
    """Slack markup for where a delivery goes: <@U…> for a DM to a user, <#C…> for a channel."""
    return f"<@{channel}>" if is_user_id(channel) else f"<#{channel}>"


def _user(value: str) -> str:
    if not _USER.match(value):
        raise ValueError(f'expected a Slack user id such as "U0123456789" (not a name or @handle), got {value!r}')
    return value


def _usergroup(value: str) -> str:
    if not _USERGROUP.match(value):
        raise ValueError(f'expected a Slack user group id such as "S0123456789" (not a @handle), got {value!r}')
    return value


UserId = Annotated[str, AfterValidator(_user)]
UserGroupId = Annotated[str, AfterValidator(_usergroup)]


class Owners(BaseModel):
    """The people of one desk: users, user groups, and whether reminders reach them in the channel or by DM."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: tuple[UserId, ...] = Field((), max_length=LIST_MAX)
    usergroups: tuple[UserGroupId, ...] = Field((), max_length=LIST_MAX)
    notify: Notify = "channel"

    def mentions(self) -> list[str]:
        """Slack markup that @mentions every user and user group, users first."""
        return [f"<@{u}>" for u in self.users] + [f"<!subteam^{g}>" for g in self.usergroups]

    def recipients(self, members: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
        """Every user to DM: the users, then the known members of each user group, each once, in order.

        `members`: user group id -> its users (usergroups.users.list); a group not in it adds nobody.
        """
        found: dict[str, None] = dict.fromkeys(self.users)
        for group in self.usergroups:
            found.update(dict.fromkeys((members or {}).get(group, ())))
        return tuple(found)


class OwnerEntry(Owners):
    """One entry of data/owners.yml: a desk (bureau + office, or release + desk) and its owners."""

    bureau: str | None = Field(None, min_length=1, max_length=_NAME_MAX)
    office: str | None = Field(None, min_length=1, max_length=_NAME_MAX)
    release: str | None = Field(None, min_length=1, max_length=ID_MAX)
    desk: str | None = Field(None, min_length=1, max_length=ID_MAX)

    @model_validator(mode="after")
    def _one_desk(self) -> OwnerEntry:
        by_name = (self.bureau, self.office)
        by_id = (self.release, self.desk)
        if any(v is not None for v in by_name) and any(v is not None for v in by_id):
            raise ValueError("expected either bureau and office, or release and desk, not both")
        if by_name.count(None) == 1:
            raise ValueError("expected both bureau and office (in Japanese, as the release writes them)")
        if by_id.count(None) == 1:
            raise ValueError("expected both release (a release id) and desk (one of its desk ids)")
        if by_name == (None, None) and by_id == (None, None):
            raise ValueError("expected the desk: bureau and office, or release and desk")
        if not self.users and not self.usergroups:
            raise ValueError("expected users, usergroups or both (Slack ids such as U0123456789, S0123456789)")
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        """("name", bureau, office) or ("id", release, desk): what two entries may not share."""
        if self.release is not None and self.desk is not None:
            return ("id", self.release, self.desk)
        return ("name", self.bureau or "", self.office or "")

    def owners(self) -> Owners:
        return Owners(users=self.users, usergroups=self.usergroups, notify=self.notify)

    def matches(self, release_id: str, desk: Desk) -> bool:
        if self.release is not None:
            return self.release == release_id and self.desk == desk.id
        return self.bureau == desk.bureau.ja and self.office == desk.office.ja


class OwnersFile(BaseModel):
    """data/owners.yml (G7BOT_OWNERS): every desk's owners; empty when the file does not exist."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owners: tuple[OwnerEntry, ...] = Field((), max_length=1000)

    @field_validator("owners")
    @classmethod
    def _unique(cls, value: tuple[OwnerEntry, ...]) -> tuple[OwnerEntry, ...]:
        seen: set[tuple[str, str, str]] = set()
        for entry in value:
            if entry.key in seen:
                _, first, second = entry.key
                raise ValueError(f"expected one entry per desk, got {first} {second} more than once")
            seen.add(entry.key)
        return value

    def entry_of(self, release_id: str, desk: Desk) -> OwnerEntry | None:
        """The entry for `desk` of release `release_id`: its release + desk entry, else its bureau + office one."""
        by_name: OwnerEntry | None = None
        for entry in self.owners:
            if entry.matches(release_id, desk):
                if entry.release is not None:
                    return entry
                by_name = by_name or entry
        return by_name

    def owners_of(self, release_id: str, desk: Desk) -> Owners | None:
        """Who owns `desk` (a Desk of release `release_id`), or None when nobody is named for it."""
        entry = self.entry_of(release_id, desk)
        return entry.owners() if entry is not None else None

    def owners_of_desk(self, release: Release, desk_id: str) -> Owners | None:
        """Who owns desk `desk_id` of `release` (a commitment's owner_desk), None for nobody or no such desk."""
        desk = next((d for d in release.desks if d.id == desk_id), None)
        return self.owners_of(release.id, desk) if desk is not None else None

    def desks_of(self, user_id: str, library: Library, groups_of_user: Collection[str] = ()) -> set[tuple[str, str]]:
        """(release id, desk id) of every desk of `library` that `user_id` owns, directly or through one
        of `groups_of_user` (the user groups the caller knows the user is in)."""
        groups = set(groups_of_user)
        found: set[tuple[str, str]] = set()
        for entry in library:
            for desk in entry.release.desks:
                owners = self.owners_of(entry.id, desk)
                if owners is not None and (user_id in owners.users or groups.intersection(owners.usergroups)):
                    found.add((entry.id, desk.id))
        return found

    def usergroups(self, *, notify: Notify | None = None) -> set[str]:
        """Every user group named (of entries that `notify` so, if given)."""
        return {g for e in self.owners if notify is None or e.notify == notify for g in e.usergroups}


EMPTY = OwnersFile()


def load_owners(path: Path) -> OwnersFile:
    """Load data/owners.yml (or G7BOT_OWNERS); a missing file is no owners; ConfigError names file and field."""
    if not path.exists():
        return EMPTY
    return load_yaml_model(path, OwnersFile)


def check_owners(file: OwnersFile, path: Path | str, library: Library) -> None:
    """ConfigError naming `path` and the field of every entry that matches no desk of `library`."""
    problems: list[tuple[str, str]] = []
    for index, entry in enumerate(file.owners):
        where = f"owners.{index}"
        if entry.release is not None:
            found = library.get(entry.release)
            if found is None:
                problems.append(
                    (f"{where}.release", f"unknown release {entry.release!r}; expected {_some(e.id for e in library)}")
                )
            elif all(d.id != entry.desk for d in found.release.desks):
                ids = (d.id for d in found.release.desks)
                problems.append(
                    (f"{where}.desk", f"unknown desk {entry.desk!r} in {entry.release}; expected {_some(ids)}")
                )
            continue
        desks = [d for e in library for d in e.release.desks]
        if not any(d.bureau.ja == entry.bureau for d in desks):
            bureaus = {d.bureau.ja for d in desks}
            problems.append(
                (f"{where}.bureau", f"no desk of the library is in {entry.bureau!r}; expected {_some(bureaus)}")
            )
        elif not any(d.bureau.ja == entry.bureau and d.office.ja == entry.office for d in desks):
            offices = {d.office.ja for d in desks if d.bureau.ja == entry.bureau}
            problems.append(
                (f"{where}.office", f"no desk of {entry.bureau} is in {entry.office!r}; expected {_some(offices)}")
            )
    if problems:
        raise ConfigError(path, problems)


def placeholder_ids(file: OwnersFile) -> list[tuple[str, str]]:
    """(field, id) of every user or user group id that is still one of the shipped examples."""
    found: list[tuple[str, str]] = []
    for index, entry in enumerate(file.owners):
        found += [(f"owners.{index}.users.{i}", u) for i, u in enumerate(entry.users) if u in PLACEHOLDER_USERS]
        found += [
            (f"owners.{index}.usergroups.{i}", g) for i, g in enumerate(entry.usergroups) if g in PLACEHOLDER_USERGROUPS
        ]
    return found


def _some(values: Iterable[str], shown: int = 10) -> str:
    ordered = sorted(set(values))
    more = len(ordered) - shown
    return "one of " + ", ".join(ordered[:shown]) + (f" (and {more} more)" if more > 0 else "") if ordered else "none"
