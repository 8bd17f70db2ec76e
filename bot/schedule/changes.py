"""What a reload would change: digests, reminder channels, commitments and desk owners (data/owners.yml)
added, removed or changed (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.schedule.models import CommitmentsFile, ScheduleFile
from bot.schedule.owners import EMPTY as NO_OWNERS
from bot.schedule.owners import OwnerEntry, OwnersFile

Kind = Literal["digest", "reminder-channel", "commitment", "owners"]
KINDS: tuple[Kind, ...] = ("digest", "reminder-channel", "commitment", "owners")


@dataclass(frozen=True)
class Changes:
    """(kind, id) pairs, each list sorted by kind (in KINDS order) then id."""

    added: tuple[tuple[Kind, str], ...] = ()
    removed: tuple[tuple[Kind, str], ...] = ()
    changed: tuple[tuple[Kind, str], ...] = ()

    @property
    def removes(self) -> bool:
        """True when applying would drop something: a file cut short looks exactly like this."""
        return bool(self.removed)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def reminder_channels(schedule: ScheduleFile, commitments: CommitmentsFile) -> set[str]:
    """Every channel a reminder may go to: the schedule's reminders channel and commitments' own."""
    channels = {c.channel for c in commitments.commitments if c.channel is not None}
    if schedule.reminder_channel is not None:
        channels.add(schedule.reminder_channel)
    return channels


def owner_desk(entry: OwnerEntry) -> str:
    """The desk an owners.yml entry names, as the admin wrote it: "通商政策局 国際経済部" (every release's) or
    "<release id>/<desk id>" (one release's)."""
    kind, first, second = entry.key
    return f"{first}/{second}" if kind == "id" else f"{first} {second}"


def diff(
    *,
    old_schedule: ScheduleFile,
    old_commitments: CommitmentsFile,
    new_schedule: ScheduleFile,
    new_commitments: CommitmentsFile,
    old_owners: OwnersFile = NO_OWNERS,
    new_owners: OwnersFile = NO_OWNERS,
) -> Changes:
    """What replacing the old files with the new ones adds, removes and changes. Owners are compared by the desk
    each entry names: its users, user groups and `notify`."""
    sides: dict[Kind, tuple[Mapping[str, object], Mapping[str, object]]] = {
        "digest": (
            {d.id: d for d in old_schedule.digests},
            {d.id: d for d in new_schedule.digests},
        ),
        "reminder-channel": (
            dict.fromkeys(reminder_channels(old_schedule, old_commitments)),
            dict.fromkeys(reminder_channels(new_schedule, new_commitments)),
        ),
        "commitment": (
            {c.id: c for c in old_commitments.commitments},
            {c.id: c for c in new_commitments.commitments},
        ),
        "owners": (
            {owner_desk(e): e.owners() for e in old_owners.owners},
            {owner_desk(e): e.owners() for e in new_owners.owners},
        ),
    }
    added: list[tuple[Kind, str]] = []
    removed: list[tuple[Kind, str]] = []
    changed: list[tuple[Kind, str]] = []
    for kind in KINDS:
        old, new = sides[kind]
        added += [(kind, key) for key in sorted(new.keys() - old.keys())]
        removed += [(kind, key) for key in sorted(old.keys() - new.keys())]
        changed += [(kind, key) for key in sorted(old.keys() & new.keys()) if old[key] != new[key]]
    return Changes(added=tuple(added), removed=tuple(removed), changed=tuple(changed))


@dataclass(frozen=True)
class ReloadResult:
    """What `admin reload` did: refused (problems), held back for confirmation, or applied."""

    problems: tuple[str, ...] = ()
    changes: Changes = Changes()
    applied: bool = False

    @property
    def needs_confirmation(self) -> bool:
        return not self.problems and not self.applied and self.changes.removes
