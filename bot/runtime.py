"""What the listeners and transports share: settings, the loaded release, the locale cache, the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.locale import LocaleCache
from bot.release.citation import register_source
from bot.release.gazetteer import Gazetteer, load_gazetteer
from bot.release.loader import load_release
from bot.release.lookup import ReleaseLookup
from bot.release.models import Release
from bot.reply_cache import ReplyCache
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.listeners.middleware import FirstSight
    from bot.schedule.service import FollowupService


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Installation:
    """The one workspace the bot is installed in (auth.test of the bot token; the console's own locally)."""

    team_id: str | None
    enterprise_id: str | None = None

    def admits(self, *, team_id: str | None, enterprise_id: str | None) -> bool:
        """A request from this workspace: same team, and no other enterprise (Enterprise Grid)."""
        if self.team_id is None or team_id != self.team_id:
            return False
        return enterprise_id is None or enterprise_id == self.enterprise_id

    def describe(self) -> str:
        return f"{self.team_id} (enterprise {self.enterprise_id})" if self.enterprise_id else str(self.team_id)


@dataclass
class Runtime:
    """Built once at start-up by the entry point; `reload()` swaps the data atomically."""

    settings: Settings
    command: str
    lookup: ReleaseLookup
    locales: LocaleCache
    clock: Callable[[], dt.datetime] = utc_now
    replies: ReplyCache = field(default_factory=ReplyCache)
    # The follow-ups (schedule, delivery log, poster); start() wires them.
    services: FollowupService | None = None
    # What build_app registered (commands, events, actions), for the manifest check.
    registered: Any = None
    # The installed workspace: learnt from auth.test at start (or on the first request), the console's locally.
    installed: Installation | None = None
    # Requests already handled, for a process whose delivery log cannot record them (see seen_requests()).
    seen_in_memory: FirstSight | None = None
    # The console's own workspace, admitted as well while no Slack transport is configured (`ask`, the console).
    console_team: str | None = None

    @classmethod
    def create(cls, settings: Settings, *, command: str, clock: Callable[[], dt.datetime] = utc_now) -> Runtime:
        release = load_release(settings.release_file)
        # Citations (commands, digests, reminders alike) read the original text of this data folder.
        register_source(release, settings.data_dir)
        return cls(
            settings=settings,
            command=command,
            lookup=ReleaseLookup(release, load_gazetteer(settings.gazetteer_file)),
            locales=LocaleCache(ttl=settings.locale_cache_seconds),
            clock=clock,
        )

    def is_admin(self, user_id: str, *, team_id: str | None = None, enterprise_id: str | None = None) -> bool:
        """An admin listed in G7BOT_ADMIN_USERS, acting from the installed workspace only (user ids are per team)."""
        return user_id in self.settings.admin_users and self.admits(team_id=team_id, enterprise_id=enterprise_id)

    def admits(self, *, team_id: str | None, enterprise_id: str | None) -> bool:
        """A request from the installed workspace (or, with no Slack transport configured, the console's)."""
        if self.console_team is not None and team_id == self.console_team and enterprise_id is None:
            return True
        return self.installed is not None and self.installed.admits(team_id=team_id, enterprise_id=enterprise_id)

    def seen_requests(self) -> FirstSight:
        """The record of handled requests: the delivery log, shared by every instance, when it has one."""
        from bot.listeners.middleware import FirstSight, SeenInMemory

        store = self.services.store if self.services is not None else None
        if isinstance(store, FirstSight):
            return store
        if self.seen_in_memory is None:
            self.seen_in_memory = SeenInMemory()
        return self.seen_in_memory

    def set_release(self, release: Release, gazetteer: Gazetteer | None = None) -> None:
        """Swap in a newly loaded release (and gazetteer); requests already running keep the lookup they took."""
        register_source(release, self.settings.data_dir)
        self.lookup = ReleaseLookup(release, gazetteer if gazetteer is not None else self.lookup.gazetteer)
        self.replies.clear()
