"""One scheduler tick: find what is due, claim it in the delivery log, post it once, record the outcome."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from bot.errors import DeliveryError, LeaseLost
from bot.schedule.occurrence import Occurrence
from bot.schedule.store import Delivery, Store

logger = logging.getLogger(__name__)

Outcome = Literal["posted", "late", "recovered", "failed", "lost-lease"]
SKIP_REASON = "past the grace period"
# find_posted looks this far before the scheduled time, for clocks that disagree a little.
_FIND_MARGIN = dt.timedelta(minutes=1)
# conversations.history errors that no retry cures: the app lacks channels:history / groups:history.
_CANNOT_LOOK = frozenset({"missing_scope", "no_permission", "not_allowed_token_type"})


class PlanLike(Protocol):
    """What plan() returns: the due occurrences sorted into on time, late (still posted) and skipped."""

    @property
    def on_time(self) -> Sequence[Occurrence]: ...

    @property
    def late(self) -> Sequence[Occurrence]: ...

    @property
    def skipped(self) -> Sequence[Occurrence]: ...


class Posting(Protocol):
    """The part of Poster the deliverer uses."""

    async def post(
        self,
        channel: str,
        message: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any],
        before_send: Callable[[], Awaitable[bool]] | None = None,
    ) -> str: ...

    async def find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None: ...


@dataclasses.dataclass(frozen=True)
class TickReport:
    """What one tick did. `posted` counts every message posted, `late` those of them that were late;
    `recovered` were found already posted (after a crash or a lost answer) and only recorded."""

    posted: int = 0
    late: int = 0
    skipped: int = 0
    failed: int = 0
    recovered: int = 0


class Deliverer:
    """Ties the pure "what is due" functions to the delivery log and the poster.

    The lease must outlast posting one tick's batch: posts to one channel go out at about one a second,
    plus Slack's retries. A lease that runs out mid-post lets another instance take the row over; it
    looks in the channel before posting, which narrows but cannot close that window.
    """

    def __init__(
        self,
        store: Store,
        poster: Posting,
        *,
        owner: str,
        occurrences: Callable[[dt.datetime, dt.datetime], Sequence[Occurrence]],
        plan: Callable[[list[Occurrence], dt.datetime], PlanLike],
        render: Callable[[Occurrence, dt.datetime], Mapping[str, Any]],
        lease: dt.timedelta = dt.timedelta(minutes=2),
        lookback: dt.timedelta = dt.timedelta(days=1),
        retry_backoff: dt.timedelta = dt.timedelta(seconds=30),
        retry_max: dt.timedelta = dt.timedelta(minutes=30),
        retry_batch: int = 100,
        claim_batch: int = 20,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.store = store
        self.poster = poster
        self.owner = owner
        self.occurrences = occurrences
        self.plan = plan
        self.render = render
        self.lease = lease
        self.lookback = lookback
        self.retry_backoff = retry_backoff
        self.retry_max = retry_max
        self.retry_batch = retry_batch
        self.claim_batch = max(1, claim_batch)
        # Only for renewing a lease the moment a post gets its turn; what is due uses the tick's `now`.
        self.clock = clock

    async def tick(self, now: dt.datetime, *, lookback: dt.timedelta | None = None) -> TickReport:
        """Post what fell due in (now - lookback, now] and is not in the log yet, and retry what failed."""
        start = now - (self.lookback if lookback is None else lookback)
        known = await asyncio.to_thread(self.store.known, start)
        due: dict[tuple[str, str, str, dt.datetime], Occurrence] = {}
        for occ in self.occurrences(start, now):
            if start < occ.at <= now and occ.identity not in known:
                due.setdefault(occ.identity, occ)
        planned = self.plan(list(due.values()), now)

        skipped = await asyncio.to_thread(self._record_skipped, planned.skipped, now)
        wanted = [(occ, False) for occ in planned.on_time] + [(occ, True) for occ in planned.late]
        wanted.sort(key=lambda w: (w[0].at, w[0].kind, w[0].key))

        # Each batch is posted as soon as it is claimed: a fan-out to many channels would otherwise wait
        # for every claim (a transaction each) before its first post.
        tasks: list[asyncio.Task[Outcome]] = []
        seen: set[int] = set()

        def launch(batch: Sequence[Delivery]) -> None:
            for d in batch:
                if d.id not in seen:
                    seen.add(d.id)
                    tasks.append(asyncio.create_task(self._deliver(d, now)))

        try:
            for first in range(0, len(wanted), self.claim_batch):
                batch = wanted[first : first + self.claim_batch]
                launch(await asyncio.to_thread(self._claim_all, batch, now))
            retries = await asyncio.to_thread(
                self.store.claim_retries, now=now, owner=self.owner, lease=self.lease, limit=self.retry_batch
            )
            launch(sorted(retries, key=lambda d: (d.scheduled_at, d.kind, d.key, d.id)))
        except Exception:
            # What was claimed is being posted: let it finish and be recorded, then report the error.
            await asyncio.gather(*tasks)
            raise
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        outcomes = await asyncio.gather(*tasks)
        report = TickReport(
            posted=sum(o in {"posted", "late"} for o in outcomes),
            late=outcomes.count("late"),
            skipped=skipped,
            failed=outcomes.count("failed"),
            recovered=outcomes.count("recovered"),
        )
        if tasks or skipped:
            logger.info("tick %s by %s: %s", now.isoformat(), self.owner, report)
        return report

    async def post_now(self, occ: Occurrence, now: dt.datetime) -> TickReport:
        """An admin's "digest now": post `occ` as due at `now` (to the second), at most once."""
        at = now.astimezone(dt.UTC).replace(microsecond=0)
        occ = occ.model_copy(update={"at": at})
        delivery = await asyncio.to_thread(
            self.store.claim, occ, now=now, owner=self.owner, lease=self.lease, late=False
        )
        if delivery is None:
            logger.info("post_now %s %s for %s at %s: already claimed", occ.kind, occ.key, occ.channel, at)
            return TickReport()
        outcome = await self._deliver(delivery, now)
        return TickReport(
            posted=int(outcome in {"posted", "late"}),
            late=int(outcome == "late"),
            failed=int(outcome == "failed"),
            recovered=int(outcome == "recovered"),
        )

    # ---- steps -------------------------------------------------------------------------------
    def _record_skipped(self, skipped: Sequence[Occurrence], now: dt.datetime) -> int:
        count = 0
        for occ in skipped:
            if self.store.record_skipped(occ, now=now, reason=SKIP_REASON):
                count += 1
                logger.warning(
                    "skipped %s %s for %s due at %s: %s (now %s)",
                    occ.kind,
                    occ.key,
                    occ.channel,
                    occ.at.isoformat(),
                    SKIP_REASON,
                    now.isoformat(),
                )
        return count

    def _claim_all(self, wanted: Sequence[tuple[Occurrence, bool]], now: dt.datetime) -> list[Delivery]:
        claimed = []
        for occ, late in wanted:
            delivery = self.store.claim(occ, now=now, owner=self.owner, lease=self.lease, late=late)
            if delivery is not None:
                claimed.append(delivery)
        return claimed

    async def _deliver(self, delivery: Delivery, now: dt.datetime) -> Outcome:
        """Post one claimed delivery and record the outcome; never raises."""
        try:
            if delivery.reclaimed or delivery.attempts > 0:
                # An earlier attempt may have reached Slack before the log heard of it.
                found = await self._find_posted(delivery)
                if found is not None:
                    await asyncio.to_thread(self.store.mark_sent, delivery.id, ts=found, now=now, owner=self.owner)
                    logger.info("delivery %s %s: already posted as %s, recorded", delivery.id, delivery.key, found)
                    return "recovered"
            message = self.render(delivery.to_occurrence(), now)

            async def still_ours() -> bool:
                # Pacing may have kept this post waiting past the lease taken at the tick's start.
                return await asyncio.to_thread(
                    self.store.renew, delivery.id, owner=self.owner, now=self.clock(), lease=self.lease
                )

            ts = await self.poster.post(delivery.channel, message, metadata=_metadata(delivery), before_send=still_ours)
        except LeaseLost as exc:
            logger.warning("delivery %s %s: %s", delivery.id, delivery.key, exc)
            return "lost-lease"
        except DeliveryError as exc:
            logger.warning("delivery %s %s to %s failed: %s", delivery.id, delivery.key, delivery.channel, exc)
            await self._fail(delivery, now, exc)
            return "failed"
        except Exception as exc:
            logger.exception("delivery %s %s to %s: unexpected error", delivery.id, delivery.key, delivery.channel)
            await self._fail(delivery, now, exc)
            return "failed"
        try:
            await asyncio.to_thread(self.store.mark_sent, delivery.id, ts=ts, now=now, owner=self.owner)
        except Exception:
            # The post carries its delivery id: once the lease runs out, a retry finds it, not reposts.
            logger.exception("delivery %s posted as %s but not recorded", delivery.id, ts)
        return "late" if delivery.late else "posted"

    async def _find_posted(self, delivery: Delivery) -> str | None:
        since = delivery.scheduled_at - _FIND_MARGIN
        try:
            return await self.poster.find_posted(delivery.channel, delivery.id, since=since)
        except DeliveryError as exc:
            if getattr(exc, "error", None) not in _CANNOT_LOOK:
                raise
            # Waiting would not help: posting risks a rare double, not posting loses it for good.
            logger.error(
                "delivery %s: cannot look in %s for an earlier post (%s); posting without checking",
                delivery.id,
                delivery.channel,
                exc,
            )
            return None

    async def _fail(self, delivery: Delivery, now: dt.datetime, exc: BaseException) -> None:
        retry_at = now + self.backoff(delivery.attempts, retry_after=getattr(exc, "retry_after", None))
        error = f"{type(exc).__name__}: {exc}"
        try:
            await asyncio.to_thread(
                self.store.mark_failed, delivery.id, error=error, now=now, retry_at=retry_at, owner=self.owner
            )
        except Exception:
            # The row stays pending under our lease; claim_retries takes it again when the lease ends.
            logger.exception("delivery %s: could not record the failure", delivery.id)

    def backoff(self, attempts: int, *, retry_after: float | None = None) -> dt.timedelta:
        """The wait before attempt `attempts + 1`: 30 s doubling up to 30 min, at least what Slack asked."""
        delay = min(self.retry_backoff * (1 << min(attempts, 20)), self.retry_max)
        if retry_after is not None:
            delay = max(delay, dt.timedelta(seconds=retry_after))
        return delay


def _metadata(delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": delivery.id,
        "kind": delivery.kind,
        "key": delivery.key,
        "scheduled_at": delivery.scheduled_at.isoformat(),
    }
