"""Posting to Slack for the scheduler: paced posts and updates, and finding posts whose answer was lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DeliveryError, LeaseLost
from bot.schedule.pacing import ChannelPacer
from bot.schedule.slack_client import RateLimitRetryHandler, _maybe_delivered

logger = logging.getLogger(__name__)

EVENT_TYPE = "g7bot_delivery"
_HISTORY_PAGE = 200


class SlackDeliveryError(DeliveryError):
    """A DeliveryError with Slack's error code and, when rate limited, how long Slack asked us to wait."""

    def __init__(self, message: str, *, error: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.error = error
        self.retry_after = retry_after


class Poster:
    """Posts, updates and finds the scheduler's messages; every failure is a DeliveryError.

    Each post carries message metadata {"event_type": "g7bot_delivery", "event_payload": {...}} with
    the delivery id, so a post whose answer was lost (timeout, crash) can be found in the channel.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        pacer: ChannelPacer | None = None,
        settle: float = 3.0,
        history_pages: int = 10,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self.pacer = pacer or ChannelPacer()
        # The client's rate-limit retries of chat.postMessage go through the pacer (see RateLimitRetryHandler).
        for handler in getattr(client, "retry_handlers", None) or []:
            if isinstance(handler, RateLimitRetryHandler) and handler.on_rate_limited is None:
                handler.on_rate_limited = self.pacer.rate_limited
        # After a post timed out: how long to let Slack finish it before looking for it.
        self.settle = settle
        self.history_pages = history_pages
        self.wall_clock = wall_clock

    @property
    def semaphore(self) -> asyncio.Semaphore:
        return self.pacer.semaphore

    async def post(
        self,
        channel: str,
        message: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any],
        before_send: Callable[[], Awaitable[bool]] | None = None,
    ) -> str:
        """Post `message` (text, blocks, ...) with `metadata` as the event payload; returns its ts.

        `before_send` runs once this post has its turn (pacing can take a while): if it answers
        False, nothing is sent and LeaseLost is raised.
        """
        payload = {"event_type": EVENT_TYPE, "event_payload": dict(metadata)}
        delivery_id = metadata.get("delivery_id")
        started = self.wall_clock()
        async with self.pacer.slot(channel):
            if before_send is not None and not await before_send():
                raise LeaseLost(f"chat.postMessage to {channel}: no longer ours to send")
            try:
                return await self._post_once(channel, message, payload)
            except (TimeoutError, ClientError) as exc:
                if not _maybe_delivered(exc) or delivery_id is None:
                    raise _delivery_error("chat.postMessage", channel, exc) from exc
                first = exc
            # The answer was lost, not necessarily the post: look before posting again.
            logger.warning("chat.postMessage to %s: %s; checking whether it was posted", channel, type(first).__name__)
            await asyncio.sleep(self.settle)
            since = dt.datetime.fromtimestamp(started - 60, dt.UTC)
            found = await self._find_posted(channel, delivery_id, since=since)
            if found is not None:
                return found
            try:
                return await self._post_once(channel, message, payload)
            except (TimeoutError, ClientError) as exc:
                raise _delivery_error("chat.postMessage", channel, exc) from exc

    async def _post_once(self, channel: str, message: Mapping[str, Any], payload: dict[str, Any]) -> str:
        try:
            response = await self.client.chat_postMessage(channel=channel, metadata=payload, **message)
        except SlackApiError as exc:
            if exc.response is not None and exc.response.status_code == 429:
                self.pacer.note_rate_limited()
            raise _delivery_error("chat.postMessage", channel, exc) from exc
        except SlackClientError as exc:
            raise DeliveryError(f"chat.postMessage to {channel}: {exc}") from exc
        self.pacer.posted()
        return str(response["ts"])

    async def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        """chat.update of a message the bot posted (e.g. a reminder after Done was pressed)."""
        async with self.pacer.slot(channel):
            try:
                await self.client.chat_update(channel=channel, ts=ts, **message)
            except (SlackClientError, ClientError, TimeoutError) as exc:
                raise _delivery_error("chat.update", channel, exc) from exc

    async def find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        """The ts of the message in `channel` (posted at or after `since`) that carries `delivery_id`."""
        async with self.semaphore:
            return await self._find_posted(channel, delivery_id, since=since)

    async def _find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        wanted = str(delivery_id)
        cursor: str | None = None
        for _ in range(self.history_pages):
            try:
                response = await self.client.conversations_history(
                    channel=channel,
                    oldest=f"{since.timestamp():.6f}",
                    inclusive=True,
                    include_all_metadata=True,
                    limit=_HISTORY_PAGE,
                    cursor=cursor,
                )
            except (SlackClientError, ClientError, TimeoutError) as exc:
                raise _delivery_error("conversations.history", channel, exc) from exc
            for message in response.get("messages") or []:
                if _delivery_id_of(message) == wanted:
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return None
        logger.warning(
            "conversations.history of %s: gave up after %s pages looking for delivery %s",
            channel,
            self.history_pages,
            wanted,
        )
        return None


def _delivery_id_of(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping) or payload.get("delivery_id") is None:
        return None
    return str(payload["delivery_id"])


def _delivery_error(method: str, channel: str, exc: BaseException) -> SlackDeliveryError:
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        retry_after: float | None = None
        if exc.response is not None and exc.response.status_code == 429:
            header = (exc.response.headers or {}).get("Retry-After")
            try:
                retry_after = float(header) if header is not None else None
            except ValueError:
                retry_after = None
        return SlackDeliveryError(f"{method} to {channel}: {error or 'error'}", error=error, retry_after=retry_after)
    return SlackDeliveryError(f"{method} to {channel}: {type(exc).__name__}: {exc}")
