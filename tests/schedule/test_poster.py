"""Posting through the Slack stand-in: retries, pacing, and finding a post whose answer was lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from bot.errors import DeliveryError, LeaseLost
from bot.schedule.pacing import ChannelPacer
from bot.schedule.poster import EVENT_TYPE, HISTORY_TRUNCATED, OutcomeUnknown, Poster, SlackDeliveryError
from bot.schedule.slack_client import build_post_client
from tests.slack_standin import Call, Fault, SlackStandIn, posts_by_channel

T = TypeVar("T")
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
MESSAGE = {"text": "Digest", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Digest"}}]}


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # Let every other ready task run at the current time first, then jump to our wake-up time.
        self.slept.append(seconds)
        wake = self.now + seconds
        for _ in range(5):
            await asyncio.sleep(0)
        self.now = max(self.now, wake)


def make_poster(
    slack: SlackStandIn,
    *,
    timeout: float = 5.0,
    pacer: ChannelPacer | None = None,
    **kw: Any,
) -> Poster:
    client = build_post_client("xoxb-test", slack.api_url, timeout=timeout, backoff_factor=0.01, **kw)
    return Poster(client, pacer=pacer or ChannelPacer(0.0))


def gaps(calls: list[Call]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


def test_post_sends_text_blocks_and_delivery_metadata(slack: SlackStandIn) -> None:
    poster = make_poster(slack)
    ts = run(poster.post("C1", MESSAGE, metadata={"delivery_id": 7, "key": "digest:daily"}))
    [call] = slack.posts()
    assert call.token == "xoxb-test"
    payload = {"delivery_id": 7, "key": "digest:daily"}
    assert call.args["metadata"] == {"event_type": EVENT_TYPE, "event_payload": payload}
    assert slack.messages[("C1", ts)]["text"] == "Digest"
    assert slack.messages[("C1", ts)]["blocks"] == MESSAGE["blocks"]


@pytest.mark.parametrize("retry_after", [1, 1.0], ids=["integer", "decimal"])
def test_429_waits_at_least_retry_after(slack: SlackStandIn, retry_after: float) -> None:
    # slack_sdk's own handler would fail on "1.0" (int("1.0")); ours reads both.
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=retry_after))
    ts = run(make_poster(slack).post("C1", MESSAGE, metadata={"delivery_id": 1}))
    posts = slack.posts()
    assert len(posts) == 2 and len(slack.messages) == 1 and ts
    assert gaps(posts)[0] >= retry_after


def test_429_asking_for_too_long_is_left_to_the_deliverer(slack: SlackStandIn) -> None:
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=120))
    with pytest.raises(SlackDeliveryError) as info:
        run(make_poster(slack, max_retry_after=30).post("C1", MESSAGE, metadata={"delivery_id": 1}))
    assert (info.value.error, info.value.retry_after) == ("ratelimited", 120.0)
    assert len(slack.posts()) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_of_a_post_are_unknown_outcomes_not_retried(slack: SlackStandIn, status: int) -> None:
    # Before: retried blindly by the client (3 posts). A 5xx may come after Slack posted it.
    slack.add_fault(Fault("chat.postMessage", status=status, times=2))
    with pytest.raises(OutcomeUnknown, match="fatal_error"):
        run(make_poster(slack, max_retries=2).post("C1", MESSAGE, metadata={"delivery_id": 1}))
    assert len(slack.posts()) == 1


@pytest.mark.parametrize("error", ["fatal_error", "internal_error"])
def test_errors_slack_says_may_have_half_succeeded_are_unknown_outcomes(slack: SlackStandIn, error: str) -> None:
    slack.add_fault(Fault("chat.postMessage", status=200, body={"ok": False, "error": error}))
    with pytest.raises(OutcomeUnknown, match=error):
        run(make_poster(slack).post("C1", MESSAGE, metadata={"delivery_id": 1}))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_of_reads_are_retried_by_the_client(slack: SlackStandIn, status: int) -> None:
    slack.add_fault(Fault("conversations.history", status=status, times=2))
    assert run(make_poster(slack, max_retries=2).find_posted("C1", 1, since=LONG_AGO)) is None
    assert len(slack.calls_to("conversations.history")) == 3


def test_slack_errors_are_delivery_errors(slack: SlackStandIn) -> None:
    with pytest.raises(DeliveryError, match="channel_not_found"):
        run(make_poster(slack).post("", MESSAGE, metadata={"delivery_id": 1}))


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("chat.postMessage", status=200, delay=1.0, posted_first=True), id="slow-answer"),
        pytest.param(Fault("chat.postMessage", disconnect=True, posted_first=True), id="dropped-answer"),
    ],
)
def test_a_post_whose_answer_is_lost_is_an_unknown_outcome_not_resent(slack: SlackStandIn, fault: Fault) -> None:
    # Before: the poster slept `settle` while holding the lease, looked, and re-sent in the same call.
    # Now the deliverer records the unknown outcome and looks in the channel later, after settle.
    slack.add_fault(fault)
    with pytest.raises(OutcomeUnknown):
        run(make_poster(slack, timeout=0.2).post("C1", MESSAGE, metadata={"delivery_id": 1}))
    assert len(slack.posts()) == 1 and len(slack.messages) == 1
    assert slack.calls_to("conversations.history") == []


def test_a_post_refused_before_any_connection_is_a_plain_failure() -> None:
    with SlackStandIn() as gone:
        api_url = gone.api_url  # nothing listens there once it has stopped
    client = build_post_client("xoxb-test", api_url, timeout=0.5, max_retries=0)
    with pytest.raises(SlackDeliveryError) as info:
        run(Poster(client, pacer=ChannelPacer(0.0)).post("C1", MESSAGE, metadata={"delivery_id": 1}))
    assert not isinstance(info.value, OutcomeUnknown)


def test_every_send_goes_through_the_fence_and_a_failed_fence_sends_nothing(slack: SlackStandIn) -> None:
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=0, times=2))
    checks: list[int] = []

    async def fence() -> bool:
        checks.append(len(slack.posts()))
        return len(checks) < 3

    with pytest.raises(LeaseLost):
        run(make_poster(slack).post("C1", MESSAGE, metadata={"delivery_id": 1}, before_send=fence))
    # Two sends answered 429, each after its fence; the third fence failed, so no third send.
    assert checks == [0, 1, 2] and len(slack.posts()) == 2 and slack.messages == {}


def test_a_send_long_after_its_fence_is_not_made(slack: SlackStandIn) -> None:
    ticks = iter([0.0, 10.0])
    poster = make_poster(slack)
    poster.monotonic = lambda: next(ticks)  # the process "froze" for 10 s between the fence and the send

    async def fence() -> bool:
        return True

    with pytest.raises(LeaseLost, match="too long"):
        run(poster.post("C1", MESSAGE, metadata={"delivery_id": 1}, before_send=fence))
    assert slack.posts() == []


def test_timeouts_of_reads_are_retried_by_the_client(slack: SlackStandIn) -> None:
    slack.add_fault(Fault("conversations.history", status=200, delay=0.5))
    assert run(make_poster(slack, timeout=0.2).find_posted("C1", 1, since=LONG_AGO)) is None
    assert len(slack.calls_to("conversations.history")) == 2


def test_find_posted_finds_the_message_by_its_delivery_id(slack: SlackStandIn) -> None:
    poster = make_poster(slack)

    async def scenario() -> tuple[str | None, ...]:
        await poster.client.chat_postMessage(channel="C1", text="someone else", token="xoxp-someone")
        first = await poster.post("C1", MESSAGE, metadata={"delivery_id": 41})
        second = await poster.post("C1", MESSAGE, metadata={"delivery_id": 42})
        await poster.post("C2", MESSAGE, metadata={"delivery_id": 43})
        found = await poster.find_posted("C1", 42, since=LONG_AGO)
        assert found == second != first
        return (
            await poster.find_posted("C1", "41", since=LONG_AGO),
            await poster.find_posted("C1", 43, since=LONG_AGO),  # other channel
            await poster.find_posted("C1", 99, since=LONG_AGO),
            await poster.find_posted("C1", 42, since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)),
        )

    first, other_channel, missing, too_recent = run(scenario())
    assert first is not None and other_channel is missing is too_recent is None
    [call] = slack.calls_to("conversations.history")[:1]
    assert call.args["channel"] == "C1" and call.args["include_all_metadata"] in {"1", "true"}


class PagedClient:
    """Only conversations.history, in pages, to check that find_posted follows the cursor."""

    def __init__(self, pages: list[list[dict[str, Any]]]):
        self.pages = pages
        self.cursors: list[str | None] = []

    async def conversations_history(self, *, cursor: str | None = None, **_: Any) -> dict[str, Any]:
        self.cursors.append(cursor)
        i = int(cursor or 0)
        more = i + 1 < len(self.pages)
        return {
            "ok": True,
            "messages": self.pages[i],
            "has_more": more,
            "response_metadata": {"next_cursor": str(i + 1) if more else ""},
        }


def _message(ts: str, delivery_id: int | None) -> dict[str, Any]:
    if delivery_id is None:
        return {"ts": ts}
    return {"ts": ts, "metadata": {"event_type": EVENT_TYPE, "event_payload": {"delivery_id": delivery_id}}}


def test_find_posted_follows_pages_and_stops_at_its_bound() -> None:
    pages = [[_message("3.0", None), _message("2.0", 1)], [_message("1.0", 2)], [_message("0.5", 3)]]
    client = PagedClient(pages)
    assert run(Poster(client, pacer=ChannelPacer(0.0)).find_posted("C1", 3, since=LONG_AGO)) == "0.5"  # type: ignore[arg-type]
    assert client.cursors == [None, "1", "2"]
    bounded = Poster(PagedClient(pages), pacer=ChannelPacer(0.0), history_pages=2)  # type: ignore[arg-type]
    # Before: None ("not posted"), though the last page was never read. Unread is not absent.
    with pytest.raises(SlackDeliveryError) as info:
        run(bounded.find_posted("C1", 3, since=LONG_AGO))
    assert info.value.error == HISTORY_TRUNCATED


def test_update_edits_the_message(slack: SlackStandIn) -> None:
    poster = make_poster(slack)

    async def scenario() -> str:
        ts = await poster.post("C1", MESSAGE, metadata={"delivery_id": 1})
        await poster.update("C1", ts, {"text": "Done", "blocks": []})
        return ts

    ts = run(scenario())
    assert slack.messages[("C1", ts)]["text"] == "Done"
    with pytest.raises(DeliveryError, match="message_not_found"):
        run(poster.update("C1", "9.999999", {"text": "x"}))


# ---- pacing ------------------------------------------------------------------------------------


def test_pacer_spaces_one_channel_and_lets_others_through() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(1.0, clock=clock, sleep=clock.sleep)
    starts: dict[str, list[float]] = {"C1": [], "C2": []}

    async def use(channel: str) -> None:
        async with pacer.slot(channel):
            starts[channel].append(clock())

    async def scenario() -> None:
        await asyncio.gather(*(use(c) for c in ["C1", "C1", "C2", "C1", "C2"]))

    run(scenario())
    assert starts["C1"][0] == starts["C2"][0] == 0.0  # channels do not wait for each other
    for times in starts.values():
        assert all(gap >= 1.0 for gap in (b - a for a, b in itertools.pairwise(times)))
    assert len(starts["C1"]) == 3 and len(starts["C2"]) == 2


def test_posts_to_one_channel_go_out_at_most_once_a_second(slack: SlackStandIn) -> None:
    clock = FakeClock()
    poster = make_poster(slack, pacer=ChannelPacer(1.0, clock=clock, sleep=clock.sleep))
    sent_at: dict[str, list[float]] = defaultdict(list)
    api_call = poster.client.api_call

    async def recording(method: str, **kwargs: Any) -> Any:
        channel = json.loads(kwargs["data"]._value)["channel"]
        sent_at[channel].append(clock())  # the fake time at which the request leaves
        return await api_call(method, **kwargs)

    poster.client.api_call = recording  # type: ignore[method-assign]
    channels = ["C1", "C2", "C1", "C3", "C1", "C2"]

    async def scenario() -> None:
        posts = (poster.post(c, MESSAGE, metadata={"delivery_id": i}) for i, c in enumerate(channels))
        await asyncio.gather(*posts)

    run(scenario())
    assert sent_at == {"C1": [0.0, 1.0, 2.0], "C2": [0.0, 1.0], "C3": [0.0]}
    for calls in posts_by_channel(slack.posts()).values():
        # Posts to a channel keep the order they were started in.
        ids = [c.args["metadata"]["event_payload"]["delivery_id"] for c in calls]
        assert ids == sorted(ids)


def test_in_flight_posts_are_bounded() -> None:
    pacer = ChannelPacer(0.0, max_in_flight=2)
    live = 0
    peak = 0

    async def use(channel: str) -> None:
        nonlocal live, peak
        async with pacer.slot(channel):
            live += 1
            peak = max(peak, live)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            live -= 1

    async def scenario() -> None:
        await asyncio.gather(*(use(f"C{i}") for i in range(6)))

    run(scenario())
    assert peak == 2


def test_a_fence_gone_stale_while_the_connection_was_made_aborts_the_request(slack: SlackStandIn) -> None:
    # The process froze after its fence, before the request left (connecting, say): it is checked again
    # as the body is about to be written, and Slack never receives a whole request.
    ticks = iter([0.0, 1.0, 10.0])
    poster = make_poster(slack)
    poster.monotonic = lambda: next(ticks, 10.0)

    async def fence() -> bool:
        return True

    with pytest.raises(LeaseLost, match="too long"):
        run(poster.post("C1", MESSAGE, metadata={"delivery_id": 1}, before_send=fence))
    assert slack.posts() == [] and slack.messages == {}
