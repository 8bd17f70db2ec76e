"""The dependencies listeners and transports are given: built whole before any listener is registered."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.home.viewers import HomeViewers
from bot.library import Library
from bot.library.owner import LibraryOwner
from bot.locale import LocaleCache
from bot.reply_cache import ReplyCache
from bot.settings import Settings
from bot.transports.local import LOCAL_TEAM

if TYPE_CHECKING:
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


class InstalledWorkspace:
    """The installed workspace, the one fact learnt at run time: from auth.test at start or on the first request."""

    def __init__(self, installation: Installation | None = None):
        self._installation = installation

    @property
    def installation(self) -> Installation | None:
        return self._installation

    def learn(self, installation: Installation) -> None:
        self._installation = installation


@runtime_checkable
class FirstSight(Protocol):
    """The record of requests already handled, shared by every instance (Store.first_sight)."""

    def first_sight(self, key: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool: ...


class SeenInMemory:
    """first_sight for one process: tests, and a delivery log that has no seen_requests table yet."""

    def __init__(self) -> None:
        self._until: OrderedDict[str, dt.datetime] = OrderedDict()
        self._lock = threading.Lock()

    def first_sight(self, key: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
        with self._lock:
            # Entries are added in time order, so the expired ones are at the front.
            while self._until and next(iter(self._until.values())) <= now:
                self._until.popitem(last=False)
            if key in self._until:
                return False
            self._until[key] = now + ttl
            return True


@dataclass(frozen=True, eq=False)
class Runtime:
    """Everything a listener or transport uses, complete before the first listener is registered.

    Frozen: what changes at run time has its own holder (the library's owner swaps snapshots, the
    installed workspace is learnt once), so nothing is filled in later.
    """

    settings: Settings
    command: str
    # The library of releases: a request reads `library.current` once and keeps that snapshot.
    library: LibraryOwner
    locales: LocaleCache
    # The follow-ups (schedule, delivery log, poster); None where nothing is scheduled.
    services: FollowupService | None
    # Requests already handled: the delivery log, shared by every instance, or this process's memory.
    seen: FirstSight
    workspace: InstalledWorkspace
    clock: Callable[[], dt.datetime] = utc_now
    replies: ReplyCache = field(default_factory=ReplyCache)
    # Who opened the Home tab lately in this process (their tabs are re-published when a follow-up changes).
    home: HomeViewers = field(default_factory=HomeViewers)
    # The console's own workspace, admitted as well while no Slack transport is configured (`ask`, the console).
    console_team: str | None = None

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        command: str,
        library: LibraryOwner | Library,
        services: FollowupService | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> Runtime:
        store = services.store if services is not None else None
        return cls(
            settings=settings,
            command=command,
            library=library if isinstance(library, LibraryOwner) else LibraryOwner(library),
            # One cache of users' languages: the commands' and the reminder DMs'.
            locales=services.locales if services is not None else LocaleCache(ttl=settings.locale_cache_seconds),
            services=services,
            seen=store if isinstance(store, FirstSight) else SeenInMemory(),
            # Without a bot token (console, ask) the only workspace is the console's own.
            workspace=InstalledWorkspace(Installation(team_id=LOCAL_TEAM) if settings.bot_token is None else None),
            clock=clock,
            # Nothing can reach the app from Slack: only in-process requests (ask, the console) arrive.
            console_team=LOCAL_TEAM if settings.signing_secret is None and settings.app_token is None else None,
        )

    @property
    def installed(self) -> Installation | None:
        return self.workspace.installation

    def is_admin(self, user_id: str, *, team_id: str | None = None, enterprise_id: str | None = None) -> bool:
        """An admin listed in G7BOT_ADMIN_USERS, acting from the installed workspace only (user ids are per team)."""
        return user_id in self.settings.admin_users and self.admits(team_id=team_id, enterprise_id=enterprise_id)

    def admits(self, *, team_id: str | None, enterprise_id: str | None) -> bool:
        """A request from the installed workspace (or, with no Slack transport configured, the console's)."""
        if self.console_team is not None and team_id == self.console_team and enterprise_id is None:
            return True
        installed = self.workspace.installation
        return installed is not None and installed.admits(team_id=team_id, enterprise_id=enterprise_id)

    def seen_requests(self) -> FirstSight:
        """The record of handled requests: the delivery log, shared by every instance, when it has one."""
        return self.seen
