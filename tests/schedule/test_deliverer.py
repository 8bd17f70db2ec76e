"""Ticks against a real delivery log and the Slack stand-in: each occurrence is posted exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.schedule.deliverer import Deliverer, TickReport
from bot.schedule.occurrence import Occurrence
from bot.schedule.pacing import ChannelPacer
from bot.schedule.poster import EVENT_TYPE, Poster
from bot.schedule.slack_client import build_post_client
from bot.schedule.store import Store, deliveries
from tests.slack_standin import Fault, SlackStandIn

NOW = dt.datetime(2025, 1, 6, 0, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=2)
SETTLE = dt.timedelta(seconds=60)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def occ(key: str, *, channel: str = "C1", at: dt.datetime = NOW) -> Occurrence:
    kind = "digest" if key.startswith("digest") else "reminder"
    return Occurrence(kind=kind, key=key, channel=channel, at=at)


@dataclass
class Plan:
    on_time: list[Occurrence] = field(default_factory=list)
    late: list[Occurrence] = field(default_factory=list)
    skipped: list[Occurrence] = field(default_factory=list)
    coalesced: list[Occurrence] = field(default_factory=list)


def plan(due: list[Occurrence], now: dt.datetime) -> Plan:
    """Up to 2 minutes behind is on time, up to an hour late, older skipped."""
    out = Plan()
    for o in sorted(due, key=lambda o: o.at):
        lag = now - o.at
        (out.on_time if lag <= minutes(2) else out.late if lag <= minutes(60) else out.skipped).append(o)
    return out


@dataclass
class Schedule:
    items: list[Occurrence]

    def __call__(self, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
        return [o for o in self.items if start < o.at <= end]


def render(o: Occurrence, now: dt.datetime) -> dict[str, Any]:
    return {"text": f"{o.key} due {o.at:%H:%M}", "blocks": []}


def make_poster(slack: SlackStandIn) -> Poster:
    client = build_post_client("xoxb-test", slack.api_url, timeout=5, max_retries=2, backoff_factor=0.01)
    return Poster(client, pacer=ChannelPacer(0.0))


def make_deliverer(store: Store, slack: SlackStandIn, items: Sequence[Occurrence], **kw: Any) -> Deliverer:
    options: dict[str, Any] = {"owner": "a", "render": render, "lease": LEASE, **kw}
    return Deliverer(store, make_poster(slack), occurrences=Schedule(list(items)), plan=plan, **options)


def tick(deliverer: Deliverer, now: dt.datetime) -> TickReport:
    deliverer.clock = lambda: now  # the clock at the tick's time, as serve's would be
    return asyncio.run(deliverer.tick(now))


def posted_ids(slack: SlackStandIn) -> list[int]:
    return [c.args["metadata"]["event_payload"]["delivery_id"] for c in slack.posts()]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'g7bot.sqlite3'}") as s:
        yield s


def test_each_occurrence_is_posted_once_and_never_again(store: Store, slack: SlackStandIn) -> None:
    items = [
        occ("digest:daily"),
        occ("reminder:c1:d1", channel="C2"),
        occ("reminder:c2:d1", at=NOW - minutes(1)),
    ]
    future = occ("digest:daily", at=NOW + minutes(60))
    deliverer = make_deliverer(store, slack, [*items, future])

    assert tick(deliverer, NOW) == TickReport(posted=3)
    for later in (NOW, NOW + minutes(1), NOW + minutes(30)):
        assert tick(deliverer, later) == TickReport()
    assert len(slack.posts()) == 3
    sent = store.deliveries(status="sent")
    assert sorted(posted_ids(slack)) == sorted(d.id for d in sent)
    for d in sent:
        message = slack.messages[(d.channel, d.message_ts or "")]
        assert message["text"] == render(d.to_occurrence(), NOW)["text"]
        assert message["metadata"]["event_type"] == EVENT_TYPE
    assert store.counts() == {"pending": 0, "sent": 3, "skipped": 0, "failed": 0, "held": 0}
    # The next one, when its time comes.
    assert tick(deliverer, NOW + minutes(60)) == TickReport(posted=1)


def test_late_ones_are_posted_and_too_old_ones_skipped_with_a_warning(
    store: Store, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    items = [occ("digest:late", at=NOW - minutes(10)), occ("digest:old", channel="C9", at=NOW - minutes(90))]
    with caplog.at_level(logging.WARNING, logger="bot.schedule.deliverer"):
        assert tick(make_deliverer(store, slack, items), NOW) == TickReport(posted=1, late=1, skipped=1)
    [late] = store.deliveries(status="sent")
    assert (late.key, late.late) == ("digest:late", True)
    [skipped] = store.deliveries(status="skipped")
    assert skipped.key == "digest:old"
    [record] = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert all(part in record.getMessage() for part in ("digest:old", "C9", "2025-01-05T22:30:00+00:00"))
    assert len(slack.posts()) == 1


def test_a_failed_post_stays_pending_and_is_retried_after_the_backoff(store: Store, slack: SlackStandIn) -> None:
    # Rejected (429), so surely not posted: retried after a backoff, with no need to look in the channel.
    outage = Fault("chat.postMessage", status=429, retry_after=0, times=10)
    slack.add_fault(outage)
    deliverer = make_deliverer(store, slack, [occ("digest:daily")])

    assert tick(deliverer, NOW) == TickReport(failed=1)
    [d] = store.deliveries()
    assert (d.status, d.attempts, d.lease_owner, d.next_attempt_at, d.send_started_at) == (
        "pending",
        1,
        None,
        NOW + dt.timedelta(seconds=30),
        None,
    )
    assert "ratelimited" in (d.last_error or "")
    assert len(slack.posts()) == 3  # the first try and the poster's two retries, each through the fence

    t2 = NOW + dt.timedelta(seconds=30)
    assert tick(deliverer, t2) == TickReport(failed=1)  # still down: the wait doubles
    [d] = store.deliveries()
    assert (d.attempts, d.next_attempt_at) == (2, t2 + dt.timedelta(seconds=60))

    outage.times = 0  # Slack is back
    assert tick(deliverer, t2 + dt.timedelta(seconds=59)) == TickReport()
    assert len(slack.posts()) == 6
    assert tick(deliverer, t2 + dt.timedelta(seconds=60)) == TickReport(posted=1)
    assert len(slack.messages) == 1
    [d] = store.deliveries()
    assert d.status == "sent" and d.attempts == 2
    # Slack said no each time: nothing to look for before retrying.
    assert slack.calls_to("conversations.history") == []


def test_a_rate_limited_post_is_retried_no_sooner_than_slack_asked(store: Store, slack: SlackStandIn) -> None:
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=600))
    assert tick(make_deliverer(store, slack, [occ("digest:daily")]), NOW) == TickReport(failed=1)
    [d] = store.deliveries()
    assert d.next_attempt_at == NOW + minutes(10)


def test_a_crash_after_posting_is_recovered_without_posting_again(store: Store, slack: SlackStandIn) -> None:
    deliverer = make_deliverer(store, slack, [occ("digest:daily"), occ("digest:other", channel="C2")])
    assert tick(deliverer, NOW) == TickReport(posted=2)
    [d, _] = store.deliveries()
    # As if the process died after Slack answered ok and before the log was updated.
    with store.engine.begin() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == d.id)
            .values(
                status="pending",
                message_ts=None,
                sent_at=None,
                lease_owner="crashed",
                lease_until=NOW + LEASE,
            )
        )
    survivor = make_deliverer(store, slack, [occ("digest:daily"), occ("digest:other", channel="C2")], owner="b")
    assert tick(survivor, NOW + minutes(1)) == TickReport()  # the dead owner's lease still holds
    assert tick(survivor, NOW + minutes(3)) == TickReport(recovered=1)
    assert len(slack.posts()) == 2
    recovered = store.get(d.id)
    assert recovered is not None and recovered.status == "sent" and recovered.message_ts == d.message_ts


def test_a_crash_before_posting_is_posted_once_the_lease_expires(store: Store, slack: SlackStandIn) -> None:
    claimed = store.claim(occ("digest:daily"), now=NOW, owner="crashed", lease=LEASE, late=False)
    assert claimed is not None
    deliverer = make_deliverer(store, slack, [occ("digest:daily")])
    assert tick(deliverer, NOW) == TickReport()
    assert tick(deliverer, NOW + minutes(3)) == TickReport(posted=1)
    assert posted_ids(slack) == [claimed.id]


def crashed_after_fence(store: Store, o: Occurrence, *, at: dt.datetime = NOW) -> int:
    """A claim whose owner passed the fence (a send began) and died before it heard Slack's answer."""
    d = store.claim(o, now=at, owner="crashed", lease=LEASE, late=False)
    assert d is not None
    assert store.begin_send(d.id, owner="crashed", epoch=d.lease_epoch, now=at, lease=LEASE, settle=SETTLE)
    return d.id


