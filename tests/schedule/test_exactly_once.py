"""Exactly once whatever Slack does: slow answers, lost answers, 429s, a rate-limited history, permanent refusals."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from bot.schedule.deliverer import PERMANENT_ERRORS, Deliverer, TickReport
from bot.schedule.occurrence import Occurrence
from bot.schedule.pacing import ChannelPacer
from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.schedule.store import Store
from tests.schedule.test_deliverer import NOW, GatedPoster, Plan, Schedule, occ, plan, render
from tests.slack_standin import Fault, SlackStandIn

LEASE = dt.timedelta(seconds=20)
SETTLE = dt.timedelta(seconds=30)
# Far shorter than the stand-in's slow answers: every slow post times out in the client.
CLIENT_TIMEOUT = 0.3
SLOW = 1.0


def seconds(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def make_poster(
    slack: SlackStandIn, *, pacer: ChannelPacer | None = None, timeout: float = CLIENT_TIMEOUT, **kw: Any
) -> Poster:
    client = build_post_client("xoxb-test", slack.api_url, timeout=timeout, max_retries=2, backoff_factor=0.01)
    return Poster(client, pacer=pacer or ChannelPacer(0.0), **kw)


def make(
    store: Store,
    slack: SlackStandIn,
    items: Sequence[Occurrence],
    *,
    owner: str = "a",
    poster: Poster | None = None,
    **kw: Any,
) -> Deliverer:
    options: dict[str, Any] = {"lease": LEASE, "settle": SETTLE, "render": render, **kw}
    return Deliverer(
        store, poster or make_poster(slack), owner=owner, occurrences=Schedule(list(items)), plan=plan, **options
    )


class Ticks:
    """Ticks a deliverer at given times, with its clock at the tick's time (as serve's would be)."""

    def __init__(self, deliverer: Deliverer):
        self.deliverer = deliverer
        self.now = NOW
        deliverer.clock = lambda: self.now

    def __call__(self, at: dt.datetime) -> TickReport:
        self.now = at
        return asyncio.run(self.deliverer.tick(at))


def posts_per_delivery(slack: SlackStandIn) -> Counter[int]:
    return Counter(int(c.args["metadata"]["event_payload"]["delivery_id"]) for c in slack.posts())


def messages_per_delivery(slack: SlackStandIn) -> Counter[int]:
    with slack._lock:
        found = list(slack.messages.values())
    return Counter(int(m["metadata"]["event_payload"]["delivery_id"]) for m in found)


def assert_exactly_once(slack: SlackStandIn, store: Store, n: int) -> None:
    in_slack = messages_per_delivery(slack)
    assert len(in_slack) == n and set(in_slack.values()) == {1}, in_slack
    rows = store.deliveries()
    assert {r.status for r in rows} == {"sent"}, [(r.key, r.status, r.last_error) for r in rows]
    for row in rows:
        assert (row.channel, row.message_ts) in slack.messages


def fan_out(n: int) -> list[Occurrence]:
    return [occ(f"digest:d{i:02d}", channel=f"C{i:02d}") for i in range(n)]


# ---- slow and lost answers ---------------------------------------------------------------------------


def test_posts_answered_after_the_client_timeout_are_found_not_posted_again(store: Store, slack: SlackStandIn) -> None:
    # The fault from the issue: Slack posts, then answers after the client gave up (before: 20 of 200 twice).
    slack.add_fault(Fault("chat.postMessage", status=200, delay=SLOW, posted_first=True, times=4))
    items = fan_out(10)
    ticks = Ticks(make(store, slack, items))
    first = ticks(NOW)
    assert (first.posted, first.unknown) == (6, 4)
    assert len(slack.posts()) == 10
    # Nobody, this instance included, looks or re-sends before the settle delay has passed.
    assert ticks(NOW + SETTLE - seconds(1)) == TickReport()
    assert ticks(NOW + SETTLE + seconds(1)) == TickReport(recovered=4)
    assert len(slack.posts()) == 10 and len(slack.calls_to("conversations.history")) == 4
    assert_exactly_once(slack, store, 10)
    assert ticks(NOW + SETTLE * 10) == TickReport()


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("chat.postMessage", status=503, delay=SLOW, times=3), id="slow-503-not-posted"),
        pytest.param(Fault("chat.postMessage", disconnect=True, times=3), id="dropped-not-posted"),
        pytest.param(Fault("chat.postMessage", status=500, times=3), id="500-not-posted"),
        pytest.param(Fault("chat.postMessage", status=500, posted_first=True, times=3), id="500-but-posted"),
        pytest.param(
            Fault(
                "chat.postMessage",
                status=200,
                body={"ok": False, "error": "internal_error"},
                posted_first=True,
                times=3,
            ),
            id="internal-error-but-posted",
        ),
    ],
)
def test_every_unknown_outcome_ends_in_exactly_one_post(store: Store, slack: SlackStandIn, fault: Fault) -> None:
    fault = dataclasses.replace(fault)  # the parameter is shared by the sqlite and postgres runs
    slack.add_fault(fault)
    items = fan_out(6)
    ticks = Ticks(make(store, slack, items))
    assert ticks(NOW).unknown == 3
    later = ticks(NOW + SETTLE + seconds(1))
    assert later.posted + later.recovered == 3
    assert_exactly_once(slack, store, 6)
    # What was posted: once each, whether the first try landed (then found) or not (then sent again).
    posts = posts_per_delivery(slack)
    assert sum(posts.values()) == 6 + (0 if fault.posted_first else 3)


# ---- 429s --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [15, 25], ids=["wait-shorter-than-settle", "wait-longer-than-settle"])
def test_a_holder_waiting_out_a_retry_after_longer_than_its_lease_is_not_doubled(
    store_url: str, slack: SlackStandIn, retry_after: float
) -> None:
    # The fault from the issue: Retry-After 15 and a lease shorter than it (before: 8-9 of 60-200 twice).
    # a waits out the Retry-After inside its claim; b ticks during that wait, with a's lease expired.
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=retry_after, times=1))
    items = fan_out(1)
    lease, settle = seconds(10), seconds(20)
    with Store(store_url) as store_a, Store(store_url) as store_b:
        b = Ticks(make(store_b, slack, items, owner="b", lease=lease, settle=settle))
        b_reports: list[TickReport] = []
        clock = {"now": NOW}

        async def waiting(wait: float) -> None:
            clock["now"] += seconds(wait)
            b_reports.append(await asyncio.to_thread(b, clock["now"]))

        poster = make_poster(slack, pacer=ChannelPacer(0.0, sleep=waiting), max_retry_after=30)
        a = make(store_a, slack, items, owner="a", lease=lease, settle=settle, poster=poster)
        a.clock = lambda: clock["now"]
        a_report = asyncio.run(a.tick(NOW))
        assert_exactly_once(slack, store_a, 1)
    if retry_after < settle.total_seconds():
        # b could not claim it before a's send could have shown in the history: a posted after its wait.
        assert (a_report.posted, b_reports) == (1, [TickReport()])
    else:
        # b took it over, looked (not there: a's send was refused) and posted; a's fence then failed.
        assert (a_report.posted, b_reports) == (0, [TickReport(posted=1)])
    assert len(slack.posts()) == 2  # the refused one and the post


def test_a_retry_after_longer_than_the_poster_waits_is_retried_by_either_instance_once(
    store_url: str, slack: SlackStandIn
) -> None:
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=15, times=6))
    items = fan_out(12)
    lease = seconds(10)
    with Store(store_url) as store_a, Store(store_url) as store_b:
        a = Ticks(make(store_a, slack, items, owner="a", lease=lease, poster=make_poster(slack, max_retry_after=1)))
        b = Ticks(make(store_b, slack, items, owner="b", lease=lease, poster=make_poster(slack, max_retry_after=1)))
        reports = [a(NOW), b(NOW + seconds(1))]
        for t in range(5, 60, 5):
            reports += [a(NOW + seconds(t)), b(NOW + seconds(t + 1))]
        assert_exactly_once(slack, store_a, 12)
        # Nothing was retried sooner than Slack asked.
        rows = store_a.deliveries()
        assert all(r.sent_at is not None for r in rows)
    assert sum(r.posted for r in reports) == 12
    assert sum(r.failed for r in reports) == 6


def test_a_short_retry_after_is_waited_out_in_the_same_claim_through_the_fence(
    store: Store, slack: SlackStandIn
) -> None:
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=0.2, times=2))
    ticks = Ticks(make(store, slack, fan_out(1)))
    assert ticks(NOW) == TickReport(posted=1)
    assert len(slack.posts()) == 3
    assert_exactly_once(slack, store, 1)


# ---- a rate-limited history --------------------------------------------------------------------------


def test_a_rate_limited_history_never_leads_to_a_second_post(store: Store, slack: SlackStandIn) -> None:
    slack.add_fault(Fault("chat.postMessage", status=200, delay=SLOW, posted_first=True, times=1))
    ticks = Ticks(make(store, slack, fan_out(1)))
    assert ticks(NOW).unknown == 1
    # Slack limits the history read, longer than the client waits by itself: looked for again later.
    slack.add_fault(Fault("conversations.history", status=429, retry_after=600, times=2))
    t = NOW + SETTLE + seconds(1)
    assert ticks(t) == TickReport()
    [row] = store.deliveries()
    assert (row.status, row.checks, row.next_attempt_at) == ("pending", 1, t + dt.timedelta(minutes=10))
    assert ticks(t + dt.timedelta(minutes=9)) == TickReport()
    t2 = t + dt.timedelta(minutes=10)
    assert ticks(t2) == TickReport()  # rate limited again
    assert ticks(t2 + dt.timedelta(minutes=10)) == TickReport(recovered=1)
    assert len(slack.posts()) == 1
    assert_exactly_once(slack, store, 1)


def test_a_history_that_stays_unreadable_holds_the_post_and_says_so(
    store: Store, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack.add_fault(Fault("chat.postMessage", status=200, delay=SLOW, posted_first=True, times=1))
    ticks = Ticks(make(store, slack, fan_out(1), max_checks=3))
    assert ticks(NOW).unknown == 1
    slack.add_fault(Fault("conversations.history", status=429, retry_after=600, times=100))
    t = NOW + SETTLE
    reports = []
    with caplog.at_level(logging.ERROR, logger="bot.schedule.deliverer"):
        for _ in range(5):
            t += dt.timedelta(hours=1)
            reports.append(ticks(t))
    assert sum(r.held for r in reports) == 1
    [row] = store.deliveries()
    assert row.status == "held" and "ratelimited" in (row.last_error or "")
    assert len(slack.posts()) == 1  # never re-sent
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "held" in record.getMessage() and row.channel in record.getMessage()
    assert [d.status for d in store.problems(limit=10)] == ["held"]


# ---- a holder frozen past its lease ------------------------------------------------------------------


class FrozenAfterSend:
    """A Poster whose first post is sent (Slack has it) and whose process then freezes before the answer."""

    def __init__(self, inner: Poster):
        self.inner = inner
        self.sent = asyncio.Event()
        self.thaw = asyncio.Event()

    async def post(self, channel: str, message: Any, *, metadata: Any, before_send: Any = None) -> str:
        await self.inner.post(channel, message, metadata=metadata, before_send=before_send)
        self.sent.set()
        await self.thaw.wait()
        raise TimeoutError("frozen: the answer was never read")  # not a DeliveryError: an unexpected failure

    async def find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        return await self.inner.find_posted(channel, delivery_id, since=since)


def test_a_holder_frozen_after_sending_cannot_be_doubled_by_a_takeover(store: Store, slack: SlackStandIn) -> None:
    items = fan_out(1)
    frozen = FrozenAfterSend(make_poster(slack))
    a = Deliverer(
        store, frozen, owner="a", occurrences=Schedule(items), plan=plan, render=render, lease=LEASE, settle=SETTLE
    )
    a.clock = lambda: NOW
    b = Ticks(make(store, slack, items, owner="b"))

    async def scenario() -> tuple[TickReport, list[TickReport]]:
        first = asyncio.create_task(a.tick(NOW))
        await frozen.sent.wait()
        # a's lease runs out while it is frozen: b may not take over before the settle delay, then finds it.
        seen = [await asyncio.to_thread(b, NOW + LEASE + seconds(1))]
        seen.append(await asyncio.to_thread(b, NOW + SETTLE + seconds(1)))
        frozen.thaw.set()
        return await first, seen

    first, seen = asyncio.run(scenario())
    assert seen == [TickReport(), TickReport(recovered=1)]
    # a's unexplained failure after its fence counts as an unknown outcome, not recorded: the row is b's, sent.
    assert first == TickReport(unknown=1)
    assert len(slack.posts()) == 1
    assert_exactly_once(slack, store, 1)


# ---- permanent failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "restricted_action",
        "msg_too_long",
        "token_revoked",
        "invalid_auth",
        "account_inactive",
        "invalid_blocks",
    ],
)
def test_a_permanent_refusal_fails_the_delivery_for_good_and_says_what_to_fix(
    store: Store, slack: SlackStandIn, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    # Before: retried every 30 minutes forever, with a WARNING each time.
    slack.add_fault(Fault("chat.postMessage", status=200, body={"ok": False, "error": error}, times=100))
    ticks = Ticks(make(store, slack, fan_out(1)))
    with caplog.at_level(logging.WARNING, logger="bot.schedule.deliverer"):
        assert ticks(NOW) == TickReport(failed=1)
        for hours in (1, 2, 24):
            assert ticks(NOW + dt.timedelta(hours=hours)) == TickReport()
    assert len(slack.posts()) == 1
    [row] = store.deliveries()
    assert row.status == "failed" and row.last_error == f"{error}: {PERMANENT_ERRORS[error]}"
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.ERROR
    assert error in record.getMessage() and PERMANENT_ERRORS[error] in record.getMessage()


def test_a_transient_refusal_is_retried(store: Store, slack: SlackStandIn) -> None:
    slack.add_fault(Fault("chat.postMessage", status=200, body={"ok": False, "error": "ratelimited"}, times=1))
    ticks = Ticks(make(store, slack, fan_out(1)))
    assert ticks(NOW) == TickReport(failed=1)
    assert ticks(NOW + seconds(30)) == TickReport(posted=1)
    assert_exactly_once(slack, store, 1)


# ---- coalesced catch-up ------------------------------------------------------------------------------


def test_coalesced_occurrences_are_recorded_as_skipped(store: Store, slack: SlackStandIn) -> None:
    missed = [occ("digest:every-minute", at=NOW - dt.timedelta(minutes=m)) for m in (3, 2, 1)]
    latest = occ("digest:every-minute", at=NOW)

    def coalescing(due: list[Occurrence], now: dt.datetime) -> Plan:
        return Plan(on_time=[latest], coalesced=[o for o in due if o != latest])

    deliverer = make(store, slack, [*missed, latest])
    deliverer.plan = coalescing
    assert asyncio.run(deliverer.tick(NOW)) == TickReport(posted=1, skipped=3)
    skipped = store.deliveries(status="skipped")
    assert [(d.scheduled_at, d.last_error) for d in skipped] == [(o.at, "coalesced") for o in missed]
    assert len(slack.posts()) == 1


# ---- a lost database ---------------------------------------------------------------------------------


def patient(slack: SlackStandIn) -> Poster:
    """A poster whose timeout a loaded machine does not reach: for tests about the database, not slow answers."""
    return make_poster(slack, timeout=10)


class FlakyStore(Store):
    """A delivery log that can be taken down: every write of a delivery's progress fails meanwhile."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("database unreachable")

    def begin_send(self, delivery_id: int, **kw: Any) -> bool:
        self._check()
        return super().begin_send(delivery_id, **kw)

    def mark_failed(self, delivery_id: int, **kw: Any) -> bool:
        self._check()
        return super().mark_failed(delivery_id, **kw)


