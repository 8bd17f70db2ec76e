"""Posting to Slack for the scheduler: bounded retries, 1 post/s per channel, and finding lost posts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import (
    ClientConnectorError,
    ClientError,
    ClientOSError,
    ServerConnectionError,
    ServerDisconnectedError,
)
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DeliveryError

logger = logging.getLogger(__name__)

EVENT_TYPE = "g7bot_delivery"
_HISTORY_PAGE = 200


class SlackDeliveryError(DeliveryError):
    """A DeliveryError with Slack's error code and, when rate limited, how long Slack asked us to wait."""

    def __init__(self, message: str, *, error: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.error = error
        self.retry_after = retry_after


# ---- the client ---------------------------------------------------------------------------------


def _retry_after(response: HttpResponse) -> float | None:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                return None
    return None


class RateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retry a 429 after Slack's Retry-After; give up (and let the deliverer retry later) past `max_wait`.

    slack_sdk's own handler reads the header with int(), which fails on "1.0", and sleeps whatever
    Slack asks, which could outlive the delivery's lease.
    """

    def __init__(self, max_retry_count: int = 2, *, max_wait: float = 30.0, jitter: float = 0.25):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.jitter = jitter

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response)
        return wait is None or wait <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = _retry_after(response) if response is not None else None
        await asyncio.sleep((1.0 if wait is None else wait) + random.uniform(0, self.jitter))
        state.increment_current_attempt()


class ServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503 only; gateways answer 502 and 504 as well."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in {500, 502, 503, 504}


class ProportionalJitter(Jitter):
    """Up to +100% of the interval; slack_sdk's RandomJitter adds up to a whole second to every wait."""

    def recalculate(self, duration: float) -> float:
        return duration + random.uniform(0, duration)


def _maybe_delivered(error: BaseException) -> bool:
    """True when the request may have reached Slack before it failed (a blind retry could double it)."""
    if isinstance(error, ClientConnectorError):
        return False  # no connection was made
    return isinstance(error, TimeoutError | ServerDisconnectedError | ClientOSError)


class ConnectionRetryHandler(AsyncConnectionErrorRetryHandler):
    """Connection errors and timeouts, except where a chat.postMessage may already have been posted.

    slack_sdk's handler does not list TimeoutError (what aiohttp raises when the request's timeout
    runs out). A chat.postMessage that timed out may have been posted: Poster.post looks in the
    channel for it before posting again, so it is not retried here.
    """

    def __init__(
        self, max_retry_count: int = 2, *, interval_calculator: RetryIntervalCalculator | None = None
    ):
        super().__init__(
            max_retry_count=max_retry_count,
            interval_calculator=interval_calculator
            or BackoffRetryIntervalCalculator(jitter=ProportionalJitter()),
            error_types=[ServerConnectionError, ServerDisconnectedError, ClientOSError, TimeoutError],
        )

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None and _maybe_delivered(error) and request.url.endswith("chat.postMessage"):
            return False
        return bool(
            await super()._can_retry_async(state=state, request=request, response=response, error=error)
        )


def build_post_client(
    token: str,
    base_url: str,
    *,
    timeout: float = 10.0,
    max_retries: int = 2,
    backoff_factor: float = 0.5,
    max_retry_after: float = 30.0,
) -> AsyncWebClient:
    """An AsyncWebClient for scheduled posts: bounded retries with exponential backoff and a timeout.

    slack_sdk keeps one attempt counter per request for all handlers, so `max_retries` bounds the
    retries of a call whatever mix of 429s, 5xx and connection errors it meets.
    """
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor, jitter=ProportionalJitter())
    handlers: list[AsyncRetryHandler] = [
        RateLimitRetryHandler(max_retries, max_wait=max_retry_after),
        ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
        ConnectionRetryHandler(max_retries, interval_calculator=interval),
    ]
    # slack_sdk annotates timeout as int; aiohttp's ClientTimeout takes seconds as a float.
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]
        retry_handlers=handlers,
    )


# ---- pacing ------------------------------------------------------------------------------------


class ChannelPacer:
    """At most one call per `interval` seconds in each channel, and `max_in_flight` calls overall.

    Calls to one channel wait in order (asyncio.Lock is fair), so posts keep the order they were
    started in; different channels go in parallel.
    """

    def __init__(
        self,
        interval: float = 1.0,
        *,
        max_in_flight: int = 16,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.semaphore = asyncio.Semaphore(max_in_flight)
        self._locks: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self._next.get(channel, float("-inf")) - self.clock()
            if wait > 0:
                await self.sleep(wait)
            async with self.semaphore:
                self._next[channel] = self.clock() + self.interval
                yield


# ---- the poster --------------------------------------------------------------------------------


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
        # After a post timed out: how long to let Slack finish it before looking for it.
        self.settle = settle
        self.history_pages = history_pages
        self.wall_clock = wall_clock

    @property
    def semaphore(self) -> asyncio.Semaphore:
        return self.pacer.semaphore

    async def post(self, channel: str, message: Mapping[str, Any], *, metadata: Mapping[str, Any]) -> str:
        """Post `message` (text, blocks, ...) with `metadata` as the event payload; returns its ts."""
        payload = {"event_type": EVENT_TYPE, "event_payload": dict(metadata)}
        delivery_id = metadata.get("delivery_id")
        started = self.wall_clock()
        async with self.pacer.slot(channel):
            try:
                return await self._post_once(channel, message, payload)
            except (TimeoutError, ClientError) as exc:
                if not _maybe_delivered(exc) or delivery_id is None:
                    raise _delivery_error("chat.postMessage", channel, exc) from exc
                first = exc
            # The answer was lost, not necessarily the post: look before posting again.
            logger.warning(
                "chat.postMessage to %s: %s; checking whether it was posted", channel, type(first).__name__
            )
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
            raise _delivery_error("chat.postMessage", channel, exc) from exc
        except SlackClientError as exc:
            raise DeliveryError(f"chat.postMessage to {channel}: {exc}") from exc
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
        return SlackDeliveryError(
            f"{method} to {channel}: {error or 'error'}", error=error, retry_after=retry_after
        )
    return SlackDeliveryError(f"{method} to {channel}: {type(exc).__name__}: {exc}")