def test_a_crash_before_the_fence_is_posted_without_looking(store: Store, slack: SlackStandIn) -> None:
    # Before: every reclaimed row was looked for. No send began, so nothing can be in Slack to find.
    assert store.claim(occ("digest:daily"), now=NOW, owner="crashed", lease=LEASE, late=False)
    slack.add_fault(Fault("conversations.history", status=400, body={"ok": False, "error": "missing_scope"}))
    assert tick(make_deliverer(store, slack, [occ("digest:daily")]), NOW + minutes(3)) == TickReport(posted=1)
    assert slack.calls_to("conversations.history") == []


def test_without_the_history_scope_an_unknown_outcome_is_held_not_posted(
    store: Store, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: posted without checking ("a rare double"). Now: held and reported, never guessed.
    delivery_id = crashed_after_fence(store, occ("digest:daily"))
    slack.add_fault(Fault("conversations.history", status=400, body={"ok": False, "error": "missing_scope"}))
    with caplog.at_level(logging.ERROR, logger="bot.schedule.deliverer"):
        assert tick(make_deliverer(store, slack, [occ("digest:daily")]), NOW + minutes(3)) == TickReport(held=1)
    assert slack.posts() == []
    held = store.get(delivery_id)
    assert held is not None and held.status == "held" and "missing_scope" in (held.last_error or "")
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "held" in record.getMessage() and "missing_scope" in record.getMessage()
    assert tick(make_deliverer(store, slack, [occ("digest:daily")]), NOW + minutes(60)) == TickReport()


def test_when_the_channel_cannot_be_checked_for_now_the_post_waits(store: Store, slack: SlackStandIn) -> None:
    crashed_after_fence(store, occ("digest:daily"))
    slack.add_fault(Fault("conversations.history", status=500, times=3))
    assert tick(make_deliverer(store, slack, [occ("digest:daily")]), NOW + minutes(3)) == TickReport()
    assert slack.posts() == []
    [d] = store.deliveries(status="pending")
    assert (d.checks, d.attempts, d.next_attempt_at) == (1, 0, NOW + minutes(3) + dt.timedelta(seconds=30))
    # History answers again: not there, so it is posted, once.
    assert tick(make_deliverer(store, slack, [occ("digest:daily")]), NOW + minutes(4)) == TickReport(posted=1)
    assert len(slack.posts()) == 1


def test_an_unexpected_error_is_logged_and_the_row_kept(
    store: Store, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    def fragile(o: Occurrence, now: dt.datetime) -> dict[str, Any]:
        if o.key == "digest:bad":
            raise KeyError("no such digest")
        return render(o, now)

    items = [occ("digest:bad"), occ("digest:good", channel="C2")]
    with caplog.at_level(logging.ERROR, logger="bot.schedule.deliverer"):
        assert tick(make_deliverer(store, slack, items, render=fragile), NOW) == TickReport(posted=1, failed=1)
    [bad] = store.deliveries(status="pending")
    assert bad.key == "digest:bad" and "KeyError" in (bad.last_error or "")
    assert any(r.exc_info and "digest:bad" in r.getMessage() for r in caplog.records)


def test_post_now_posts_once_per_second(store: Store, slack: SlackStandIn) -> None:
    deliverer = make_deliverer(store, slack, [])
    request = occ("digest:daily:now", channel="C7", at=NOW)
    at = NOW + dt.timedelta(seconds=5, microseconds=250_000)
    assert asyncio.run(deliverer.post_now(request, at)) == TickReport(posted=1)
    assert asyncio.run(deliverer.post_now(request, at + dt.timedelta(microseconds=1))) == TickReport()
    [d] = store.deliveries()
    assert d.scheduled_at == NOW + dt.timedelta(seconds=5) and d.status == "sent"
    assert len(slack.posts()) == 1


def test_backoff_doubles_up_to_thirty_minutes(store: Store, slack: SlackStandIn) -> None:
    deliverer = make_deliverer(store, slack, [])
    waits = [deliverer.backoff(n).total_seconds() for n in range(8)]
    assert waits == [30, 60, 120, 240, 480, 960, 1800, 1800]
    assert deliverer.backoff(100) == minutes(30)
    assert deliverer.backoff(0, retry_after=90) == dt.timedelta(seconds=90)


# ---- two instances -----------------------------------------------------------------------------


def test_two_instances_post_each_occurrence_exactly_once(store_url: str, slack: SlackStandIn) -> None:
    items = [occ(f"reminder:c{i}:d1", channel=f"C{i % 3}", at=NOW - dt.timedelta(seconds=i)) for i in range(12)] + [
        occ(f"reminder:late{i}:d1", channel=f"C{i % 3}", at=NOW - minutes(20)) for i in range(6)
    ]
    reports: dict[str, list[TickReport]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def instance(owner: str) -> None:
        # Its own thread, event loop, engine and Slack client: as close to a second process as a test gets.
        with Store(store_url) as store:
            deliverer = make_deliverer(store, slack, items, owner=owner)
            for now in (NOW, NOW, NOW + minutes(3)):
                barrier.wait()
                reports[owner].append(tick(deliverer, now))

    threads = [threading.Thread(target=instance, args=(owner,)) for owner in reports]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)

    ids = posted_ids(slack)
    assert len(ids) == len(set(ids)) == len(items)
    assert sum(r.posted for rs in reports.values() for r in rs) == len(items)
    assert sum(r.late for rs in reports.values() for r in rs) == 6
    assert sum(r.failed + r.recovered for rs in reports.values() for r in rs) == 0
    with Store(store_url) as store:
        assert store.counts() == {"pending": 0, "sent": len(items), "skipped": 0, "failed": 0, "held": 0}


class GatedPoster:
    """A real Poster whose posts wait at a gate first, as pacing can keep them waiting past the lease."""

    def __init__(self, inner: Poster):
        self.inner = inner
        self.waiting = asyncio.Event()
        self.go = asyncio.Event()

    async def post(self, channel: str, message: Any, *, metadata: Any, before_send: Any = None) -> str:
        self.waiting.set()
        await self.go.wait()
        return await self.inner.post(channel, message, metadata=metadata, before_send=before_send)

    async def find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        return await self.inner.find_posted(channel, delivery_id, since=since)


def test_a_post_kept_waiting_past_its_lease_is_not_sent_by_both(store: Store, slack: SlackStandIn) -> None:
    items = [occ("digest:daily")]
    later = NOW + LEASE + minutes(1)
    gated = GatedPoster(make_poster(slack))
    slow = Deliverer(
        store, gated, owner="a", occurrences=Schedule(items), plan=plan, render=render, lease=LEASE, clock=lambda: later
    )
    other = make_deliverer(store, slack, items, owner="b", clock=lambda: later)

    async def race() -> tuple[TickReport, TickReport]:
        first = asyncio.create_task(slow.tick(NOW))
        await gated.waiting.wait()
        # a's lease ran out while its post waited: b takes the row over and posts it.
        second = await other.tick(later)
        gated.go.set()
        return await first, second

    first, second = asyncio.run(race())
    assert second.posted == 1
    assert first.posted == 0
    assert len(slack.posts()) == 1
    (row,) = store.deliveries()
    assert row.status == "sent"
