"""Workspace-wide pacing of posts: a token bucket that slows down on 429s and recovers (issue 3)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from bot.schedule.pacing import ChannelPacer, WorkspacePacing
from bot.schedule.poster import Poster, SlackDeliveryError
from bot.schedule.slack_client import RateLimitRetryHandler, build_post_client
from tests.slack_standin import Fault, RateLimit, SlackStandIn

T = TypeVar("T")
MESSAGE = {"text": "Digest"}


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        for _ in range(5):
            await asyncio.sleep(0)
        self.now = max(self.now, wake)


def take_times(bucket: WorkspacePacing, clock: FakeClock, n: int) -> list[float]:
    times: list[float] = []

    async def scenario() -> None:
        for _ in range(n):
            await bucket.take()
            times.append(clock())

    run(scenario())
    return times


def test_a_burst_then_one_token_per_interval() -> None:
    clock = FakeClock()
    bucket = WorkspacePacing(10.0, burst=3, clock=clock, sleep=clock.sleep)
    times = take_times(bucket, clock, 6)
    assert times[:3] == [0.0, 0.0, 0.0]
    assert [round(b - a, 9) for a, b in itertools.pairwise(times[2:])] == [0.1, 0.1, 0.1]


def test_the_bucket_refills_while_idle_but_not_beyond_its_burst() -> None:
    clock = FakeClock()
    bucket = WorkspacePacing(10.0, burst=2, clock=clock, sleep=clock.sleep)
    take_times(bucket, clock, 2)
    clock.now += 60.0
    times = take_times(bucket, clock, 3)
    assert times[0] == times[1] == 60.0 and times[2] == pytest.approx(60.1)


def test_concurrent_takers_are_served_in_order_at_the_rate() -> None:
    clock = FakeClock()
    bucket = WorkspacePacing(5.0, burst=1, clock=clock, sleep=clock.sleep)
    served: list[tuple[int, float]] = []

    async def taker(i: int) -> None:
        await bucket.take()
        served.append((i, clock()))

    async def scenario() -> None:
        await asyncio.gather(*(taker(i) for i in range(5)))

    run(scenario())
    assert [i for i, _ in served] == list(range(5))
    assert [t for _, t in served] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])


def test_a_429_slows_down_once_per_cluster_and_the_rate_recovers() -> None:
    clock = FakeClock()
    bucket = WorkspacePacing(100.0, burst=10, clock=clock, sleep=clock.sleep, slowdown=0.8, recovery=1.1)
    bucket.rate_limited()
    assert bucket.rate == pytest.approx(80.0) and bucket.slowdowns == 1
    clock.now += 0.1
    bucket.rate_limited()  # the same cluster of 429s
    assert bucket.slowdowns == 1
    clock.now += 1.0
    assert bucket.rate == pytest.approx(80.0 * 1.1**1.1)
    clock.now += 60.0
    assert bucket.rate == 100.0  # never above the configured rate
    clock.now += 1.0
    bucket.rate_limited()
    assert bucket.rate == pytest.approx(80.0) and bucket.slowdowns == 2


def test_a_429_drops_the_tokens_left() -> None:
    clock = FakeClock()
    bucket = WorkspacePacing(10.0, burst=5, clock=clock, sleep=clock.sleep, slowdown=1.0)
    bucket.rate_limited()
    # No burst left: Slack's bucket is empty, so the next post waits a whole interval.
    assert take_times(bucket, clock, 1) == [pytest.approx(0.1)]


def test_a_429_slows_down_to_what_slack_accepted_but_at_most_by_half() -> None:
    clock = FakeClock()
    bucket = WorkspacePacing(300.0, burst=1, clock=clock, sleep=clock.sleep, slowdown=0.8, cooldown=0.5)
    for _ in range(100):  # Slack accepted 100 posts over the last second
        bucket.posted()
        clock.now += 0.01
    bucket.rate_limited()
    assert bucket.rate == pytest.approx(150.0, rel=0.02)  # half of 300, not the measured 100 at once
    for _ in range(50):
        bucket.posted()
        clock.now += 0.01
    bucket.rate_limited()
    assert bucket.rate == pytest.approx(100.0, rel=0.05)


def test_without_recent_posts_a_429_slows_down_by_the_factor() -> None:
    clock = FakeClock()
    bucket = WorkspacePacing(50.0, clock=clock, sleep=clock.sleep, slowdown=0.5, min_rate=30.0)
    bucket.rate_limited()
    assert bucket.rate == 30.0  # never below min_rate


@pytest.mark.parametrize("kwargs", [{"rate": 0.0}, {"rate": 1.0, "burst": 0}, {"rate": 1.0, "slowdown": 0.0}])
def test_nonsense_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WorkspacePacing(**kwargs)


def test_the_channel_pacer_spaces_posts_to_different_channels_at_the_workspace_rate() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(1.0, workspace_rate=4.0, workspace_burst=2, clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def use(channel: str) -> None:
        async with pacer.slot(channel):
            starts.append(clock())

    async def scenario() -> None:
        await asyncio.gather(*(use(f"C{i}") for i in range(5)))

    run(scenario())
    assert starts == pytest.approx([0.0, 0.0, 0.25, 0.5, 0.75])


def test_without_a_workspace_rate_there_is_no_workspace_pacing() -> None:
    pacer = ChannelPacer(0.0)
    assert pacer.workspace is None
    pacer.posted()
    pacer.note_rate_limited()  # nothing to slow down


# ---- through the poster and the stand-in ---------------------------------------------------------------


def make_poster(slack: SlackStandIn, pacer: ChannelPacer, **kw: Any) -> Poster:
    client = build_post_client("xoxb-test", slack.api_url, timeout=5, backoff_factor=0.01, **kw)
    return Poster(client, pacer=pacer)


def test_the_poster_retries_rate_limited_posts_itself_through_its_pacer(slack: SlackStandIn) -> None:
    # The client never retries chat.postMessage (it could not go back through the delivery's fence).
    pacer = ChannelPacer(0.0, workspace_rate=50.0, workspace_burst=5)
    poster = make_poster(slack, pacer)
    [handler] = [h for h in poster.client.retry_handlers if isinstance(h, RateLimitRetryHandler)]
    assert handler.on_rate_limited is None
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=0))
    assert run(poster.post("C1", MESSAGE, metadata={"delivery_id": 1}))
    assert len(slack.posts()) == 2 and len(slack.messages) == 1
    assert pacer.workspace is not None and pacer.workspace.slowdowns == 1


def test_a_429_left_to_the_deliverer_still_slows_the_pacing(slack: SlackStandIn) -> None:
    pacer = ChannelPacer(0.0, workspace_rate=50.0)
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=120))
    with pytest.raises(SlackDeliveryError):
        run(make_poster(slack, pacer, max_retry_after=30).post("C1", MESSAGE, metadata={"delivery_id": 1}))
    assert pacer.workspace is not None and pacer.workspace.slowdowns == 1


def test_a_429_of_another_method_does_not_touch_the_pacing(slack: SlackStandIn) -> None:
    pacer = ChannelPacer(0.0, workspace_rate=50.0)
    poster = make_poster(slack, pacer)
    ts = run(poster.post("C1", MESSAGE, metadata={"delivery_id": 1}))
    slack.add_fault(Fault("chat.update", status=429, retry_after=0))
    run(poster.update("C1", ts, {"text": "Done"}))
    assert len(slack.calls_to("chat.update")) == 2
    assert pacer.workspace is not None and pacer.workspace.slowdowns == 0


def fan_out(slack: SlackStandIn, pacer: ChannelPacer, channels: int) -> int:
    """Post to `channels` channels at once; the number of posts that failed (retries exhausted)."""
    poster = make_poster(slack, pacer)

    async def scenario() -> list[object]:
        posts = (poster.post(f"C{i}", MESSAGE, metadata={"delivery_id": i}) for i in range(channels))
        return await asyncio.gather(*posts, return_exceptions=True)

    return sum(isinstance(r, SlackDeliveryError) for r in run(scenario()))


def test_a_fan_out_paced_below_slacks_workspace_limit_meets_no_429() -> None:
    limit = RateLimit(per_channel_per_sec=1.0, channel_burst=3, workspace_per_sec=50.0, workspace_burst=10)
    with SlackStandIn(rate_limit=limit) as slack:
        # Paced a little below the limit, with half its burst: room for timing jitter on a busy machine.
        assert fan_out(slack, ChannelPacer(1.0, workspace_rate=40.0, workspace_burst=5), 40) == 0
        assert slack.rate_limited == 0
        assert len(slack.messages) == 40
    with SlackStandIn(rate_limit=limit) as slack:
        # The same fan-out without workspace pacing runs into the limit (some posts may even give up).
        fan_out(slack, ChannelPacer(1.0), 40)
        assert slack.rate_limited > 0
