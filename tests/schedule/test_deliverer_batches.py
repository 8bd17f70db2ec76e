"""A tick posts each batch of claims as soon as it is claimed, instead of claiming everything first (issue 3)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.schedule.deliverer import Deliverer, TickReport
from bot.schedule.occurrence import Occurrence
from bot.schedule.store import Delivery, Store
from tests.schedule.test_deliverer import LEASE, NOW, Schedule, occ, plan, render


class CountingStore(Store):
    """Counts claims, and can fail the n-th one."""

    def __init__(self, url: str, *, fail_at: int | None = None):
        super().__init__(url)
        self.claims = 0
        self.fail_at = fail_at
        self._count = threading.Lock()

    def claim(
        self, occ: Occurrence, *, now: dt.datetime, owner: str, lease: dt.timedelta, late: bool
    ) -> Delivery | None:
        with self._count:
            self.claims += 1
            if self.claims == self.fail_at:
                raise RuntimeError("database went away")
        return super().claim(occ, now=now, owner=owner, lease=lease, late=late)


class RecordingPoster:
    """Posting without Slack: records, for every post, how many claims the store had made by then."""

    def __init__(self, store: CountingStore):
        self.store = store
        self.posts: list[tuple[str, int]] = []  # (key, claims made when it was posted)

    async def post(
        self,
        channel: str,
        message: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any],
        before_send: Callable[[], Awaitable[bool]] | None = None,
    ) -> str:
        # Recorded as the post starts, so the order is the deliverer's, not the lease renewal threads'.
        self.posts.append((str(metadata["key"]), self.store.claims))
        if before_send is not None:
            assert await before_send()
        await asyncio.sleep(0.001)
        return f"{len(self.posts)}.000000"

    async def find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        return None


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"


def items(n: int) -> list[Occurrence]:
    # Keys sort in reverse of channel order, and half are a minute older: the posting order must follow
    # (time, kind, key), not the order the plan listed them in.
    return [occ(f"digest:{n - i:03d}", channel=f"C{i}", at=NOW - dt.timedelta(minutes=i % 2)) for i in range(n)]


def make(store: CountingStore, schedule: list[Occurrence], **kw: Any) -> tuple[Deliverer, RecordingPoster]:
    poster = RecordingPoster(store)
    deliverer = Deliverer(
        store, poster, owner="a", occurrences=Schedule(schedule), plan=plan, render=render, lease=LEASE, **kw
    )
    return deliverer, poster


def test_posting_starts_before_every_claim_is_made(db_url: str) -> None:
    with CountingStore(db_url) as store:
        schedule = items(40)
        deliverer, poster = make(store, schedule, claim_batch=5)
        assert asyncio.run(deliverer.tick(NOW)) == TickReport(posted=40)
        assert len(poster.posts) == 40
        first_claims = poster.posts[0][1]
        assert 5 <= first_claims < 40  # the first post went out while later batches were still being claimed
        expected = sorted(schedule, key=lambda o: (o.at, o.kind, o.key))
        assert [key for key, _ in poster.posts] == [o.key for o in expected]
        assert store.counts() == {"pending": 0, "sent": 40, "skipped": 0, "failed": 0, "held": 0}


def test_a_failing_claim_lets_what_was_claimed_be_posted_and_recorded(db_url: str) -> None:
    with CountingStore(db_url, fail_at=8) as store:
        deliverer, poster = make(store, items(12), claim_batch=5)
        with pytest.raises(RuntimeError, match="database went away"):
            asyncio.run(deliverer.tick(NOW))
        assert len(poster.posts) == 5  # the first batch
        assert store.counts() == {"pending": 2, "sent": 5, "skipped": 0, "failed": 0, "held": 0}
        # The next tick claims and posts the rest, and nothing twice. The two claimed before the failure
        # are its own: resumed at once, not a lease later (before: posted=5, then 2 once the lease ran out).
        store.fail_at = None
        assert asyncio.run(deliverer.tick(NOW + dt.timedelta(seconds=1))) == TickReport(posted=7)
        later = NOW + LEASE + dt.timedelta(seconds=1)
        assert asyncio.run(deliverer.tick(later)) == TickReport()
        keys = [key for key, _ in poster.posts]
        assert len(keys) == len(set(keys)) == 12
