"""FollowupService: the schedule, commitments and delivery log behind `serve`, admin commands and buttons."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit.log import AuditLog
from bot.audit.models import SYSTEM, AuditAction, Change, Surface
from bot.blocks import build_message
from bot.errors import ConfigError, DeliveryError
from bot.export.csv import build_followups_csv, export_filename
from bot.export.timezone import user_timezone
from bot.export.upload import UploadFailed, send_file_by_dm
from bot.library import Library
from bot.library.loader import load_library
from bot.library.owner import LibraryOwner
from bot.locale import LocaleCache
from bot.messages import msg
from bot.release.gazetteer import load_gazetteer
from bot.release.models import Lang, Release
from bot.schedule import changes, due
from bot.schedule.changes import ReloadResult
from bot.schedule.connect import guard_for
from bot.schedule.content import (
    ACTION_DONE,
    ACTION_REOPEN,
    ACTION_TAKE,
    SNOOZE_ACTIONS,
    Action,
    build_digest_reply,
    build_reminder_reply,
    build_reopened_reply,
    build_resolved_reply,
    format_when,
    mention,
    snooze_until,
)
from bot.schedule.deliverer import Deliverer, Posting, TickReport
from bot.schedule.effective import effective
from bot.schedule.models import Commitment, CommitmentsFile, ScheduleFile, load_schedule
from bot.schedule.notices import AdminNotices
from bot.schedule.occurrence import CommitmentState, Occurrence, StateKey, states_by_commitment
from bot.schedule.owners import Owners, is_user_id
from bot.schedule.store import Delivery, Store
from bot.schedule.usergroups import UserGroupMembers
from bot.settings import Settings
from bot.text import escape, log_safe

logger = logging.getLogger(__name__)

# What `/g7 admin reopen` found: reopened, not done (nothing to undo), done in the data file, no such commitment.
ReopenOutcome = Literal["reopened", "not_done", "file_done", "unknown"]
# What "I'll take it" found: assigned to the presser now, theirs already, somebody else's, done, no such commitment.
TakeOutcome = Literal["assigned", "yours", "taken", "done", "unknown"]
# What `/g7 admin due` found: the date set, the same already, the override dropped, none to drop, no such commitment.
DueOutcome = Literal["set", "unchanged", "cleared", "not_set", "unknown"]
# A change a posted reminder is rewritten for, as a press of that button leaves it ("due": `/g7 admin due`).
Rewrite = Literal["done", "snooze", "reopen", "take", "due"]
# After a change, at most this many of the commitment's reminders are rewritten: the latest in each channel or DM.
REWRITE_LIMIT = 20


@dataclass(frozen=True)
class DueChange:
    """The outcome of `/g7 admin due`, with the commitment as it stood before and as it stands after."""

    outcome: DueOutcome
    before: Commitment | None = None
    after: Commitment | None = None


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
    # Every release's follow-ups (the library's, each with its release_id), as one file.
    commitments: CommitmentsFile


def load_files(
    settings: Settings, library: Library, *, on_bad_schedule: Callable[[ConfigError], None] | None = None
) -> Loaded:
    """Load the schedule, and take every release's commitments from `library`; ConfigError names file and field.

    With `on_bad_schedule` (answers only: `ask`, the console), a bad schedule is reported through it
    and nothing is scheduled, since answering needs the release and commitments but not the schedule.
    """
    # Validated file by file by the library loader (ids unique across it); the per-file limit is not the library's.
    commitments = CommitmentsFile.model_construct(commitments=list(library.commitments))
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
    # The library: what every render reads (its current snapshot); a reload swaps it.
    library: LibraryOwner
    loaded: Loaded
    owner: str = field(default_factory=instance_id)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    _ticked: bool = False
    # When the last tick started (the scheduler's clock): readiness reports a scheduler that stopped ticking.
    last_tick: dt.datetime | None = None
    _current: asyncio.Task[Any] | None = None
    _states_cache: tuple[dt.datetime, Mapping[str, CommitmentState]] | None = None
    # Told after a follow-up changed (with the user whose Home tab changed it, if one did): the Home tabs
    # re-publish (bot.listeners.events).
    on_change: list[Callable[[str | None], Awaitable[None]]] = field(default_factory=list)

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
            lang_of=self.lang_of_user,
        )
        # The members of user groups whose reminders are DMed (usergroups.users.list), read before each tick.
        self.usergroup_members = UserGroupMembers(getattr(self.poster, "usergroup_members", None))
        # Each person's language (users.info include_locale), for reminder DMs; the commands' cache too (Runtime).
        self.locales = LocaleCache(ttl=self.settings.locale_cache_seconds)

    async def lang_of_user(self, user_id: str) -> Lang | None:
        """A person's language from their Slack locale (users.info, cached), for the reminders DMed to them; None
        when unknown (no Slack, a failed look-up, a locale of neither language): the reminder setting's lang."""
        client = getattr(self.poster, "client", None)
        return await self.locales.lang_for(user_id, client if isinstance(client, AsyncWebClient) else None)

    async def _message_lang(self, posted: Delivery) -> Lang | None:
        """The language to rewrite reminder `posted` in: for a DM, its person's (as it was rendered); else None."""
        return await self.lang_of_user(posted.channel) if is_user_id(posted.channel) else None

    def _allows_external(self, delivery: Delivery) -> bool:
        # Asked at each post: the schedule in force, after any reload.
        return self.loaded.schedule.allows_external(delivery.key)

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
        return (commitment.release_id or self.library.current.default.id, commitment.id)

    def release(self) -> Release:
        """The release commands read when none is selected (the library's default)."""
        return self.library.current.default.release

    def release_of(self, commitment: Commitment) -> Release:
        """The release `commitment` belongs to, in the current library (the default one if it names none)."""
        library = self.library.current
        entry = library.get(commitment.release_id) if commitment.release_id is not None else None
        return (entry or library.default).release

    def owners_of(self, commitment: Commitment) -> Owners | None:
        """The people of `commitment`'s desk (data/owners.yml, in the current library), None if nobody is named."""
        return self.library.current.owners.owners_of_desk(self.release_of(commitment), commitment.owner_desk)

    def _recipients(self, commitment: Commitment) -> tuple[str, ...] | None:
        """Who gets `commitment`'s reminders by DM: its owners when they say `notify: dm` (the members of their
        user groups as last read), else None: the channel. Nobody known to DM is the channel too."""
        owners = self.owners_of(commitment)
        if owners is None or owners.notify != "dm":
            return None
        return owners.recipients(self.usergroup_members.members) or None

    def _reminder_channel(self, occ: Occurrence, commitment: Commitment) -> str:
        """The channel whose calendar a reminder follows: its own, or for a DM the channel it would have gone to."""
        if not is_user_id(occ.channel):
            return occ.channel
        return commitment.channel or self.loaded.schedule.reminder_channel or occ.channel

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
        return due.occurrences(
            self.loaded.schedule, self.loaded.commitments, self.states(), start, end, recipients=self._recipients
        )

    def _plan(self, occurrences: list[Occurrence], now: dt.datetime) -> due.Plan:
        return due.plan(occurrences, now, grace=self.grace)

    def render(self, occ: Occurrence, now: dt.datetime) -> dict[str, Any]:
        """The Slack message for one occurrence, built from the data as it is at `now`."""
        tz = ZoneInfo(occ.timezone)
        states = self._states_at(now)
        if occ.kind == "digest":
            digest = next((d for d in self.loaded.schedule.digests if d.id == occ.digest_id), None)
            lookahead = digest.lookahead_days if digest else 14
            recent = digest.recent_days if digest else 7
            items = due.digest_items(
                self.loaded.commitments, states, now, tz=tz, lookahead_days=lookahead, recent_days=recent
            )
            # Each commitment is shown (and cited) with its own release.
            label = self.loaded.schedule.digest_label(digest)
            taken = {cid: s.assignee for cid, s in states.items() if s.assignee}
            reply = build_digest_reply(
                items,
                lang=occ.lang,
                now=now,
                tz=tz,
                release=self.release_of,
                label=label,
                owners=self.owners_of,
                assignees=taken,
            )
            return build_message(reply)
        commitment = self.loaded.commitments.get(occ.commitment_id or "")
        if commitment is None:
            raise LookupError(f"commitment {occ.commitment_id!r} is no longer in the data")
        reply = build_reminder_reply(
            commitment,
            occ,
            lang=occ.lang,
            release=self.release_of(commitment),
            state=states.get(commitment.id),
            calendar=self.loaded.schedule.channel_calendar(self._reminder_channel(occ, commitment)),
            owners=self.owners_of(commitment),
        )
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
            try:
                await self.usergroup_members.refresh(self.library.current.owners.usergroups(notify="dm"), now=now)
            except Exception:
                # A bug reading the user groups must not stop the posts: their last known members are DMed.
                logger.exception("could not read the members of the owners' user groups")
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
        return due.next_runs(
            self.loaded.schedule, self.loaded.commitments, self.states(), now, limit=limit, recipients=self._recipients
        )

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

    def request_digest(
        self, channel: str | None, now: dt.datetime, *, actor: str = SYSTEM, surface: Surface = "cli"
    ) -> list[str]:
        occurrences = self.digest_occurrences(channel, now)
        for occ in occurrences:
            self.spawn(self.deliverer.post_now(occ, now))
        channels = [o.channel for o in occurrences]
        change = Change(actor=actor, surface=surface, action="digest_now")
        self.audit.record(change, at=now, after={"channels": channels, "keys": [o.key for o in occurrences]})
        return channels

    def reload(
        self,
        *,
        confirm: bool = False,
        actor: str = SYSTEM,
        surface: Surface = "cli",
        now: dt.datetime | None = None,
    ) -> ReloadResult:
        """`_reload`, and its audit entry (applied, held for confirmation, or refused, with what it found)."""
        result = self._reload(confirm=confirm)
        found = result.changes
        after = {
            "applied": result.applied,
            "confirm": confirm,
            "added": [list(item) for item in found.added],
            "removed": [list(item) for item in found.removed],
            "changed": [list(item) for item in found.changed],
            "problems": list(result.problems),
        }
        change = Change(actor=actor, surface=surface, action="reload")
        self.audit.record(change, at=now or self.clock(), after=after)
        return result

    def _reload(self, *, confirm: bool = False) -> ReloadResult:
        """Reload release, commitments and schedule together, validated as at start-up.

        On error the old data keeps serving. A reload that would remove a digest, a reminder channel,
        a commitment or a desk's owners (as a file cut short at a line boundary does) applies nothing unless
        `confirm`.
        """
        try:
            library = load_library(self.settings, gazetteer=load_gazetteer(self.settings.gazetteer_file))
            loaded = load_files(self.settings, library)
        except ConfigError as exc:
            logger.warning("reload refused, keeping the previous data:\n%s", exc.describe())
            return ReloadResult(problems=tuple(exc.describe().splitlines()))
        found = changes.diff(
            old_schedule=self.loaded.schedule,
            old_commitments=self.loaded.commitments,
            new_schedule=loaded.schedule,
            new_commitments=loaded.commitments,
            old_owners=self.library.current.owners,
            new_owners=library.owners,
        )
        if found.removes and not confirm:
            logger.warning(
                "reload held until confirmed: it would remove %s",
                ", ".join(f"{kind} {key}" for kind, key in found.removed),
            )
            return ReloadResult(changes=found)
        # Only now, with every file valid, swap them all: requests already running keep the snapshot they took.
        self.library.swap(library)
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
        """Done / Snooze / Reopen / "I'll take it": update the commitment's state, then the reminder (chat.update).

        Only a reminder the delivery log says the bot posted, for that commitment, in that channel, is
        acted on: the message to rewrite is never taken on trust from the payload. A press that would
        change nothing (Done on a done commitment, Snooze while snoozed) changes nothing, not even the message.
        """
        commitment = self.loaded.commitments.get(commitment_id)
        if commitment is None:
            logger.warning("button for unknown commitment %s ignored", log_safe(commitment_id))
            return
        if action_id not in {ACTION_DONE, ACTION_REOPEN, ACTION_TAKE} and action_id not in SNOOZE_ACTIONS:
            logger.warning("unknown follow-up action %s ignored", log_safe(action_id))
            return
        posted = await asyncio.to_thread(
            self._posted_reminder,
            commitment_id,
            release_id=self._state_key(commitment)[0],
            channel=channel,
            ts=ts,
            user_id=user_id,
        )
        if posted is None or posted.message_ts is None:
            logger.warning(
                "button for %s on message %s in %s ignored: the delivery log has no such reminder",
                log_safe(commitment_id),
                log_safe(ts),
                log_safe(channel),
            )
            return
        # A DM reminder is logged under its user: chat.update takes the DM channel the press came from.
        channel, ts = (channel if is_user_id(posted.channel) else posted.channel), posted.message_ts
        # Whose zone, calendar and language: the channel's, or for a DM the channel it would have gone to.
        where = self._reminder_channel(posted.to_occurrence(), commitment)
        release_id = self._state_key(commitment)[0]
        if action_id == ACTION_REOPEN:
            await self._reopen_pressed(commitment, posted, user_id=user_id, now=now, channel=channel)
            return
        if action_id == ACTION_TAKE:
            await self._take_pressed(commitment, posted, user_id=user_id, now=now, channel=channel)
            return
        state = await asyncio.to_thread(self.store.state, commitment_id, release_id=release_id)
        action: Action
        if action_id == ACTION_DONE:
            if state.status == "done":
                logger.info("Done on %s ignored: already done", commitment_id)
                return
            if not await asyncio.to_thread(
                self.store.set_done,
                commitment_id,
                release_id=release_id,
                by=user_id,
                now=now,
                audit=self._change("done", user_id, "button", commitment),
            ):
                logger.info("Done on %s ignored: another press got there first", commitment_id)
                return
            action, when = "done", now
            self.changed()
        else:
            if state.status == "done" or (state.snoozed_until is not None and state.snoozed_until > now):
                logger.info("Snooze on %s ignored: already done or snoozed", commitment_id)
                return
            when = snooze_until(
                action_id,
                now,
                commitment=commitment,
                tz=self.loaded.schedule.channel_timezone(where),
                calendar=self.loaded.schedule.channel_calendar(where),
            )
            if not await asyncio.to_thread(
                self.store.snooze,
                commitment_id,
                release_id=release_id,
                until=when,
                by=user_id,
                now=now,
                audit=self._change("snooze", user_id, "button", commitment),
            ):
                logger.info("Snooze on %s ignored: another press got there first", commitment_id)
                return
            action = "snooze"
            self.changed()
        # The date in force; Done and Snooze do not change it.
        lang = await self._message_lang(posted)
        message = self._pressed_message(
            commitment, posted, action=action, user_id=user_id, when=when, state=state, lang=lang
        )
        await self.poster.update(channel, ts, message)
        await self._rewrite_reminders(commitment, action=action, user_id=user_id, when=when, skip=posted.id)

    def _pressed_message(
        self,
        commitment: Commitment,
        posted: Delivery,
        *,
        action: Rewrite,
        user_id: str,
        when: dt.datetime,
        state: CommitmentState | None,
        lang: Lang | None = None,
    ) -> dict[str, Any]:
        """Reminder `posted` as a press of `action` by `user_id` leaves it, wherever the change was made.

        `when`: the moment of the press, or for a snooze the time it snoozes until. `state`: the commitment's
        (after the change, for a reminder with its buttons). In the language it was posted in unless `lang` is
        given, and the zone and calendar of its channel (for a DM, of the channel it would have gone to)."""
        occ = posted.to_occurrence()
        where = self._reminder_channel(occ, commitment)
        lang = lang or occ.lang
        calendar = self.loaded.schedule.channel_calendar(where)
        release, owners = self.release_of(commitment), self.owners_of(commitment)
        if action in ("done", "snooze"):
            reply = build_resolved_reply(
                effective(commitment, state),
                action="done" if action == "done" else "snooze",
                user_id=user_id,
                lang=lang,
                release=release,
                when=when,
                tz=self.loaded.schedule.channel_timezone(where),
                calendar=calendar,
                owners=owners,
            )
            return build_message(reply)
        reply = build_reminder_reply(
            commitment, occ, lang=lang, release=release, state=state, calendar=calendar, owners=owners
        )
        if action == "reopen":
            tz = ZoneInfo(occ.timezone)
            reply = build_reopened_reply(reply, user_id=user_id, lang=lang, when=when, tz=tz)
        return build_message(reply)

    async def _rewrite_reminders(
        self,
        commitment: Commitment,
        *,
        action: Rewrite,
        user_id: str,
        when: dt.datetime,
        skip: int | None = None,
    ) -> int:
        """After a change (from the Home tab, an admin command, or a press on another message): rewrite the
        latest posted reminder of `commitment` in each channel and DM (at most REWRITE_LIMIT) as a press there
        would have, so none keeps buttons that no longer apply. `skip`: the delivery the press was on, already
        rewritten. Slack's refusals (message_not_found, cant_update_message, channel_not_found …) are logged,
        never raised. How many were rewritten."""
        release_id = self._state_key(commitment)[0]
        try:
            posted = await asyncio.to_thread(
                self.store.latest_reminders, commitment.id, release_id=release_id, limit=REWRITE_LIMIT
            )
            state = await asyncio.to_thread(self.store.state, commitment.id, release_id=release_id)
        except Exception:
            logger.exception("could not read the reminders of %s to rewrite them", commitment.id)
            return 0
        if action == "due" and (
            state.status == "done" or (state.snoozed_until is not None and state.snoozed_until > when)
        ):
            return 0  # the messages say who did it and when; a date change leaves them as they are
        user = user_id.removeprefix("admin:")  # an admin command's actor (bot.audit.models.admin_actor)
        rewritten = 0
        for delivery in posted:
            if delivery.id == skip or delivery.message_ts is None:
                continue
            try:
                # A DM reminder is logged under its user: its DM channel is where the message is.
                channel = await self._dm_channel(delivery.channel) if is_user_id(delivery.channel) else delivery.channel
                lang = await self._message_lang(delivery)
                message = self._pressed_message(
                    commitment, delivery, action=action, user_id=user, when=when, state=state, lang=lang
                )
                await self.poster.update(channel, delivery.message_ts, message)
            except DeliveryError as exc:
                logger.warning(
                    "reminder %s of %s in %s not rewritten after %s: %s",
                    delivery.id,
                    commitment.id,
                    log_safe(delivery.channel),
                    action,
                    exc,
                )
                continue
            except Exception:
                logger.exception("reminder %s of %s: rewriting it failed", delivery.id, commitment.id)
                continue
            rewritten += 1
        return rewritten

    async def _dm_channel(self, user: str) -> str:
        """The bot's DM channel with `user` (conversations.open; a poster without DMs, the console's, takes the id)."""
        open_dm = getattr(self.poster, "open_dm", None)
        return user if open_dm is None else str(await open_dm(user))

    def _rewrite_later(self, commitment: Commitment, *, action: Rewrite, user_id: str, when: dt.datetime) -> None:
        """`_rewrite_reminders` after the ack, when called on the event loop (an admin command); a change made in a
        worker thread is rewritten by its async caller."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.spawn(self._rewrite_reminders(commitment, action=action, user_id=user_id, when=when))

    # ---- audit and reopen --------------------------------------------------------------------
    @functools.cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.store)

    def _change(self, action: AuditAction, actor: str, surface: Surface, commitment: Commitment) -> Change:
        return Change(
            actor=actor,
            surface=surface,
            action=action,
            release_id=self._state_key(commitment)[0],
            commitment_id=commitment.id,
        )

    def reopen(self, commitment_id: str, *, actor: str, surface: Surface, now: dt.datetime) -> ReopenOutcome:
        """Undo Done (`/g7 admin reopen`): only a commitment a user marked done; the audit records it."""
        commitment = self.loaded.commitments.get(commitment_id)
        if commitment is None:
            return "unknown"
        if commitment.status == "done":
            return "file_done"  # the data file says so: no state row can undo it
        release_id = self._state_key(commitment)[0]
        if self.store.state(commitment.id, release_id=release_id).status != "done":
            return "not_done"
        change = self._change("reopen", actor, surface, commitment)
        if self.store.reopen(commitment.id, release_id=release_id, by=actor, now=now, audit=change):
            self.changed()
            self._rewrite_later(commitment, action="reopen", user_id=actor, when=now)
            return "reopened"
        return "not_done"

    async def _reopen_pressed(
        self, commitment: Commitment, posted: Delivery, *, user_id: str, now: dt.datetime, channel: str | None = None
    ) -> None:
        """The Reopen button on a reminder marked done: open it again and give the reminder its buttons back.

        `channel`: where the message is (a DM reminder's DM channel; by default the delivery's channel)."""
        outcome = await asyncio.to_thread(self.reopen, commitment.id, actor=user_id, surface="button", now=now)
        if outcome != "reopened" or posted.message_ts is None:
            logger.info("Reopen on %s ignored: %s", commitment.id, outcome)
            return
        self._states_cache = None
        self.changed()  # reopen() ran in a worker thread, where it could not
        state = await asyncio.to_thread(self.store.state, commitment.id, release_id=self._state_key(commitment)[0])
        lang = await self._message_lang(posted)
        message = self._pressed_message(
            commitment, posted, action="reopen", user_id=user_id, when=now, state=state, lang=lang
        )
        await self.poster.update(channel or posted.channel, posted.message_ts, message)
        await self._rewrite_reminders(commitment, action="reopen", user_id=user_id, when=now, skip=posted.id)

    # ---- "I'll take it" and admin dates -------------------------------------------------------
    def take(
        self, commitment_id: str, *, user_id: str, surface: Surface, now: dt.datetime
    ) -> tuple[TakeOutcome, CommitmentState | None]:
        """Assign the commitment to `user_id` (compare and set: of two presses at once one wins), audited "assign".

        Also returns the state after it, which names whoever has it (the presser, or who got there first).
        """
        commitment = self.loaded.commitments.get(commitment_id)
        if commitment is None:
            return "unknown", None
        release_id = self._state_key(commitment)[0]
        state = self.store.state(commitment.id, release_id=release_id)
        if due.effective_status(commitment, state) == "done":
            return "done", state
        won = not state.assignee and self.store.assign(
            commitment.id,
            release_id=release_id,
            assignee=user_id,
            now=now,
            audit=self._change("assign", user_id, surface, commitment),
        )
        if won:
            state = self.store.state(commitment.id, release_id=release_id)
            self._states_cache = None
            return "assigned", state
        if not state.assignee:  # lost the race just now: read who won
            state = self.store.state(commitment.id, release_id=release_id)
        return ("yours" if state.assignee == user_id else "taken"), state

    async def _take_pressed(
        self, commitment: Commitment, posted: Delivery, *, user_id: str, now: dt.datetime, channel: str
    ) -> None:
        """"I'll take it" on a reminder: the reminder then says who has it, for everyone, and offers the button no
        more. A presser who came second is told, only them (chat.postEphemeral), who has it."""
        outcome, state = await asyncio.to_thread(self.take, commitment.id, user_id=user_id, surface="button", now=now)
        lang = await self._message_lang(posted)
        if outcome == "taken" and state is not None and state.assignee:
            logger.info("take on %s refused: %s has it", commitment.id, log_safe(state.assignee))
            said = lang or posted.to_occurrence().lang
            text = msg(
                "reminder.already_taken",
                said,
                title=escape(effective(commitment, state).title(said)),
                user=mention(state.assignee),
            )
            ephemeral = getattr(self.poster, "ephemeral", None)
            if ephemeral is not None:
                await ephemeral(channel, user_id, {"text": text})
            return
        if outcome != "assigned" or posted.message_ts is None:
            logger.info("take on %s ignored: %s", commitment.id, outcome)
            return
        self.changed()  # take() ran in a worker thread, where it could not
        message = self._pressed_message(
            commitment, posted, action="take", user_id=user_id, when=now, state=state, lang=lang
        )
        await self.poster.update(channel, posted.message_ts, message)
        await self._rewrite_reminders(commitment, action="take", user_id=user_id, when=now, skip=posted.id)

    def set_due(
        self,
        commitment_id: str,
        *,
        due_on: dt.date | None,
        confirmed: bool | None,
        actor: str,
        surface: Surface,
        now: dt.datetime,
    ) -> DueChange:
        """`/g7 admin due`: the date (confirmed or assumed) on top of the data file, or with None, None the file's
        again; audited "due_confirm". Every digest, reminder, list and export after it reads the new date."""
        commitment = self.loaded.commitments.get(commitment_id)
        if commitment is None:
            return DueChange("unknown")
        release_id = self._state_key(commitment)[0]
        state = self.store.state(commitment.id, release_id=release_id)
        before = effective(commitment, state)
        clearing = due_on is None and confirmed is None
        if clearing and state.due_override is None and state.due_confirmed is None:
            return DueChange("not_set", before, before)
        changed = self.store.set_due(
            commitment.id,
            release_id=release_id,
            due=due_on,
            confirmed=confirmed,
            now=now,
            audit=self._change("due_confirm", actor, surface, commitment),
        )
        after = effective(commitment, self.store.state(commitment.id, release_id=release_id))
        if not changed:
            return DueChange("unchanged", before, after)
        self._states_cache = None
        self.changed()
        self._rewrite_later(commitment, action="due", user_id=actor, when=now)
        return DueChange("cleared" if clearing else "set", before, after)

    # ---- export ------------------------------------------------------------------------------
    def export_timezone(self) -> ZoneInfo:
        """The zone an export is written in when the requester's is unknown: the schedule's `timezone`."""
        return ZoneInfo(self.loaded.schedule.timezone)

    def followups_csv(self, tz: ZoneInfo | None = None) -> tuple[bytes, int]:
        """Every loaded follow-up as the export CSV (bot.export.csv), times in `tz` (default: the schedule's),
        and how many rows it has."""
        items = [(self.release_of(c), c) for c in self.loaded.commitments.commitments]
        return build_followups_csv(items, self.states(), tz=tz or self.export_timezone()), len(items)

    def request_export(self, *, user_id: str, lang: Lang, now: dt.datetime) -> bool:
        """Send `user_id` the CSV by DM, after the ack; False when there is no Slack to send it through (console)."""
        client = getattr(self.poster, "client", None)
        if not isinstance(client, AsyncWebClient) or not user_id:
            return False
        self.spawn(self._send_export(client, user_id=user_id, lang=lang, now=now))
        return True

    async def _send_export(self, client: AsyncWebClient, *, user_id: str, lang: Lang, now: dt.datetime) -> None:
        # The requester's own time zone (users.info): the file's name, its times and the comment read as their clock.
        tz = await user_timezone(client, user_id, fallback=self.export_timezone())
        content, count = await asyncio.to_thread(self.followups_csv, tz)
        filename = export_filename(now, tz)
        comment = msg("followups.export.comment", lang, count=count, when=format_when(now, tz, lang))
        try:
            await send_file_by_dm(
                client, user_id=user_id, filename=filename, content=content, title=filename, comment=comment
            )
        except UploadFailed as exc:
            logger.warning("export for %s failed at %s: %s", log_safe(user_id), exc.step, log_safe(exc.reason))
            # A DM by user id reaches the person even when conversations.open was what failed.
            text = msg("followups.export.failed", lang, error=f"{exc.step}: {escape(exc.reason)}")
            try:
                await client.chat_postMessage(channel=user_id, text=text)
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as again:
                logger.warning("could not tell %s that the export failed: %r", log_safe(user_id), again)

    def _posted_reminder(
        self, commitment_id: str, *, release_id: str, channel: str, ts: str, user_id: str = ""
    ) -> Delivery | None:
        """The sent reminder of `commitment_id` of `release_id` that is message `ts` in `channel`, if one was posted.

        In a DM (a D… channel) only its one other member can press: the reminder is logged under `user_id`.
        """
        if not channel or not ts:
            return None
        logged_as = user_id if channel.startswith("D") and is_user_id(user_id) else channel
        for delivery in self.store.deliveries(channel=logged_as, message_ts=ts, status="sent"):
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

    def changed(self, home_user: str | None = None) -> None:
        """A follow-up changed (from `home_user`'s Home tab, if given): run the on_change hooks after the ack.

        Only on the event loop's thread; a change made in a worker thread is told by its async caller.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        for hook in self.on_change:
            self.spawn(hook(home_user))

    async def press_in_home(self, *, action_id: str, commitment_id: str, user_id: str, now: dt.datetime) -> bool:
        """A button on the Home tab: Done, Snooze, Reopen or "I'll take it", as on a reminder, audited as app_home.

        The hooks re-publish the tab, and the latest reminder posted in each channel and DM is rewritten as a press
        there would have (`_rewrite_reminders`). True when something changed.
        """
        commitment = self.loaded.commitments.get(commitment_id)
        if commitment is None:
            logger.warning("home button for unknown commitment %s ignored", log_safe(commitment_id))
            return False
        release_id = self._state_key(commitment)[0]
        # Snooze to the next business day: in the zone and calendar of the channel its reminders go to.
        channel = commitment.channel or self.loaded.schedule.reminder_channel or ""
        rewrite: Rewrite
        when = now
        if action_id == ACTION_REOPEN:
            outcome = await asyncio.to_thread(self.reopen, commitment.id, actor=user_id, surface="app_home", now=now)
            changed, rewrite = outcome == "reopened", "reopen"
        elif action_id == ACTION_DONE:
            audit = self._change("done", user_id, "app_home", commitment)
            changed = await asyncio.to_thread(
                self.store.set_done, commitment.id, release_id=release_id, by=user_id, now=now, audit=audit
            )
            rewrite = "done"
        elif action_id in SNOOZE_ACTIONS:
            until = snooze_until(
                action_id,
                now,
                commitment=commitment,
                tz=self.loaded.schedule.channel_timezone(channel),
                calendar=self.loaded.schedule.channel_calendar(channel),
            )
            audit = self._change("snooze", user_id, "app_home", commitment)
            # The store refuses a done or still snoozed commitment (two presses at once: one wins).
            changed = await asyncio.to_thread(
                self.store.snooze, commitment.id, release_id=release_id, until=until, by=user_id, now=now, audit=audit
            )
            rewrite, when = "snooze", until
        elif action_id == ACTION_TAKE:
            taken, _ = await asyncio.to_thread(self.take, commitment.id, user_id=user_id, surface="app_home", now=now)
            changed, rewrite = taken == "assigned", "take"
        else:
            logger.warning("unknown follow-up action %s ignored", log_safe(action_id))
            return False
        if not changed:
            logger.info("home button %s on %s changed nothing", log_safe(action_id), commitment.id)
            return False
        self._states_cache = None
        self.changed(user_id)
        # The reminders posted for it say so too, as if pressed there: none keeps buttons that no longer apply.
        await self._rewrite_reminders(commitment, action=rewrite, user_id=user_id, when=when)
        return True

    def spawn(self, coro: Any) -> None:
        """Run `coro` on the running loop after the ack; keep a reference so it is not collected."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
