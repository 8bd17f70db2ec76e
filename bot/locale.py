"""Each user's reply language from their Slack locale (users.info include_locale), and their time zone, cached."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.export.timezone import zone_or_none
from bot.release.models import Lang

logger = logging.getLogger(__name__)

# A failed look-up is retried after this long rather than the full TTL: Slack may be back soon.
_FAILURE_TTL = 60.0
_LOOKUP_TIMEOUT = 1.2


def lang_of_locale(locale: str | None) -> Lang | None:
    """ja-JP -> ja, en-US / en-GB -> en; other locales have no reply language of their own."""
    if not locale:
        return None
    prefix = locale.split("-", 1)[0].lower()
    if prefix == "ja":
        return "ja"
    if prefix == "en":
        return "en"
    return None


class LocaleCache:
    """Remembers user -> language (and the time zone the same users.info gives) for `ttl` seconds, at most `size`
    users (least recently used go)."""

    def __init__(self, *, ttl: float = 3600.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        # user -> (expiry, language, users.info `tz` as Slack wrote it)
        self._entries: OrderedDict[str, tuple[float, Lang | None, str | None]] = OrderedDict()

    def get(self, user_id: str) -> tuple[bool, Lang | None]:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] <= self._clock():
            return False, None
        self._entries.move_to_end(user_id)
        return True, entry[1]

    def put(self, user_id: str, lang: Lang | None, *, ttl: float | None = None, tz: str | None = None) -> None:
        self._entries[user_id] = (self._clock() + (self.ttl if ttl is None else ttl), lang, tz)
        self._entries.move_to_end(user_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def lang_for(self, user_id: str, client: AsyncWebClient | None) -> Lang | None:
        """The user's language, asking Slack on a cache miss; None when unknown (use the default)."""
        if not user_id or client is None or not client.token:
            return None
        hit, lang = self.get(user_id)
        if hit:
            return lang
        return await self._look_up(user_id, client)

    async def tz_for(self, user_id: str, client: AsyncWebClient | None) -> ZoneInfo | None:
        """The user's Slack time zone (users.info `tz`, from the same look-up as the language), asking Slack on a
        cache miss; None when unknown (a failure, no `tz`, a zone this machine does not know)."""
        if not user_id or client is None or not client.token:
            return None
        if not self.get(user_id)[0]:
            await self._look_up(user_id, client)
        entry = self._entries.get(user_id)
        return zone_or_none(entry[2]) if entry is not None else None

    async def _look_up(self, user_id: str, client: AsyncWebClient) -> Lang | None:
        try:
            resp = await asyncio.wait_for(client.users_info(user=user_id, include_locale=True), timeout=_LOOKUP_TIMEOUT)
        # The language is a nicety: no failure of this look-up may cost the user the answer.
        # aiohttp's ServerDisconnectedError and ClientPayloadError are not OSErrors.
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            logger.warning("users.info failed for %s: %r; using the workspace default", user_id, exc)
            self.put(user_id, None, ttl=_FAILURE_TTL)
            return None
        user = resp.get("user") or {}
        lang = lang_of_locale(user.get("locale"))
        self.put(user_id, lang, tz=user.get("tz") if isinstance(user.get("tz"), str) else None)
        return lang