def test_after_a_database_outage_an_instance_resumes_its_own_claims_at_once(
    store_url: str, slack: SlackStandIn
) -> None:
    # Before: its claims waited out their lease (120 s in serve) like anyone else's.
    with FlakyStore(store_url) as store:
        ticks = Ticks(make(store, slack, fan_out(3), lease=dt.timedelta(minutes=2), poster=patient(slack)))
        store.down = True
        assert ticks(NOW) == TickReport(failed=3)  # claimed, then the database went away
        assert slack.posts() == []
        store.down = False
        assert ticks(NOW + seconds(1)) == TickReport(posted=3)  # its own: no lease to wait out
        assert_exactly_once(slack, store, 3)


def test_another_instance_waits_out_the_lease_of_claims_left_by_an_outage(store_url: str, slack: SlackStandIn) -> None:
    with FlakyStore(store_url) as store, Store(store_url) as other_store:
        ticks = Ticks(make(store, slack, fan_out(3), owner="a", lease=dt.timedelta(minutes=2), poster=patient(slack)))
        other = Ticks(
            make(other_store, slack, fan_out(3), owner="b", lease=dt.timedelta(minutes=2), poster=patient(slack))
        )
        store.down = True
        ticks(NOW)
        assert other(NOW + seconds(1)) == TickReport()
        assert other(NOW + dt.timedelta(minutes=2, seconds=1)) == TickReport(posted=3)
        assert_exactly_once(slack, store, 3)


