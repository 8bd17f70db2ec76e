"""A reviewer's attacks on the delivery protocol: each is a way a post could be doubled, lost or held for nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.schedule.deliverer import TickReport
from bot.schedule.store import Store
from tests.schedule.test_deliverer import NOW
from tests.schedule.test_exactly_once import (
    SETTLE,
    SLOW,
    Ticks,
    assert_exactly_once,
    fan_out,
    make,
    make_poster,
    messages_per_delivery,
    seconds,
)
from tests.slack_standin import Fault, SlackStandIn


class MarkFailsOnce(Store):
    """A delivery log whose next `mark_sent` fails (a lock or statement timeout, a dropped connection)."""

    fail_marks = 0

    def mark_sent(self, delivery_id: int, **kw: Any) -> bool:
        if self.fail_marks:
            self.fail_marks -= 1
            raise OperationalError("UPDATE deliveries", {}, Exception("canceling statement due to lock timeout"))
        return super().mark_sent(delivery_id, **kw)


def test_a_found_post_whose_record_fails_once_is_looked_for_again_not_posted_again(
    store_url: str,
    slack: SlackStandIn,
) -> None:
    # Before: the failed mark of a post found in the history fell through to mark_failed, which forgot
    # that a send had begun; the retry then posted without looking (2 messages for one delivery).
    slack.add_fault(Fault("chat.postMessage", status=200, delay=SLOW, posted_first=True))
    with MarkFailsOnce(store_url) as store:
        ticks = Ticks(make(store, slack, fan_out(1)))
        assert ticks(NOW).unknown == 1
        store.fail_marks = 1
        ticks(NOW + SETTLE + seconds(1))  # found in the history, but not recorded
        for later in range(2, 40):
            ticks(NOW + SETTLE * later)
        assert_exactly_once(slack, store, 1)
        assert len(slack.posts()) == 1


def test_a_post_whose_record_fails_after_slacks_ok_is_found_by_the_same_instance(
    store_url: str,
    slack: SlackStandIn,
) -> None:
    with MarkFailsOnce(store_url) as store:
        ticks = Ticks(make(store, slack, fan_out(1)))
        store.fail_marks = 1
        assert ticks(NOW).posted == 1  # posted, not recorded
        # Its own claim comes back only once Slack has had `settle` to show it, and is looked for first.
        assert ticks(NOW + seconds(1)) == TickReport()
        assert ticks(NOW + SETTLE + seconds(1)) == TickReport(recovered=1)
        assert_exactly_once(slack, store, 1)
        assert len(slack.posts()) == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("chat.postMessage", status=200, raw="<html>proxy</html>", posted_first=True), id="html-200"),
        pytest.param(
            Fault("chat.postMessage", status=200, raw="ok", content_type="text/plain", posted_first=True), id="text-200"
        ),
        pytest.param(Fault("chat.postMessage", truncated=True, posted_first=True), id="answer-cut-short"),
    ],
)
def test_an_answer_that_cannot_be_read_after_the_post_landed_is_an_unknown_outcome(
    store_url: str,
    slack: SlackStandIn,
    fault: Fault,
) -> None:
    # Before: a 200 that is not Slack's JSON (a proxy's page) or a body cut short counted as "not
    # posted": retried without looking, it posted twice.
    slack.add_fault(Fault(**{**fault.__dict__}))
    with Store(store_url) as store:
        ticks = Ticks(make(store, slack, fan_out(1)))
        first = ticks(NOW)
        assert (first.unknown, first.failed) == (1, 0)
        for later in range(1, 20):
            ticks(NOW + SETTLE * later)
        assert_exactly_once(slack, store, 1)
        assert len(slack.posts()) == 1


def test_a_retry_after_is_counted_from_when_slack_said_it_not_from_the_ticks_start(
    store_url: str,
    slack: SlackStandIn,
) -> None:
    # A tick's `now` is when it began; a fan-out can keep it busy for minutes. Before: the retry time
    # of a 429 answered 10 minutes into the tick was tick start + Retry-After, already past.
    slack.add_fault(Fault("chat.postMessage", status=429, retry_after=120))
    with Store(store_url) as store:
        d = make(store, slack, fan_out(1), poster=make_poster(slack, max_retry_after=30))
        d.clock = lambda: NOW + dt.timedelta(minutes=10)
        assert asyncio.run(d.tick(NOW)).failed == 1
        [row] = store.deliveries()
        assert row.next_attempt_at is not None
        assert row.next_attempt_at >= NOW + dt.timedelta(minutes=10, seconds=120)
        assert messages_per_delivery(slack) == {}


def test_a_history_without_the_bots_metadata_holds_the_post_instead_of_posting_it_again(
    store_url: str,
    slack: SlackStandIn,
) -> None:
    # Metadata dropped by Slack (too large, a policy, a missing subscription): the post is in the
    # channel but no message carries its id. Before: "not there", posted again at every look.
    slack.add_fault(Fault("chat.postMessage", status=200, delay=SLOW, posted_first=True))
    slack.strip_metadata = True
    with Store(store_url) as store:
        ticks = Ticks(make(store, slack, fan_out(1)))
        assert ticks(NOW).unknown == 1
        assert ticks(NOW + SETTLE + seconds(1)) == TickReport(held=1)
        for later in range(2, 10):
            ticks(NOW + SETTLE * later)
        assert len(slack.messages) == 1 and len(slack.posts()) == 1
        [row] = store.deliveries()
        assert row.status == "held" and "metadata" in (row.last_error or "")
        assert len(slack.calls_to("auth.test")) == 1


# ---- attacks that the protocol already withstood (kept, so it keeps withstanding them) ----------------


def test_digest_now_from_two_instances_in_the_same_second_posts_once(
    store_url: str,
    slack: SlackStandIn,
) -> None:
    request = fan_out(1)[0]
    with Store(store_url) as store_a, Store(store_url) as store_b:
        a, b = make(store_a, slack, [], owner="a"), make(store_b, slack, [], owner="b")
        a.clock = b.clock = lambda: NOW

        async def both() -> list[TickReport]:
            return list(
                await asyncio.gather(
                    a.post_now(request, NOW + dt.timedelta(microseconds=10)),
                    b.post_now(request, NOW + dt.timedelta(microseconds=20)),
                    a.post_now(request, NOW + dt.timedelta(microseconds=30)),  # the same instance again
                )
            )

        reports = asyncio.run(both())
        assert sum(r.posted for r in reports) == 1
        assert_exactly_once(slack, store_a, 1)
        assert len(slack.posts()) == 1


def test_a_coalesced_record_does_not_touch_an_occurrence_another_instance_is_posting(
    store_url: str,
    slack: SlackStandIn,
) -> None:
    [item] = fan_out(1)
    with Store(store_url) as store_a, Store(store_url) as store_b:
        claimed = store_b.claim(item, now=NOW, owner="b", lease=seconds(60), late=False)
        assert claimed is not None
        # a's plan, made from an older read of the log, coalesces the very occurrence b holds.
        assert store_a.record_skipped(item, now=NOW, reason="coalesced") is False
        [row] = store_a.deliveries()
        assert (row.status, row.lease_owner) == ("pending", "b")
        assert store_b.begin_send(
            claimed.id, owner="b", epoch=claimed.lease_epoch, now=NOW, lease=seconds(60), settle=SETTLE
        )


def test_a_rate_limited_chat_update_is_retried_once_and_edits_only_that_message(slack: SlackStandIn) -> None:
    poster = make_poster(slack)
    slack.add_fault(Fault("chat.update", status=429, retry_after=0.01))

    async def scenario() -> tuple[str, str]:
        ts = await poster.post("C00", {"text": "reminder"}, metadata={"delivery_id": 1})
        other = await poster.post("C01", {"text": "reminder"}, metadata={"delivery_id": 2})
        await poster.update("C00", ts, {"text": "Done"})
        return ts, other

    ts, other = asyncio.run(scenario())
    assert len(slack.calls_to("chat.update")) == 2  # the 429, then the edit
    assert slack.messages[("C00", ts)]["text"] == "Done"
    assert slack.messages[("C01", other)]["text"] == "reminder"


def test_each_send_gets_its_own_budget_of_failed_history_checks(
    store_url: str,
    slack: SlackStandIn,
) -> None:
    # Before: `checks` counted failed looks over the row's whole life, so a second unknown send was held
    # at its first rate-limited look, though its own outcome had never been looked for.
    with Store(store_url) as store:
        ticks = Ticks(make(store, slack, fan_out(1), max_checks=2))
        slack.add_fault(Fault("chat.postMessage", status=503, delay=SLOW))
        assert ticks(NOW).unknown == 1
        slack.add_fault(Fault("conversations.history", status=429, retry_after=600))
        t = NOW + SETTLE + seconds(1)
        assert ticks(t) == TickReport()  # could not look: once
        slack.add_fault(Fault("chat.postMessage", status=503, delay=SLOW))
        t += dt.timedelta(minutes=10)
        assert ticks(t).unknown == 1  # looked, not there, sent again: unknown again
        slack.add_fault(Fault("conversations.history", status=429, retry_after=600))
        t += SETTLE + seconds(1)
        assert ticks(t) == TickReport()  # this send's first failed look: not held
        t += dt.timedelta(minutes=10)
        assert ticks(t) == TickReport(posted=1)
        assert_exactly_once(slack, store, 1)
