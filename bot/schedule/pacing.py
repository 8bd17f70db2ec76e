"""Pacing of Slack calls: an interval per channel, a cap on calls in flight, a workspace-wide token bucket."""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

logger = logging.getLogger(__name__)

# Accepted posts kept to measure the rate Slack accepts (a second of them, at any realistic rate).
_ACCEPTED_KEPT = 2048


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
