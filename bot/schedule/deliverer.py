"""One scheduler tick: find what is due, claim it in the delivery log, post it exactly once, record the outcome.

The delivery protocol
=====================

Slack's chat.postMessage has no idempotency key: once a request has gone out, only its answer or the
channel's history can tell whether it was posted. Every step below exists so that no instance ever
sends a post that may already be in Slack without first having read the history and not found it.

Claim. A row of the delivery log (unique per kind, key, channel and scheduled time) is claimed by
inserting it, or by taking over a pending row whose retry time has come and whose lease has expired
(or is the claimer's own: after a database error an instance resumes its own claims at once; the
rows its tasks still work on are excluded from these retries, and a second digest-now of the same
second, which may take one, moves the epoch and so fences the first off). Every claim sets
`lease_owner` and adds one to `lease_epoch`. The owner and the epoch together are the fencing
token: a takeover changes the epoch, so a holder that slept through it (frozen, starved, or cut off
from the database) holds a stale token, whatever its clock says.

Lease. The lease only keeps the others from claiming while its holder works; it does not decide who
may send, the fence does. It is renewed from the holder's clock while it waits (a heartbeat every
third of the lease), and again by the fence right before each send. Every wait a holder makes after
its last fence is bounded: the client's timeout for the send, and nothing else.

Post. Right before each send, the first and each retry after a 429, the poster calls the fence: one
UPDATE that succeeds only if the row is still pending, owned by us and at our epoch. It renews the
lease, sets `send_started_at` (from now on the post may be in Slack) and `next_attempt_at` =
now + settle, so that nobody, this instance included, can claim the row again before Slack has had
`settle` to show the post in its history. The send must follow the fence within a few seconds by
the process's monotonic clock, checked again as aiohttp is about to write the request body (after the
connection was made); otherwise (the process was frozen or starved in between) the request is
aborted before Slack has a whole request. Then:
- Slack answers ok: the row is marked sent with the message ts. A post is a fact, so this is
  recorded even if the lease was lost meanwhile.
- Slack answers, in its own JSON, with an error code that means "not posted" (ok:false, a 429;
  an answer without Slack's error code proves nothing and is an unknown outcome): a permanent error
  (`not_in_channel`, `channel_not_found`, `token_revoked`, ...) ends the row as `failed` with the
  reason and one ERROR line saying what to fix; any other is retried with backoff, no sooner than
  Slack's Retry-After (counted from the clock when the answer came, not from the tick's start).
  Retrying forgets the send (clears `send_started_at`): the answer proved this send absent, and any
  earlier one was proved absent by the history before this claim sent. A 429 asking for a short
  wait is retried by the poster in the same claim, through the pacer and through the fence again.
- The outcome is unknown: any failure to get Slack's answer except failing to connect (a timeout, a
  connection dropped after the request went out, an answer cut short), an answer that is not Slack's
  JSON (a proxy's page), a 5xx or `fatal_error`/`internal_error` (Slack documents that part of the
  work may be done), or any unexpected error while the post may be in Slack: after a fence passed in
  this claim, or before an earlier send was resolved (recording a post found in the history failed,
  say). The row is released with `send_started_at` kept and `next_attempt_at` = now + settle (so at
  least settle after the send began). Nothing is re-sent in this claim.

Unknown outcome. A claimed row with `send_started_at` set is resolved before anything else: the
channel's history since the scheduled time is read (by the delivery id in the message metadata). By
then at least `settle` has passed since the last send began, as `next_attempt_at` guarantees.
- Found: the row is marked sent with that ts ("recovered"); nothing is sent.
- Every message since then was read, none carries the delivery id, and none is the bot's own without
  its metadata: the post did not land, and it is sent again, through the fence as above. (A message
  of the bot's without metadata means Slack dropped it, so absence proves nothing: held, below.)
- The history could not be read (rate limited, 5xx, timeout): the row is released and looked for
  again later, with backoff and no sooner than Retry-After. After `max_checks` such failures (for
  this send: each fence starts the count afresh), or at once when reading cannot work (no history
  scope; more pages than the search reads; the bot's own messages without metadata), the row is
  `held`: not re-sent, logged at ERROR and listed by `admin schedule`, for a person to look.

Takeover. Another instance may take a row over only after its lease expired and its
`next_attempt_at` passed, and it treats it exactly as above: with `send_started_at` set, it looks
before sending. A holder frozen past its lease that wakes up fails its next fence (the epoch moved)
and sends nothing; its marks are fenced too, except mark_sent, which records a fact. Its heartbeat
stops at the first failed renewal.

Why a second post cannot happen. A send is made only after a successful fence. A fence succeeds only
for the latest claim's epoch, so two holders can never both pass it for one claim; a later claim of
the same row is possible only after next_attempt_at (fence + settle), and then it reads the history
before sending, since `send_started_at` is cleared only by Slack's own answer that this send was not
posted (or by a history that proved it absent). So a second send happens only if the first post is
not in the history `settle` after its fence, which requires Slack to take longer than `settle` to
show a post it accepted, or a process frozen in the instants between its fence's freshness check and
the request leaving it. The first is a setting: `settle` (G7BOT_SETTLE_SECONDS, 60 s) must exceed
the client timeout and Slack's delay in showing a post (the deliverer warns when it does not exceed
the timeout). The second is the few instructions between the body-write check and the socket write,
which no client can close without an idempotency key from Slack. What is neither sent nor proved
absent is held, never guessed.

Clocks. The epoch needs no clock, but `lease_until` and `next_attempt_at` are written from the
writer's clock and compared with the reader's, and the history search starts from our clock's
scheduled time in Slack's. So the argument assumes (as NTP gives, to milliseconds):
- instances' clocks agree within `settle` minus the client timeout and Slack's delay in showing a
  post (about 45 s with the defaults): an instance whose clock runs that far ahead of the holder's
  could take a row over and read the history before the holder's post shows there;
- each instance's clock is at most `_FIND_MARGIN` (1 min) ahead of Slack's, or a post made right at
  its scheduled time would fall before the start of the history search.
A clock ahead by more than the lease only lets others take over rows not yet sent, which the fence
makes harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from bot.errors import DeliveryError, LeaseLost
from bot.release.models import Lang
from bot.schedule.connect import EXTERNAL_CHANNEL, EXTERNAL_REASON, SharedChannelGuard
from bot.schedule.notices import NOTICE_KIND, TOKEN_ERRORS, AdminNotices
from bot.schedule.occurrence import Occurrence
from bot.schedule.owners import is_user_id
from bot.schedule.poster import HISTORY_TRUNCATED, HISTORY_UNMARKED, OutcomeUnknown
from bot.schedule.store import Delivery, Store

logger = logging.getLogger(__name__)

Outcome = Literal[
    "posted", "late", "recovered", "failed", "lost-lease", "unknown", "unchecked", "held", "external", "paused"
]
SKIP_REASON = "past the grace period"
COALESCED_REASON = "coalesced"
# find_posted looks this far before the scheduled time, for clocks that disagree a little.
_FIND_MARGIN = dt.timedelta(minutes=1)
# conversations.history errors that no retry cures: the app lacks channels:history / groups:history,
# or the channel has more messages since the post than one search reads, or the bot's own posts there
# come back without their metadata.
_CANNOT_LOOK = frozenset(
    {"missing_scope", "no_permission", "not_allowed_token_type", HISTORY_TRUNCATED, HISTORY_UNMARKED}
)

_REINSTALL = "the bot token no longer works: reinstall the app to the workspace and set SLACK_BOT_TOKEN"
_FORMAT = "Slack refused the message itself: a bug in g7bot, report it with this line"
# Slack errors that no retry cures, and what an admin can do about each.
PERMANENT_ERRORS: Mapping[str, str] = {
    "not_in_channel": "invite the bot to the channel (/invite @g7bot)",
    "channel_not_found": "check the channel id in data/schedule.yml; a private channel needs the bot invited",
    "is_archived": "unarchive the channel, or change it in data/schedule.yml",
    "restricted_action": "a workspace or channel setting forbids the bot to post there: ask a Slack admin",
    "restricted_action_read_only_channel": "the channel is read-only for the bot: ask a Slack admin",
    "restricted_action_thread_only_channel": "the channel only takes thread replies: choose another channel",
    "restricted_action_non_threadable_channel": "the channel does not take the bot's posts: choose another",
    "team_access_not_granted": "the bot is not allowed in this channel's workspace: ask a Slack admin",
    "ekm_access_denied": "the workspace's key management denies access: ask a Slack admin",
    "msg_too_long": "the message exceeds Slack's limit: shorten the data it shows",
    "too_many_attachments": _FORMAT,
    "invalid_blocks": _FORMAT,
    "invalid_blocks_format": _FORMAT,
    "invalid_metadata_format": _FORMAT,
    "invalid_metadata_schema": _FORMAT,
    "metadata_too_large": _FORMAT,
    "no_text": _FORMAT,
    "invalid_arguments": _FORMAT,
    "missing_scope": "give the app the chat:write scope and reinstall it",
    "not_authed": _REINSTALL,
    "invalid_auth": _REINSTALL,
    "token_revoked": _REINSTALL,
    "token_expired": _REINSTALL,
    "account_inactive": _REINSTALL,
    "no_permission": "the bot token lacks a permission: reinstall the app with the manifest's scopes",
    "not_allowed_token_type": "SLACK_BOT_TOKEN must be a bot token (xoxb-...)",
    # conversations.open, for a DM to a desk's owner (data/owners.yml, notify: dm) or an admin.
    "user_not_found": "no such Slack user: check the user id in data/owners.yml (or G7BOT_ADMIN_USERS)",
    "user_disabled": "the user's account is deactivated: take them out of data/owners.yml",
    "user_not_visible": "the bot may not see this user (a guest, another workspace): check data/owners.yml",
    "cannot_dm_bot": "the id is a bot's, which cannot be sent a DM: check data/owners.yml",
}


def is_direct(delivery: Delivery) -> bool:
    """A delivery to a person, by DM: an admin notice, or a reminder whose channel is its owner's user id."""
    return delivery.kind == NOTICE_KIND or (delivery.kind == "reminder" and is_user_id(delivery.channel))