# ---- the heartbeat -----------------------------------------------------------------------------------


def test_the_lease_is_renewed_while_its_holder_waits(store: Store, slack: SlackStandIn) -> None:
    lease = seconds(0.3)
    gate = GatedPoster(make_poster(slack))
    items = [occ("digest:d00", channel="C00", at=dt.datetime.now(dt.UTC) - seconds(1))]
    a = make(store, slack, items, owner="a", lease=lease, poster=gate)  # type: ignore[arg-type]

    async def scenario() -> TickReport:
        tick = asyncio.create_task(a.tick(dt.datetime.now(dt.UTC)))
        await gate.waiting.wait()
        [row] = await asyncio.to_thread(store.deliveries)
        first = row.lease_until
        assert first is not None
        # Wait (polling) until the heartbeat has renewed the lease past the one the claim took.
        for _ in range(200):
            [row] = await asyncio.to_thread(store.deliveries)
            if row.lease_until is not None and row.lease_until > first + lease:
                break
            await asyncio.sleep(0.05)
        assert row.lease_until is not None and row.lease_until > first + lease
        # Past the first lease, the holder still holds it: nobody else can claim it.
        later = await asyncio.to_thread(store.claim_retries, now=first + seconds(0.01), owner="b", lease=LEASE, limit=5)
        assert later == []
        gate.go.set()
        return await tick

    assert asyncio.run(scenario()) == TickReport(posted=1)
    assert len(slack.posts()) == 1
