"""FollowupService: the schedule, commitments and delivery log behind `serve`, admin commands and buttons."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.blocks import build_message
from bot.errors import ConfigError
from bot.release.gazetteer import Gazetteer, load_gazetteer
from bot.release.loader import load_release
from bot.release.models import Release
from bot.schedule import changes, due
from bot.schedule.changes import ReloadResult
from bot.schedule.connect import guard_for
from bot.schedule.content import (
    ACTION_DONE,
    SNOOZE,
    Action,
    build_digest_reply,
    build_reminder_reply,
    build_resolved_reply,
)
from bot.schedule.deliverer import Deliverer, Posting, TickReport
from bot.schedule.models import Commitment, CommitmentsFile, ScheduleFile, load_commitments, load_schedule
from bot.schedule.notices import AdminNotices
from bot.schedule.occurrence import CommitmentState, Occurrence, StateKey, states_by_commitment
from bot.schedule.store import Delivery, Store
from bot.settings import Settings
from bot.text import log_safe

logger = logging.getLogger(__name__)


# At start-up, occurrences this far back without a record are recorded: posted late within the grace
# period, skipped (and logged) before it. Later ticks look back a day, the deliverer's default.
DOWNTIME_LOOKBACK = dt.timedelta(days=14)


class Poster(Posting, Protocol):
    """Posting, plus chat.update for the buttons (bot.schedule.poster.Poster, or the console's)."""

    async def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None: ...


def instance_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Loaded:
    """One consistent set of files; swapped whole on reload so a bad edit never half-applies."""

    schedule: ScheduleFile
    commitments: CommitmentsFile


def load_files(
    settings: Settings, release: Release, *, on_bad_schedule: Callable[[ConfigError], None] | None = None
) -> Loaded:
    """Load and cross-check the schedule and commitments files; ConfigError names file and field.

    With `on_bad_schedule` (answers only: `ask`, the console), a bad schedule is reported through it
    and nothing is scheduled, since answering needs the release and commitments but not the schedule.
    """
    commitments = load_commitments(settings.commitments_file, release=release)
    try:
        schedule = load_schedule(settings.schedule_path)
    except ConfigError as exc:
        if on_bad_schedule is None:
            raise
        on_bad_schedule(exc)
        schedule = ScheduleFile()
    return Loaded(schedule=schedule, commitments=commitments)


@dataclass
class FollowupService:
    settings: Settings
    store: Store
    poster: Poster
    release: Callable[[], Release]
    loaded: Loaded
    set_release: Callable[[Release, Gazetteer], None] = lambda release, gazetteer: None
    owner: str = field(default_factory=instance_id)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    _ticked: bool = False
    # When the last tick started (the scheduler's clock): readiness reports a scheduler that stopped ticking.
    last_tick: dt.datetime | None = None
    _current: asyncio.Task[Any] | None = None
    _states_cache: tuple[dt.datetime, Mapping[str, CommitmentState]] | None = None

    def __post_init__(self) -> None:
        self.deliverer = Deliverer(
            self.store,
            self.poster,
            owner=self.owner,
            occurrences=self._occurrences,
            plan=self._plan,
            render=self.render,
            lease=dt.timedelta(seconds=self.settings.lease_seconds),
            settle=dt.timedelta(seconds=self.settings.settle_seconds),
            clock=self.clock,
            # Permanent failures are told to the admins by DM; Slack Connect channels are refused unless allowed.
            notices=AdminNotices(self.store, self.settings.admin_users, lang=self.settings.default_lang),
            guard=guard_for(self.poster),
            allow_external=self._allows_external,
        )

    def _allows_external(self, channel: str) -> bool:
        # Asked at each post: the schedule in force, after any reload.
        return self.loaded.schedule.allows_external(channel)

    # ---- what the followups command reads (FollowupSource) ---------------------------------
    def commitments(self) -> CommitmentsFile:
        return self.loaded.commitments

    def schedule(self) -> ScheduleFile:
        return self.loaded.schedule

    def states(self) -> Mapping[str, CommitmentState]:
        """The stored states of the loaded commitments, by commitment id (the store keys them by release too)."""
        keys = [self._state_key(c) for c in self.loaded.commitments.commitments]
        return states_by_commitment(self.store.states(), keys)

    def _state_key(self, commitment: Commitment) -> StateKey:
        """Where the store keeps `commitment`'s state: (its release, its id)."""
        return (commitment.release_id or self.release().id, commitment.id)

    def _states_at(self, now: dt.datetime) -> Mapping[str, CommitmentState]:
        """One read of the states per tick, not one per message of a fan-out."""
        if self._states_cache is None or self._states_cache[0] != now:
            self._states_cache = (now, self.states())
        return self._states_cache[1]

    @property
    def grace(self) -> dt.timedelta:
        minutes = self.loaded.schedule.grace_minutes
        return dt.timedelta(minutes=self.settings.grace_minutes if minutes is None else minutes)

    # ---- what is due -------------------------------------------------------------------------
    def _occurrences(self, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
        return due.occurrences(self.loaded.schedule, self.loaded.commitments, self.states(), start, end)

    def _plan(self, occurrences: list[Occurrence], now: dt.datetime) -> due.Plan:
        return due.plan(occurrences, now, grace=self.grace)

    def render(self, occ: Occurrence, now: dt.datetime) -> dict[str, Any]:
        """The Slack message for one occurrence, built from the data as it is at `now`."""
        release = self.release()
        tz = ZoneInfo(occ.timezone)
        states = self._states_at(now)
        if occ.kind == "digest":
            digest = next((d for d in self.loaded.schedule.digests if d.id == occ.digest_id), None)
            lookahead = digest.lookahead_days if digest else 14
            recent = digest.recent_days if digest else 7
            items = due.digest_items(
                self.loaded.commitments, states, now, tz=tz, lookahead_days=lookahead, recent_days=recent
            )
            label = self.loaded.schedule.digest_label(digest)
            reply = build_digest_reply(items, lang=occ.lang, now=now, tz=tz, release=release, label=label)
            return build_message(reply)
        commitment = self.loaded.commitments.get(occ.commitment_id or "")
        if commitment is None:
            raise LookupError(f"commitment {occ.commitment_id!r} is no longer in the data")
        reply = build_reminder_reply(commitment, occ, lang=occ.lang, release=release, state=states.get(commitment.id))
        return build_message(reply)

    @property
    def ticking(self) -> bool:
        """A tick is running now (a large fan-out keeps one busy for minutes); readiness allows for it."""
        return self._current is not None and not self._current.done()

    async def tick(self, now: dt.datetime) -> TickReport:
        """Post what is due; the first tick after a start looks back further, to log what downtime missed."""
        self.last_tick = now
        lookback = None if self._ticked else DOWNTIME_LOOKBACK
        self._current = asyncio.current_task()
        try:
            report = await self.deliverer.tick(now, lookback=lookback)
        finally:
            self._current = None
        self._ticked = True
        return report

    async def drain(self, *, timeout: float) -> None:
        """Wait up to `timeout` seconds for the tick and the command work in progress."""
        running = {t for t in (self._current, *self._tasks) if t is not None and not t.done()}
        if running:
            _, pending = await asyncio.wait(running, timeout=timeout)
            if pending:
                logger.warning(
                    "stopping with %d task(s) unfinished; their leases expire and the next start takes them over",
                    len(pending),
                )

    # ---- admin -------------------------------------------------------------------------------
    def next_runs(self, now: dt.datetime, *, limit: int) -> list[Occurrence]:
        return due.next_runs(self.loaded.schedule, self.loaded.commitments, self.states(), now, limit=limit)

    def retrying(self, *, limit: int) -> list[Delivery]:
        """Posts that need an admin's eye: failed for good or held (with the reason), or failed and retrying."""
        return self.store.problems(limit=limit)

    def digest_occurrences(self, channel: str | None, now: dt.datetime) -> list[Occurrence]:
        """Digests to post now: the configured ones (for `channel` only, if given), at `now`."""
        at = now.replace(microsecond=0)
        schedule = self.loaded.schedule
        chosen = [d for d in schedule.digests if channel is None or d.channel == channel]
        if channel is not None and not chosen:
            tz = schedule.timezone
            return [
                Occurrence(
                    kind="digest",
                    key="digest:now",
                    channel=channel,
                    at=at,
                    lang=self.settings.default_lang,
                    timezone=tz,
                )
            ]
        return [
            Occurrence(
                kind="digest",
                key=f"digest:{d.id}:now",
                channel=d.channel,
                at=at,
                lang=d.lang,
                timezone=str(schedule.digest_timezone(d)),
                digest_id=d.id,
            )
            for d in chosen
        ]

    def request_digest(self, channel: str | None, now: dt.datetime) -> list[str]:
        occurrences = self.digest_occurrences(channel, now)
        for occ in occurrences:
            self.spawn(self.deliverer.post_now(occ, now))
        return [o.channel for o in occurrences]

    def reload(self, *, confirm: bool = False) -> ReloadResult:
        """Reload release, commitments and schedule together, validated as at start-up.

        On error the old data keeps serving. A reload that would remove a digest, a reminder channel
        or a commitment (as a file cut short at a line boundary does) applies nothing unless `confirm`.
        """
        try:
            release = load_release(self.settings.release_file)
            gazetteer = load_gazetteer(self.settings.gazetteer_file)
            loaded = load_files(self.settings, release)
        except ConfigError as exc:
            logger.warning("reload refused, keeping the previous data:\n%s", exc.describe())
            return ReloadResult(problems=tuple(exc.describe().splitlines()))
        found = changes.diff(
            old_schedule=self.loaded.schedule,
            old_commitments=self.loaded.commitments,
            new_schedule=loaded.schedule,
            new_commitments=loaded.commitments,
        )
        if found.removes and not confirm:
            logger.warning(
                "reload held until confirmed: it would remove %s",
                ", ".join(f"{kind} {key}" for kind, key in found.removed),
            )
            return ReloadResult(changes=found)
        # Only now, with every file valid, swap them all.
        self.set_release(release, gazetteer)
        self.loaded = loaded
        logger.info(
            "reloaded data and schedule (%d added, %d removed, %d changed)",
            len(found.added),
            len(found.removed),
            len(found.changed),
        )
        return ReloadResult(changes=found, applied=True)

    # ---- buttons -----------------------------------------------------------------------------
    async def press(
        self, *, action_id: str, commitment_id: str, user_id: str, channel: str, ts: str, now: dt.datetime
    ) -> None:
        """Done / Snooze: update the commitment's state, then the reminder message (chat.update).

        Only a reminder the delivery log says the bot posted, for that commitment, in that channel, is
        acted on: the message to rewrite is never taken on trust from the payload. A press that would
        change nothing (Done on a done commitment, Snooze while snoozed) changes nothing, not even the message.
        """
        commitment = self.loaded.commitments.get(commitment_id)
        if commitment is None:
            logger.warning("button for unknown commitment %s ignored", log_safe(commitment_id))
            return
        if action_id != ACTION_DONE and action_id not in SNOOZE:
            logger.warning("unknown follow-up action %s ignored", log_safe(action_id))
            return
        posted = await asyncio.to_thread(
            self._posted_reminder, commitment_id, release_id=self._state_key(commitment)[0], channel=channel, ts=ts
        )
        if posted is None or posted.message_ts is None:
            logger.warning(
                "button for %s on message %s in %s ignored: the delivery log has no such reminder",
                log_safe(commitment_id),
                log_safe(ts),
                log_safe(channel),
            )
            return
        channel, ts = posted.channel, posted.message_ts
        release_id = self._state_key(commitment)[0]
        state = await asyncio.to_thread(self.store.state, commitment_id, release_id=release_id)
        action: Action
        if action_id == ACTION_DONE:
            if state.status == "done":
                logger.info("Done on %s ignored: already done", commitment_id)
                return
            if not await asyncio.to_thread(
                self.store.set_done, commitment_id, release_id=release_id, by=user_id, now=now
            ):
                logger.info("Done on %s ignored: another press got there first", commitment_id)
                return
            action, when = "done", now
        else:
            if state.status == "done" or (state.snoozed_until is not None and state.snoozed_until > now):
                logger.info("Snooze on %s ignored: already done or snoozed", commitment_id)
                return
            when = now + SNOOZE[action_id]
            if not await asyncio.to_thread(
                self.store.snooze, commitment_id, release_id=release_id, until=when, by=user_id, now=now
            ):
                logger.info("Snooze on %s ignored: another press got there first", commitment_id)
                return
            action = "snooze"
        lang = self.loaded.schedule.channel_lang(channel)
        tz = self.loaded.schedule.channel_timezone(channel)
        reply = build_resolved_reply(
            commitment, action=action, user_id=user_id, lang=lang, release=self.release(), when=when, tz=tz
        )
        await self.poster.update(channel, ts, build_message(reply))

    def _posted_reminder(self, commitment_id: str, *, release_id: str, channel: str, ts: str) -> Delivery | None:
        """The sent reminder of `commitment_id` of `release_id` that is message `ts` in `channel`, if one was posted."""
        if not channel or not ts:
            return None
        for delivery in self.store.deliveries(channel=channel, message_ts=ts, status="sent"):
            occ = delivery.to_occurrence()
            ours = occ.commitment_id == commitment_id or delivery.key.startswith(f"reminder:{commitment_id}:")
            # A row logged before the database knew releases has none; v0003 gives it one, this allows for both.
            if delivery.kind == "reminder" and ours and delivery.release_id in (None, release_id):
                return delivery
        return None

    async def settle(self) -> None:
        """Wait for work started by commands (digest-now), e.g. before a one-shot `ask` exits."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def spawn(self, coro: Any) -> None:
        """Run `coro` on the running loop after the ack; keep a reference so it is not collected."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
