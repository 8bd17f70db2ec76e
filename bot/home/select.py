"""Which follow-ups a person's Home tab shows: theirs (assigned, or their desks'), else the team's; pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from bot.schedule.due import Commitments, DigestItems, as_list, digest_items
from bot.schedule.models import Commitment
from bot.schedule.occurrence import CommitmentState

# The Home tab is a person's own list, read whenever they open it: further ahead than a weekly digest.
HOME_LOOKAHEAD_DAYS = 30
HOME_RECENT_DAYS = 7

# "own": assigned to the person or of a desk they own; "team": they own nothing, so everyone's open work.
Scope = Literal["own", "team"]
# A desk as the owners file names it: (release id, desk id).
DeskKey = tuple[str, str]


@dataclass(frozen=True)
class HomeSelection:
    """What the Home tab lists, by section (the digests' sections, `bot.schedule.due.digest_items`)."""

    scope: Scope
    items: DigestItems
    # The person's desks (empty for "team"), for the line that says why these follow-ups are theirs.
    desks: frozenset[DeskKey] = frozenset()


def assignee_of(state: CommitmentState | None) -> str | None:
    """Who took the commitment ("I'll take it"), if anyone."""
    return state.assignee if state is not None else None


def is_own(
    commitment: Commitment,
    state: CommitmentState | None,
    *,
    user_id: str,
    desks: Set[DeskKey],
    default_release_id: str,
) -> bool:
    """Assigned to `user_id`, or owned by one of `desks` (a commitment without a release is the default one's)."""
    if user_id and assignee_of(state) == user_id:
        return True
    return (commitment.release_id or default_release_id, commitment.owner_desk) in desks


def select_home(
    commitments: Commitments,
    states: Mapping[str, CommitmentState],
    now: dt.datetime,
    *,
    user_id: str,
    desks: Set[DeskKey],
    default_release_id: str,
    tz: ZoneInfo,
    lookahead_days: int = HOME_LOOKAHEAD_DAYS,
    recent_days: int = HOME_RECENT_DAYS,
) -> HomeSelection:
    """The person's follow-ups in the digests' sections; everyone's when they own nothing (no desk, nothing
    assigned). A person with a desk that has no follow-ups sees an empty list of their own, not the team's.

    Sections come from `digest_items`: the same overdue / date to confirm / upcoming / done rules as digests.
    """
    listed = as_list(commitments)
    own = [
        c
        for c in listed
        if is_own(c, states.get(c.id), user_id=user_id, desks=desks, default_release_id=default_release_id)
    ]
    if not own and not desks:
        items = digest_items(listed, states, now, tz=tz, lookahead_days=lookahead_days, recent_days=recent_days)
        return HomeSelection(scope="team", items=items)
    items = digest_items(own, states, now, tz=tz, lookahead_days=lookahead_days, recent_days=recent_days)
    return HomeSelection(scope="own", items=items, desks=frozenset(desks))
