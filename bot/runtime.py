"""What the listeners and transports share: settings, the loaded release, the locale cache, the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.locale import LocaleCache
from bot.release.loader import load_release
from bot.release.lookup import ReleaseLookup
from bot.release.models import Release
from bot.reply_cache import ReplyCache
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.schedule.service import FollowupService


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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

    @classmethod
    def create(cls, settings: Settings, *, command: str, clock: Callable[[], dt.datetime] = utc_now) -> Runtime:
        return cls(
            settings=settings,
            command=command,
            lookup=ReleaseLookup(load_release(settings.release_file)),
            locales=LocaleCache(ttl=settings.locale_cache_seconds),
            clock=clock,
        )

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.settings.admin_users

    def set_release(self, release: Release) -> None:
        """Swap in a newly loaded release; requests already running keep the lookup they took."""
        self.lookup = ReleaseLookup(release)
        self.replies.clear()
