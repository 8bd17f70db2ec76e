"""Posting to Slack for the scheduler: bounded retries, 1 post/s per channel, and finding lost posts."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import math
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

from bot.errors import DeliveryError, LeaseLost

logger = logging.getLogger(__name__)

EVENT_TYPE = "g7bot_delivery"
_HISTORY_PAGE = 200
# Accepted posts kept to measure the rate Slack accepts (a second of them, at any realistic rate).
_ACCEPTED_KEPT = 2048


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

    def __init__(
        self,
        max_retry_count: int = 2,
        *,
        max_wait: float = 30.0,
        jitter: float = 0.25,
        on_rate_limited: Callable[[float], Awaitable[object]] | None = None,
    ):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.jitter = jitter
        # Waits (instead of asyncio.sleep) before a rate-limited chat.postMessage is sent again; Poster sets
        # it to its pacer's rate_limited, so the retry slows the workspace pacing and waits its turn in it.
        self.on_rate_limited = on_rate_limited

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
        delay = (1.0 if wait is None else wait) + random.uniform(0, self.jitter)
        if self.on_rate_limited is not None and request.url.endswith("chat.postMessage"):
            await self.on_rate_limited(delay)
        else:
            await asyncio.sleep(delay)
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


class WorkspacePacing:
    """One token bucket for every post in the workspace: `rate` a second, after a burst of `burst`.

    Slack limits chat.postMessage workspace-wide as well as per channel. Without this, a fan-out to many
    channels sends as fast as `max_in_flight` allows, meets 429s with a Retry-After of a whole second or
    more, and each of them stalls a post (and its in-flight slot) for that second.

    A 429 despite the pacing means Slack's limit is below the rate (or its bucket is emptier than ours).
    The rate then drops at least by `slowdown`, and down to what Slack accepted over the last `window`
    seconds if that is lower, but never below half of it at once (a quiet window says little). It drops
    at most once per `cooldown` seconds, as 429s come in clusters; our tokens are dropped too. Without
    429s it climbs back by `recovery` a second, up to `rate`.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        slowdown: float = 0.8,
        recovery: float = 1.1,
        cooldown: float = 0.5,
        window: float = 1.0,
        min_rate: float = 1.0,
    ):
        if rate <= 0 or burst < 1 or not 0 < slowdown <= 1 or recovery < 1:
            raise ValueError("expected rate > 0, burst >= 1, 0 < slowdown <= 1 and recovery >= 1")
        self.limit = rate
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self.slowdown = slowdown
        self.recovery = recovery
        self.cooldown = cooldown
        self.window = window
        self.min_rate = min(min_rate, rate)
        self.slowdowns = 0
        self._tokens = float(burst)
        self._at = clock()
        self._lowered: float | None = None
        self._lowered_at = float("-inf")
        self._accepted: collections.deque[float] = collections.deque(maxlen=_ACCEPTED_KEPT)
        self._lock = asyncio.Lock()

    @property
    def rate(self) -> float:
        """The rate now: `rate` as configured, or what the last slow-down left, grown by `recovery` since."""
        if self._lowered is None:
            return self.limit
        elapsed = max(0.0, self.clock() - self._lowered_at)
        rate = self._lowered * math.pow(self.recovery, elapsed)
        if rate >= self.limit:
            self._lowered = None
            return self.limit
        return rate

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + max(0.0, now - self._at) * self.rate)
        self._at = now

    async def take(self) -> None:
        """Wait for a token; callers get them in the order they asked (asyncio.Lock is fair)."""
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                await self.sleep((1 - self._tokens) / self.rate)
                self._refill()
            # Slightly below 1 after a sleep (rounding, or a slow-down meanwhile): the debt delays the next.
            self._tokens -= 1

    def posted(self) -> None:
        """Slack accepted a post."""
        self._accepted.append(self.clock())

    def accepted_rate(self) -> float | None:
        """Posts a second that Slack accepted over the last `window` seconds (None: too few to tell)."""
        now = self.clock()
        recent = [t for t in self._accepted if t > now - self.window]
        if len(recent) < 2 or now <= recent[0]:
            return None
        return len(recent) / (now - recent[0])

    def rate_limited(self) -> None:
        """Slack answered a post 429: slow down, unless this 429 belongs to a cluster already counted."""
        now = self.clock()
        if now - self._lowered_at < self.cooldown:
            return
        self._refill()
        current = self.rate
        lowered = current * self.slowdown
        accepted = self.accepted_rate()
        if accepted is not None:
            lowered = min(lowered, max(accepted, current / 2))
        self._lowered = max(self.min_rate, lowered)
        self._lowered_at = now
        self._tokens = min(self._tokens, 0.0)
        self.slowdowns += 1
        logger.info("chat.postMessage rate limited: workspace pacing slowed to %.1f/s", self._lowered)


class ChannelPacer:
    """At most one call per `interval` seconds in each channel, and `max_in_flight` calls overall.

    Calls to one channel wait in order (asyncio.Lock is fair), so posts keep the order they were
    started in; different channels go in parallel. With `workspace_rate`, every call also takes a token
    of one WorkspacePacing bucket (`workspace_rate` a second, bursts of `workspace_burst`).
    """

    def __init__(
        self,
        interval: float = 1.0,
        *,
        max_in_flight: int = 16,
        workspace_rate: float | None = None,
        workspace_burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.semaphore = asyncio.Semaphore(max_in_flight)
        self.workspace = (
            WorkspacePacing(workspace_rate, workspace_burst, clock=clock, sleep=sleep)
            if workspace_rate is not None
            else None
        )
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
                if self.workspace is not None:
                    await self.workspace.take()
                self._next[channel] = self.clock() + self.interval
                yield

    def posted(self) -> None:
        """Slack accepted a post (the workspace pacing measures the rate it accepts)."""
        if self.workspace is not None:
            self.workspace.posted()

    def note_rate_limited(self) -> None:
        """A post was answered 429 (and will not be retried by the client): slow the workspace pacing."""
        if self.workspace is not None:
            self.workspace.rate_limited()

    async def rate_limited(self, wait: float) -> None:
        """A post inside a slot was answered 429: slow down, wait `wait`, then take a workspace token again."""
        self.note_rate_limited()
        await self.sleep(wait)
        if self.workspace is not None:
            await self.workspace.take()


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
        return SlackDeliveryError(
            f"{method} to {channel}: {error or 'error'}", error=error, retry_after=retry_after
        )
    return SlackDeliveryError(f"{method} to {channel}: {type(exc).__name__}: {exc}")
