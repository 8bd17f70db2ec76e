"""The Slack Connect guard: internal follow-ups are not posted into a channel shared with another organisation."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.schedule.poster import SlackDeliveryError

# The reason a refused post is recorded under (status skipped), and the notice's error code.
EXTERNAL_CHANNEL = "external_channel"
# The skipped delivery's recorded reason: the code first (the notice finds its posts by it), then what to do.
EXTERNAL_REASON = (
    f"{EXTERNAL_CHANNEL}: the channel is shared with another organisation (Slack Connect); "
    "set allow_external: true on its digest or reminders in data/schedule.yml to post there"
)
DEFAULT_TTL = dt.timedelta(minutes=10)
# conversations.info needs channels:read (public) or groups:read (private): without them the guard cannot look.
MISSING_SCOPE_HINT = (
    "give the app channels:read and groups:read (conversations.info, the Slack Connect check) and reinstall it"
)


def is_external(info: Mapping[str, Any]) -> bool:
    """conversations.info's channel is shared, or being shared, with another organisation.

    `is_shared` alone also covers a channel shared between workspaces of one Enterprise Grid org
    (`is_org_shared`), which is internal; a shared channel that is not org-shared is taken as external.
    """
    if info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
        return True
    if info.get("pending_connected_team_ids") or info.get("connected_team_ids"):
        return True
    return bool(info.get("is_shared")) and not info.get("is_org_shared")


class ChannelInfoError(SlackDeliveryError):
    """conversations.info failed: the guard cannot tell, so nothing is posted (retried or ended by its error)."""

    def __init__(self, message: str, *, error: str | None, retry_after: float | None, hint: str | None):
        super().__init__(message, error=error, retry_after=retry_after)
        self.hint = hint


@dataclasses.dataclass(frozen=True)
class _Seen:
    external: bool
    until: dt.datetime


class SharedChannelGuard:
    """Whether a channel is externally shared, from conversations.info, cached per channel for `ttl`.

    Time is passed in (the tick's `now`). Lookups of one channel made at once share one request, so a
    fan-out of many posts to a channel asks Slack once per `ttl`. `lookups` counts the requests made,
    `hits` the answers given from the cache. A failed lookup is not cached.
    """

    def __init__(self, info: Callable[[str], Awaitable[Mapping[str, Any]]], *, ttl: dt.timedelta = DEFAULT_TTL) -> None:
        self.info = info
        self.ttl = ttl
        self.lookups = 0
        self.hits = 0
        self._seen: dict[str, _Seen] = {}
        # Per event loop (tests run each tick in its own): a future is only awaited on the loop that made it.
        self._pending: dict[tuple[int, str], asyncio.Future[bool]] = {}

    async def external(self, channel: str, *, now: dt.datetime) -> bool:
        """True when `channel` is shared with another organisation; ChannelInfoError when Slack cannot say."""
        seen = self._seen.get(channel)
        if seen is not None and now < seen.until:
            self.hits += 1
            return seen.external
        key = (id(asyncio.get_running_loop()), channel)
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            self.lookups += 1
            try:
                info = await self.info(channel)
            except SlackDeliveryError as exc:
                hint = MISSING_SCOPE_HINT if exc.error == "missing_scope" else None
                raise ChannelInfoError(str(exc), error=exc.error, retry_after=exc.retry_after, hint=hint) from exc
            external = is_external(info)
            self._seen[channel] = _Seen(external, now + self.ttl)
            future.set_result(external)
            return external
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            # Retrieved here, so a failure nobody else waited for is not reported as never retrieved.
            future.exception()
            raise
        finally:
            del self._pending[key]

    def forget(self, channel: str | None = None) -> None:
        """Drop what is cached (for one channel, or all): the next post asks Slack again."""
        if channel is None:
            self._seen.clear()
        else:
            self._seen.pop(channel, None)


def guard_for(poster: object) -> SharedChannelGuard | None:
    """The guard for a poster that can ask conversations.info (the Slack one); None for the console's."""
    info = getattr(poster, "channel_info", None)
    return SharedChannelGuard(info) if callable(info) else None
