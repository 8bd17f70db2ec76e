"""The Slack Web API client for scheduled posts: bounded retries of 429s, 5xx and connection errors."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from aiohttp import (
    ClientConnectorError,
    ClientOSError,
    ServerConnectionError,
    ServerDisconnectedError,
)
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


def _retry_after(response: HttpResponse) -> float | None:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                return None
    return None


POST_METHOD = "chat.postMessage"


def _is_post(request: HttpRequest) -> bool:
    return request.url.endswith(POST_METHOD)


class RateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retry a 429 after Slack's Retry-After; give up (and let the caller retry later) past `max_wait`.

    slack_sdk's own handler reads the header with int(), which fails on "1.0", and sleeps whatever
    Slack asks, which could outlive the delivery's lease. chat.postMessage is never retried here:
    Poster.post retries it itself, through its pacer and after checking again that the post is still
    its own to send (the delivery's fence), which a retry inside the client could not do.
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
        # Waits instead of asyncio.sleep before a retry (of a method other than chat.postMessage).
        self.on_rate_limited = on_rate_limited

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429 or _is_post(request):
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
        if self.on_rate_limited is not None:
            await self.on_rate_limited(delay)
        else:
            await asyncio.sleep(delay)
        state.increment_current_attempt()


class ServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """Retry 500, 502, 503 and 504 (slack_sdk's handler: 500 and 503 only), except for chat.postMessage.

    Slack documents that a 5xx may come after part of the work was done: a chat.postMessage answered
    5xx may have been posted, so it is an unknown outcome for the deliverer, never a blind retry.
    """

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in {500, 502, 503, 504} and not _is_post(request)


class ProportionalJitter(Jitter):
    """Up to +100% of the interval; slack_sdk's RandomJitter adds up to a whole second to every wait."""

    def recalculate(self, duration: float) -> float:
        return duration + random.uniform(0, duration)


def _maybe_delivered(error: BaseException) -> bool:
    """True when the request may have reached Slack before it failed (a blind retry could double it).

    Only a failure to connect proves it did not: any other (a timeout, a dropped connection, an answer
    cut short or unreadable) may come after Slack did the work.
    """
    return not isinstance(error, ClientConnectorError)


class ConnectionRetryHandler(AsyncConnectionErrorRetryHandler):
    """Connection errors and timeouts, except where a chat.postMessage may already have been posted.

    slack_sdk's handler does not list TimeoutError (what aiohttp raises when the request's timeout
    runs out). A chat.postMessage that timed out may have been posted: Poster.post looks in the
    channel for it before posting again, so it is not retried here.
    """

    def __init__(self, max_retry_count: int = 2, *, interval_calculator: RetryIntervalCalculator | None = None):
        super().__init__(
            max_retry_count=max_retry_count,
            interval_calculator=interval_calculator or BackoffRetryIntervalCalculator(jitter=ProportionalJitter()),
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
        if error is not None and _maybe_delivered(error) and _is_post(request):
            return False
        return bool(await super()._can_retry_async(state=state, request=request, response=response, error=error))


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