class PlanLike(Protocol):
    """What plan() returns: the due occurrences sorted into on time, late (still posted) and skipped.

    `coalesced`: missed occurrences superseded by a later one of the same digest or commitment; they
    are recorded as skipped, reason "coalesced" (read with getattr, so a plan without it still works).
    """

    @property
    def on_time(self) -> Sequence[Occurrence]: ...

    @property
    def late(self) -> Sequence[Occurrence]: ...

    @property
    def skipped(self) -> Sequence[Occurrence]: ...

    @property
    def coalesced(self) -> Sequence[Occurrence]: ...


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
    `recovered` were found already posted (after a crash or a lost answer) and only recorded;
    `unknown` were sent without knowing whether they landed (looked for later); `held` could not be
    resolved and wait for a person; `failed` includes Slack's permanent refusals; `skipped` includes posts
    refused for an externally shared channel; `paused` were not attempted because Slack refuses the token."""

    posted: int = 0
    late: int = 0
    skipped: int = 0
    failed: int = 0
    recovered: int = 0
    unknown: int = 0
    held: int = 0
    paused: int = 0


class _Paused(Exception):
    """Raised by the fence instead of sending: Slack refuses the bot token, nothing is attempted."""


class Deliverer:
    """Ties the pure "what is due" functions to the delivery log and the poster (protocol: module docstring)."""

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
        settle: dt.timedelta = dt.timedelta(seconds=60),
        max_checks: int = 5,
        lookback: dt.timedelta = dt.timedelta(days=1),
        retry_backoff: dt.timedelta = dt.timedelta(seconds=30),
        retry_max: dt.timedelta = dt.timedelta(minutes=30),
        retry_batch: int = 100,
        claim_batch: int = 20,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        notices: AdminNotices | None = None,
        guard: SharedChannelGuard | None = None,
        allow_external: Callable[[Delivery], bool] = lambda delivery: False,
        token_probe: dt.timedelta = dt.timedelta(minutes=5),
        lang_of: Callable[[str], Awaitable[Lang | None]] | None = None,
    ):
        self.store = store
        # The language of the person a reminder DM goes to (their Slack locale), None for the occurrence's own.
        self.lang_of = lang_of
        self.poster = poster
        self.owner = owner
        self.occurrences = occurrences
        self.plan = plan
        self.render = render
        self.lease = lease
        self.settle = settle
        self.max_checks = max(1, max_checks)
        self.lookback = lookback
        self.retry_backoff = retry_backoff
        self.retry_max = retry_max
        self.retry_batch = retry_batch
        self.claim_batch = max(1, claim_batch)
        # For the fence, the heartbeat and unknown outcomes: what is due uses the tick's `now`.
        self.clock = clock
        # Delivery ids this process is working on: never claimed again by it while it does. Every claim
        # and its registration here happen under _claiming, so claim_retries (which may take our own
        # rows) never sees a row we claimed but have not registered yet.
        self._inflight: set[int] = set()
        self._claiming = asyncio.Lock()
        # Admin DMs about permanent failures (None: only the log and `admin schedule` tell), the Slack
        # Connect guard (None: no check) and which posts the schedule lets go to an externally shared channel
        # (their own digest's or the reminders' allow_external, not any setting of the same channel).
        self.notices = notices
        self.guard = guard
        self.allow_external = allow_external
        self.notices_sent = 0
        # Notice identities this process claimed: a second failure in the same channel does not claim
        # (and so fence off) the notice the first is still sending.
        self._noticed: set[tuple[str, str, str, dt.datetime]] = set()
        # Slack refused the token (invalid_auth, token_revoked, ...): nothing is attempted until
        # `token_probe` later auth.test says it works again. (error, when to look again)
        self.token_probe = token_probe
        self._refused_token: tuple[str, dt.datetime] | None = None
        timeout = getattr(getattr(poster, "client", None), "timeout", None)
        if isinstance(timeout, int | float) and min(settle.total_seconds(), lease.total_seconds()) <= timeout:
            # Not fatal (the fence still decides who sends), but a lost answer could then be looked for
            # before Slack shows the post, and a lease could run out during one request.
            logger.warning(
                "the settle delay (%s s) and the lease (%s s) should both exceed the Slack client timeout (%s s)",
                settle.total_seconds(),
                lease.total_seconds(),
                timeout,
            )

    async def tick(self, now: dt.datetime, *, lookback: dt.timedelta | None = None) -> TickReport:
        """Post what fell due in (now - lookback, now] and is not in the log yet, and retry what failed.

        While Slack refuses the bot token nothing is claimed: what falls due meanwhile is planned (late
        or skipped) once it works again.
        """
        if not await self._token_works(now):
            return TickReport()
        start = now - (self.lookback if lookback is None else lookback)
        known = await asyncio.to_thread(self.store.known, start)
        due: dict[tuple[str, str, str, dt.datetime], Occurrence] = {}
        for occ in self.occurrences(start, now):
            if start < occ.at <= now and occ.identity not in known:
                due.setdefault(occ.identity, occ)
        planned = self.plan(list(due.values()), now)

        skipped = await asyncio.to_thread(self._record_skipped, planned.skipped, now, SKIP_REASON)
        coalesced: Sequence[Occurrence] = getattr(planned, "coalesced", ())
        skipped += await asyncio.to_thread(self._record_skipped, coalesced, now, COALESCED_REASON)
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
                    self._inflight.add(d.id)
                    tasks.append(asyncio.create_task(self._deliver(d, now)))

        try:
            for first in range(0, len(wanted), self.claim_batch):
                if self._refused_token is not None:
                    break
                batch = wanted[first : first + self.claim_batch]
                async with self._claiming:
                    launch(await asyncio.to_thread(self._claim_all, batch, now))
            async with self._claiming:
                retries: list[Delivery] = []
                if self._refused_token is None:
                    retries = await asyncio.to_thread(
                        self.store.claim_retries,
                        now=now,
                        owner=self.owner,
                        lease=self.lease,
                        limit=self.retry_batch,
                        exclude=frozenset(self._inflight),
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
        report = _report(outcomes, skipped=skipped)
        if tasks or skipped:
            logger.info("tick %s by %s: %s", now.isoformat(), self.owner, report)
        return report

    async def post_now(self, occ: Occurrence, now: dt.datetime) -> TickReport:
        """An admin's "digest now": post `occ` as due at `now` (to the second), at most once."""
        at = now.astimezone(dt.UTC).replace(microsecond=0)
        occ = occ.model_copy(update={"at": at})
        async with self._claiming:
            delivery = await asyncio.to_thread(
                self.store.claim, occ, now=now, owner=self.owner, lease=self.lease, late=False
            )
            if delivery is None:
                logger.info("post_now %s %s for %s at %s: already claimed", occ.kind, occ.key, occ.channel, at)
                return TickReport()
            self._inflight.add(delivery.id)
        return _report([await self._deliver(delivery, now)], skipped=0)

    # ---- steps -------------------------------------------------------------------------------
    def _record_skipped(self, skipped: Sequence[Occurrence], now: dt.datetime, reason: str) -> int:
        count = 0
        for occ in skipped:
            if self.store.record_skipped(occ, now=now, reason=reason):
                count += 1
                # Coalesced ones are the plan working as meant; past-grace ones are worth a warning.
                level = logging.INFO if reason == COALESCED_REASON else logging.WARNING
                logger.log(
                    level,
                    "skipped %s %s for %s due at %s: %s (now %s)",
                    occ.kind,
                    occ.key,
                    occ.channel,
                    occ.at.isoformat(),
                    reason,
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
        """Resolve, post and record one claimed delivery (registered in _inflight), renewing its lease; never raises."""
        heartbeat = asyncio.create_task(self._heartbeat(delivery))
        try:
            return await self._deliver_claimed(delivery, now)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            self._inflight.discard(delivery.id)

    async def _heartbeat(self, delivery: Delivery) -> None:
        """Renew the lease every third of it while the delivery is worked on; stop once it is not ours."""
        interval = max(0.05, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                ours = await asyncio.to_thread(
                    self.store.renew,
                    delivery.id,
                    owner=self.owner,
                    now=self.clock(),
                    lease=self.lease,
                    epoch=delivery.lease_epoch,
                )
            except Exception as exc:
                # The fence, not the lease, decides who sends: a missed renewal only lets others claim sooner.
                logger.warning("delivery %s: lease not renewed (%s)", delivery.id, type(exc).__name__)
                continue
            if not ours:
                return

    async def _deliver_claimed(self, delivery: Delivery, now: dt.datetime) -> Outcome:
        # The post may be in Slack (an earlier send not yet looked for, or a fence passed in this claim):
        # while it is, an unexplained failure is an unknown outcome, never a retry that forgets the send.
        maybe_posted = delivery.outcome_unknown
        if self._refused_token is not None:
            return await self._pause(delivery, now, maybe_posted=maybe_posted)
        try:
            channel = delivery.channel
            if is_direct(delivery):
                # A notice, or a reminder to an owner (notify: dm), goes to the user's DM channel: where it is
                # sent and looked for.
                try:
                    channel = await self._dm(delivery.channel)
                except DeliveryError as exc:
                    if not maybe_posted:
                        raise
                    # An earlier DM may be there and cannot be looked for: released, like a failed look.
                    return await self._look_failed(delivery, now, exc)
            if maybe_posted:
                resolved = await self._resolve(delivery, now, channel=channel)
                if resolved is not None:
                    return resolved
                maybe_posted = False
            if not is_direct(delivery) and await self._external(delivery, now):
                return await self._refuse_external(delivery, now)
            message = await self._render(delivery, now)

            async def fence() -> bool:
                nonlocal maybe_posted
                if self._refused_token is not None:
                    # Another post of this tick found the token refused: this one is not attempted.
                    raise _Paused(self._refused_token[0])
                ours = await asyncio.to_thread(
                    self.store.begin_send,
                    delivery.id,
                    owner=self.owner,
                    epoch=delivery.lease_epoch,
                    now=self.clock(),
                    lease=self.lease,
                    settle=self.settle,
                )
                maybe_posted = maybe_posted or ours
                return ours

            ts = await self.poster.post(channel, message, metadata=_metadata(delivery), before_send=fence)
        except _Paused:
            # Raised before the fence: every earlier send of this claim was answered "not posted".
            return await self._pause(delivery, now, maybe_posted=False)
        except LeaseLost as exc:
            logger.warning("delivery %s %s: %s", delivery.id, delivery.key, exc)
            return "lost-lease"
        except OutcomeUnknown as exc:
            logger.warning(
                "delivery %s %s to %s: %s; not sent again before Slack's history is read",
                delivery.id,
                delivery.key,
                delivery.channel,
                exc,
            )
            return await self._unknown(delivery, now, f"unknown outcome: {exc}")
        except DeliveryError as exc:
            error = getattr(exc, "error", None)
            if isinstance(error, str) and error in PERMANENT_ERRORS:
                return await self._give_up(delivery, now, error, hint=getattr(exc, "hint", None))
            logger.warning("delivery %s %s to %s failed: %s", delivery.id, delivery.key, delivery.channel, exc)
            await self._fail(delivery, now, exc)
            return "failed"
        except Exception as exc:
            logger.exception("delivery %s %s to %s: unexpected error", delivery.id, delivery.key, delivery.channel)
            if maybe_posted:
                # It may have failed after the request went out, or after an earlier post was found but
                # before it was recorded: look in the channel before any resend.
                return await self._unknown(delivery, now, f"unknown outcome: {type(exc).__name__}: {exc}")
            await self._fail(delivery, now, exc)
            return "failed"
        try:
            await asyncio.to_thread(self.store.mark_sent, delivery.id, ts=ts, now=now, owner=self.owner)
        except Exception:
            # The fence left send_started_at set: whoever claims it next finds the post, not reposts it.
            logger.exception("delivery %s posted as %s but not recorded", delivery.id, ts)
        return "late" if delivery.late else "posted"

    async def _resolve(self, delivery: Delivery, now: dt.datetime, *, channel: str) -> Outcome | None:
        """An earlier send may have landed: look in `channel`. None when it surely did not (send again)."""
        # A notice's identity time is when its channel last worked, maybe long ago: its row is younger.
        start = delivery.scheduled_at
        if delivery.kind == NOTICE_KIND:
            start = max(start, delivery.created_at)
        try:
            found = await self.poster.find_posted(channel, delivery.id, since=start - _FIND_MARGIN)
        except DeliveryError as exc:
            return await self._look_failed(delivery, now, exc)
        if found is None:
            logger.info(
                "delivery %s %s: not in %s's history; sending it again", delivery.id, delivery.key, delivery.channel
            )
            return None
        await asyncio.to_thread(self.store.mark_sent, delivery.id, ts=found, now=now, owner=self.owner)
        logger.info("delivery %s %s: already posted as %s, recorded", delivery.id, delivery.key, found)
        return "recovered"

    async def _look_failed(self, delivery: Delivery, now: dt.datetime, exc: DeliveryError) -> Outcome:
        """The history of an unknown outcome could not be read: held, or looked at again later."""
        error = getattr(exc, "error", None)
        if error in TOKEN_ERRORS:
            self._refuse_token(str(error))
            return await self._pause(delivery, now, maybe_posted=True)
        if error in _CANNOT_LOOK or delivery.checks + 1 >= self.max_checks:
            return await self._hold(delivery, now, f"{exc} (after {delivery.checks + 1} look(s))")
        # From the clock, not the tick's start: a long fan-out would otherwise cut Retry-After short.
        retry_at = self.clock() + self.backoff(delivery.checks, retry_after=getattr(exc, "retry_after", None))
        logger.warning(
            "delivery %s: could not look in %s for an earlier post (%s); looking again at %s",
            delivery.id,
            delivery.channel,
            exc,
            retry_at.isoformat(),
        )
        await self._record(
            self.store.mark_check_failed, delivery, error=f"history check: {exc}", now=now, retry_at=retry_at
        )
        return "unchecked"

    async def _dm(self, user: str) -> str:
        """The id of the bot's DM channel with `user` (conversations.open); DeliveryError when it cannot be opened."""
        open_dm = getattr(self.poster, "open_dm", None)
        if open_dm is None:
            return user  # a poster without DMs (the console's) takes the user id itself
        return str(await open_dm(user))

    async def _external(self, delivery: Delivery, now: dt.datetime) -> bool:
        """The Slack Connect guard: the channel is shared with another organisation and the schedule does not allow
        this post there."""
        if self.guard is None or self.allow_external(delivery):
            return False
        return await self.guard.external(delivery.channel, now=now)

    async def _render(self, delivery: Delivery, now: dt.datetime) -> Mapping[str, Any]:
        if delivery.kind == NOTICE_KIND:
            if self.notices is None:
                raise LookupError(f"notice {delivery.key} with no admins to tell")
            return await asyncio.to_thread(self.notices.render, delivery, now)
        occ = delivery.to_occurrence()
        if self.lang_of is not None and delivery.kind == "reminder" and is_direct(delivery):
            # Decided as it is rendered, not planned: the occurrence's identity and key stay as they are.
            lang = await self.lang_of(delivery.channel)
            if lang is not None:
                occ = occ.model_copy(update={"lang": lang})
        return self.render(occ, now)

    async def _refuse_external(self, delivery: Delivery, now: dt.datetime) -> Outcome:
        logger.warning(
            "delivery %s %s to %s not posted: the channel is shared with another organisation (Slack Connect) and "
            "data/schedule.yml does not allow it (allow_external: true)",
            delivery.id,
            delivery.key,
            delivery.channel,
        )
        await self._record(self.store.finish, delivery, status="skipped", reason=EXTERNAL_REASON, now=now)
        await self._notify(delivery.channel, EXTERNAL_CHANNEL, now)
        return "external"

    async def _notify(self, channel: str, error: str, now: dt.datetime) -> None:
        """Tell the admins, once per channel and error across restarts and instances (deliveries of kind notice)."""
        if self.notices is None:
            return
        try:
            occurrences = await asyncio.to_thread(self.notices.occurrences, channel, error)
            claimed: list[Delivery] = []
            async with self._claiming:
                for occ in occurrences:
                    if occ.identity in self._noticed:
                        continue
                    self._noticed.add(occ.identity)
                    notice = await asyncio.to_thread(
                        self.store.claim, occ, now=now, owner=self.owner, lease=self.lease, late=False
                    )
                    if notice is not None:
                        self._inflight.add(notice.id)
                        claimed.append(notice)
        except Exception:
            # The failure itself is recorded and logged: a notice that cannot be claimed is only logged.
            logger.exception("could not record the admin notice for %s in %s", error, channel)
            return
        outcomes = await asyncio.gather(*(self._deliver(notice, now) for notice in claimed))
        self.notices_sent += sum(o in {"posted", "late", "recovered"} for o in outcomes)

    def _refuse_token(self, error: str, *, logged: bool = False) -> None:
        """Slack refused the bot token: stop attempting posts until it works again (logged once, unless `logged`)."""
        if self._refused_token is None and not logged:
            logger.error("Slack refuses the bot token (%s)%s; to fix: %s", error, self._pause_note(), _REINSTALL)
        self._refused_token = (error, self.clock() + self.token_probe)

    def _pause_note(self) -> str:
        return (
            f": no post is attempted until it works again (auth.test every {self.token_probe}); "
            "/readyz reports the token and `/g7 admin schedule` lists the failed posts"
        )

    async def _token_works(self, now: dt.datetime) -> bool:
        """False while the token is refused; every `token_probe` auth.test is asked whether it works again."""
        if self._refused_token is None:
            return True
        error, look_at = self._refused_token
        if now < look_at:
            return False
        probe = getattr(self.poster, "token_ok", None)
        if probe is not None and not await probe():
            self._refused_token = (error, now + self.token_probe)
            logger.warning("the bot token is still refused (%s): nothing posted", error)
            return False
        logger.info("the bot token works again (it was refused: %s): posting resumes", error)
        self._refused_token = None
        return True

    async def _pause(self, delivery: Delivery, now: dt.datetime, *, maybe_posted: bool) -> Outcome:
        """Release a row untried while the token is refused: taken again once it works (a send is kept to look for)."""
        error, look_at = self._refused_token or ("token refused", self.clock() + self.token_probe)
        reason = f"not attempted: Slack refuses the bot token ({error})"
        if maybe_posted:
            await self._record(self.store.mark_unknown, delivery, error=reason, now=now, check_at=look_at)
        else:
            await self._record(self.store.mark_failed, delivery, error=reason, now=now, retry_at=look_at)
        return "paused"

    async def _unknown(self, delivery: Delivery, now: dt.datetime, error: str) -> Outcome:
        """Release a row whose post may be in Slack, keeping send_started_at: looked for, settle from now."""
        await self._record(self.store.mark_unknown, delivery, error=error, now=now, check_at=self.clock() + self.settle)
        return "unknown"

    async def _hold(self, delivery: Delivery, now: dt.datetime, reason: str) -> Outcome:
        logger.error(
            "delivery %s %s to %s held: it may have been posted and Slack's history cannot tell (%s); "
            "look in the channel, it is not sent again",
            delivery.id,
            delivery.key,
            delivery.channel,
            reason,
        )
        await self._record(self.store.finish, delivery, status="held", reason=reason, now=now)
        return "held"

    async def _give_up(self, delivery: Delivery, now: dt.datetime, error: str, *, hint: str | None = None) -> Outcome:
        hint = hint or PERMANENT_ERRORS[error]
        # The first post to meet a refused token says, in its one line, that posting stops.
        pausing = error in TOKEN_ERRORS and self._refused_token is None
        logger.error(
            "delivery %s %s to %s failed for good (%s), not retried; to fix: %s%s",
            delivery.id,
            delivery.key,
            delivery.channel,
            error,
            hint,
            self._pause_note() if pausing else "",
        )
        if error in TOKEN_ERRORS:
            # Before any await, so the posts waiting for a slot see it at their fence. No DM can be sent
            # with this token: admins learn it from /readyz and `admin schedule`.
            self._refuse_token(error, logged=True)
        await self._record(self.store.finish, delivery, status="failed", reason=f"{error}: {hint}", now=now)
        if error not in TOKEN_ERRORS and delivery.kind != NOTICE_KIND:
            await self._notify(delivery.channel, error, now)
        return "failed"

    async def _fail(self, delivery: Delivery, now: dt.datetime, exc: BaseException) -> None:
        retry_at = self.clock() + self.backoff(delivery.attempts, retry_after=getattr(exc, "retry_after", None))
        await self._record(
            self.store.mark_failed, delivery, error=f"{type(exc).__name__}: {exc}", now=now, retry_at=retry_at
        )

    async def _record(self, mark: Callable[..., bool], delivery: Delivery, **values: Any) -> None:
        """One fenced mark of the outcome; a database error leaves the row ours, resumed on the next tick."""
        try:
            await asyncio.to_thread(mark, delivery.id, owner=self.owner, epoch=delivery.lease_epoch, **values)
        except Exception:
            logger.exception("delivery %s: could not record the outcome", delivery.id)

    def backoff(self, attempts: int, *, retry_after: float | None = None) -> dt.timedelta:
        """The wait before attempt `attempts + 1`: 30 s doubling up to 30 min, at least what Slack asked."""
        delay = min(self.retry_backoff * (1 << min(attempts, 20)), self.retry_max)
        if retry_after is not None:
            delay = max(delay, dt.timedelta(seconds=retry_after))
        return delay


def _report(outcomes: Sequence[Outcome], *, skipped: int) -> TickReport:
    return TickReport(
        posted=sum(o in {"posted", "late"} for o in outcomes),
        late=outcomes.count("late"),
        skipped=skipped + outcomes.count("external"),
        failed=outcomes.count("failed"),
        recovered=outcomes.count("recovered"),
        unknown=outcomes.count("unknown"),
        held=outcomes.count("held"),
        paused=outcomes.count("paused"),
    )


def _metadata(delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": delivery.id,
        "kind": delivery.kind,
        "key": delivery.key,
        "scheduled_at": delivery.scheduled_at.isoformat(),
    }
