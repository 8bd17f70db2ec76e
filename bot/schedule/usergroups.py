"""The members of the user groups whose reminders are DMed (usergroups.users.list), cached and refreshed per tick."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from bot.schedule.poster import SlackDeliveryError

logger = logging.getLogger(__name__)

DEFAULT_TTL = dt.timedelta(minutes=10)
# What usergroups.users.list answers that no retry cures, and what to do about it.
HINTS: Mapping[str, str] = {
    "no_such_subteam": "the user group id in data/owners.yml does not exist: copy it again (People > User groups)",
    "missing_scope": "give the app the usergroups:read scope (manifest.yml) and reinstall it",
    "not_allowed_token_type": "SLACK_BOT_TOKEN must be a bot token (xoxb-...)",
}


class UserGroupMembers:
    """The last known members of each user group, asked again `ttl` after they were read.

    A group that cannot be read keeps its last known members (a stale list DMs the people it did; an
    empty one would DM nobody); one never read has none, so its reminders reach only the entry's users,
    or the channel when that leaves nobody (bot.schedule.service). Time is passed in (the tick's `now`).
    """

    def __init__(
        self, members_of: Callable[[str], Awaitable[tuple[str, ...]]] | None, *, ttl: dt.timedelta = DEFAULT_TTL
    ) -> None:
        self.members_of = members_of
        self.ttl = ttl
        self.members: dict[str, tuple[str, ...]] = {}
        self._read_at: dict[str, dt.datetime] = {}
        self._failed: dict[str, str] = {}
        self.lookups = 0

    async def refresh(self, groups: Iterable[str], *, now: dt.datetime) -> None:
        """Read every group of `groups` not read within `ttl`; a failure is logged once per group and error."""
        if self.members_of is None:
            return
        for group in sorted(set(groups)):
            read = self._read_at.get(group)
            if read is not None and now < read + self.ttl:
                continue
            self.lookups += 1
            try:
                members = await self.members_of(group)
            except SlackDeliveryError as exc:
                # An error no retry cures is asked again after `ttl`, any other at the next tick.
                error = exc.error or str(exc)
                if exc.error in HINTS:
                    self._read_at[group] = now
                if self._failed.get(group) != error:
                    self._failed[group] = error
                    hint = HINTS.get(exc.error or "", "it is asked again at the next tick")
                    logger.warning(
                        "cannot list the members of user group %s (%s): %s; its DMs go to the members last known (%d)",
                        group,
                        error,
                        hint,
                        len(self.members.get(group, ())),
                    )
                continue
            self._failed.pop(group, None)
            self.members[group] = members
            self._read_at[group] = now
