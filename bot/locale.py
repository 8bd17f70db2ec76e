"""Each user's reply language from their Slack locale (users.info include_locale), cached."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

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
    """Remembers user -> language for `ttl` seconds, at most `size` users (least recently used go)."""

    def __init__(self, *, ttl: float = 3600.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Lang | None]] = OrderedDict()

    def get(self, user_id: str) -> tuple[bool, Lang | None]:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] <= self._clock():
            return False, None
        self._entries.move_to_end(user_id)
        return True, entry[1]

    def put(self, user_id: str, lang: Lang | None, *, ttl: float | None = None) -> None:
        self._entries[user_id] = (self._clock() + (self.ttl if ttl is None else ttl), lang)
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
        self.put(user_id, lang)
        return lang
