"""What is due, as pure functions of the schedule, the commitments, their states and `now` (no clock, no I/O).

Time zones and daylight saving time, one rule for digests and reminders alike:

* Every local time is read in the channel's IANA time zone (a digest's own, the reminder settings', or
  the schedule file's), and every Occurrence carries the resulting instant in UTC.
* A local time that happens twice (the hour repeated when clocks go back) is posted once, at its first
  occurrence (fold=0): a daily 02:30 Paris digest posts at 02:30 CEST on 2026-10-25, not again at 02:30 CET.
* A local time that does not exist (the hour skipped when clocks go forward) is posted at the first valid
  instant after it, the moment the clocks change: 02:30 Paris on 2026-03-29 posts at 03:00 CEST.
  (APScheduler's CronTrigger alone would give 03:30 CEST for "30 2 * * *" and skip the gap entirely for
  "*/30 * * * *"; we normalise what it yields so the rule above holds for every expression.)

`occurrences(start, end)` is a function of the window only: splitting a window in two yields exactly
the same occurrences, which is what lets the delivery log post each one exactly once.

Non-working days (bot.calendar: weekends, Japanese national holidays, the year-end closure, and the
channel's partner country's holidays):

* A digest follows its `on_holiday`: `post` (as if there were no calendar), `skip`, or
  `next_business_day`: the post moves to the next business day at the same local wall time. A moved post
  has that deterministic instant as its identity, and coincides with (is the same occurrence as) the
  digest's own post at that instant, if it has one, so it is posted once whatever the windows.
* A reminder whose day is a non-working day comes on the business day before it, at the same local time,
  never after. Two offsets moved onto the same instant are one reminder (the one nearer the due date).
* Past a confirmed due date, an open commitment is reminded again every business day after it at its
  remind_at ("reminder:<id>:overdue:<n>", n from 1 to the schedule's limit), until Done or Snooze; never
  past an assumed date. They are reminders of the commitment's series like the others (`series`, `plan`).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.calendar import SEARCH_DAYS, Calendar, is_business_day, next_business_day, previous_business_day
from bot.schedule.effective import effective, effective_all
from bot.schedule.models import Commitment, CommitmentsFile, Digest, ScheduleFile
from bot.schedule.occurrence import CommitmentState, Occurrence, Status

UTC = dt.UTC
Commitments = CommitmentsFile | Sequence[Commitment]


def as_list(commitments: Commitments) -> Sequence[Commitment]:
    return commitments.commitments if isinstance(commitments, CommitmentsFile) else commitments


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _as_utc(value: dt.datetime) -> dt.datetime:
    # Stored states may come back naive from SQLite; the store writes UTC, so naive means UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- local time -> instant ------------------------------------------------------------------------

LocalKind = Literal["normal", "repeated", "skipped"]


def local_kind(wall: dt.datetime, tz: ZoneInfo) -> LocalKind:
    """Whether naive local time `wall` exists once, twice (clocks went back) or not at all in `tz`."""
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return "normal"
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return "repeated" if round_trip == wall.replace(tzinfo=None, fold=0) else "skipped"


def _end_of_gap(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The first instant whose local time is after the non-existent `wall`: when the clocks jumped."""
    # fold=1 reads `wall` with the offset after the jump (an instant before it), fold=0 with the offset
    # before (an instant after it); the transition lies between. tzdata transitions fall on whole seconds.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    naive = wall.replace(tzinfo=None, fold=0)
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        if (low + dt.timedelta(seconds=mid)).astimezone(tz).replace(tzinfo=None) > naive:
            hi = mid
        else:
            lo = mid + 1
    return low + dt.timedelta(seconds=lo)


def localize(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of the naive local time `wall` in `tz`, by the module's DST rule."""
    kind = local_kind(wall, tz)
    if kind == "skipped":
        return _end_of_gap(wall, tz)
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


# --- digests --------------------------------------------------------------------------------------


def _digest_instants(
    digest: Digest, tz: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """(naive local wall time, UTC instant) with start < at <= end at which `digest`'s crontab fires,
    ascending, each once (no calendar)."""
    trigger = CronTrigger.from_crontab(digest.cron, timezone=tz)
    previous: dt.datetime | None = None
    last: dt.datetime | None = None
    now = start
    while True:
        fire: dt.datetime | None = trigger.get_next_fire_time(previous, now)
        if fire is None:
            return
        previous = now = fire
        wall = fire.replace(tzinfo=None)
        kind = local_kind(wall, tz)
        if kind == "repeated" and fire.fold == 1:
            continue  # the second pass through a repeated hour: already posted on the first
        at = _end_of_gap(wall, tz) if kind == "skipped" else fire.astimezone(UTC)
        if at > end:
            return
        if at <= start or (last is not None and at <= last):
            continue
        last = at
        yield wall, at


def _run_start(day: dt.date, calendar: Calendar) -> dt.date:
    """The first of the non-working days just before `day` (`day` itself if the day before is a business day)."""
    for _ in range(SEARCH_DAYS):
        if is_business_day(day - dt.timedelta(days=1), calendar):
            break
        day -= dt.timedelta(days=1)
    return day


def _moved_instants(
    digest: Digest, tz: ZoneInfo, calendar: Calendar, start: dt.datetime, end: dt.datetime
) -> Iterator[dt.datetime]:
    """Instants in (start, end] of a `next_business_day` digest, ascending, each once.

    A post on a non-working day moves to the next business day B at its wall time; those of a run of
    non-working days and B's own all land on B, so they are gathered per B, deduplicated and sorted.
    Fires are read from the start of the non-working run before `start`'s day, since a post from
    there may land after `start`; nothing after `end` can land before it (posts only move later).
    """
    first = _run_start(start.astimezone(tz).date(), calendar)
    scan_from = localize(dt.datetime.combine(first, dt.time()), tz) - dt.timedelta(microseconds=1)
    target: dt.date | None = None
    pending: set[dt.datetime] = set()

    def flush() -> Iterator[dt.datetime]:
        yield from (at for at in sorted(pending) if start < at <= end)
        pending.clear()

    for wall, at in _digest_instants(digest, tz, min(scan_from, start), end):
        day = wall.date()
        if target is not None and day > target:
            yield from flush()
            target = None
        if is_business_day(day, calendar):
            target = day
            pending.add(at)
        else:
            target = next_business_day(day, calendar)
            pending.add(localize(dt.datetime.combine(target, wall.time()), tz))
    yield from flush()


def digest_instants(
    schedule: ScheduleFile, digest: Digest, start: dt.datetime, end: dt.datetime
) -> Iterator[dt.datetime]:
    """UTC instants with start < at <= end at which `digest` posts, after its `on_holiday`, ascending."""
    tz = schedule.digest_timezone(digest)
    if digest.on_holiday == "next_business_day":
        yield from _moved_instants(digest, tz, schedule.digest_calendar(digest), start, end)
        return
    calendar = schedule.digest_calendar(digest)
    for wall, at in _digest_instants(digest, tz, start, end):
        if digest.on_holiday == "post" or is_business_day(wall.date(), calendar):
            yield at


def _digest_stream(
    schedule: ScheduleFile, digest: Digest, start: dt.datetime, end: dt.datetime
) -> Iterator[Occurrence]:
    tz = schedule.digest_timezone(digest)
    for at in digest_instants(schedule, digest, start, end):
        yield Occurrence(
            kind="digest",
            key=f"digest:{digest.id}",
            channel=digest.channel,
            at=at,
            lang=digest.lang,
            timezone=tz.key,
            digest_id=digest.id,
        )


# --- reminders ------------------------------------------------------------------------------------


def effective_status(commitment: Commitment, state: CommitmentState | None) -> Status:
    """Done if the data file or a user (the Done button) says so; open otherwise.

    A state row exists as soon as somebody snoozes, and it says "open" by default, so it cannot undo an
    admin's `status: done`; reopening a commitment a user marked done means setting its state to open.
    """
    if commitment.status == "done" or (state is not None and state.status == "done"):
        return "done"
    return "open"


def is_past_assumed_date(commitment: Commitment, today: dt.date) -> bool:
    """Past a date nobody confirmed: "date to confirm", never "overdue"."""
    return commitment.due_is_assumption and commitment.due < today


def next_business_day_at(now: dt.datetime, *, tz: ZoneInfo, calendar: Calendar, at: dt.time) -> dt.datetime:
    """The instant (UTC) of local time `at` on the first business day after `now`'s day in `tz`: what
    "snooze to the next business day" snoozes until (pressed on Friday evening or Saturday: Monday's)."""
    today = _aware(now, "now").astimezone(tz).date()
    return localize(dt.datetime.combine(next_business_day(today, calendar), at), tz)


def reminder_key(commitment: Commitment, offset: int) -> str:
    """`reminder:<id>:d<offset>`, without the due date, on purpose.

    A delivery's identity is (kind, key, channel, scheduled_at), and scheduled_at is the reminder's instant,
    which the due date determines. When an admin moves the date (`/g7 admin due`), each offset's instant
    moves, so the new date's reminders are new identities and post once, while the rows of those already
    sent for the old date stay as they were and are never planned again (the old instants are no longer
    produced). The date in the key would add nothing to that, and would change the key of every commitment's
    reminders at the upgrade: a reminder sent just before it, still within the deliverer's look-back, would
    be planned again under the new key and posted twice. (A reminder of the old date already claimed and
    still retrying is sent once, as logged; it is rendered when sent, so it shows the new date.)
    """
    return f"reminder:{commitment.id}:d{offset}"


def snooze_key(commitment: Commitment, until: dt.datetime) -> str:
    return f"reminder:{commitment.id}:snooze:{_as_utc(until):%Y%m%dT%H%M}"


def reminder_day(commitment: Commitment, offset: int, calendar: Calendar | None) -> dt.date:
    """The day of the reminder `offset` days before the due date: that day, or the business day before
    it in `calendar` (None: that day whatever it is)."""
    day = commitment.due - dt.timedelta(days=offset)
    return day if calendar is None else previous_business_day(day, calendar, inclusive=True)


def reminder_instant(commitment: Commitment, offset: int, *, tz: ZoneInfo, calendar: Calendar | None) -> dt.datetime:
    return localize(dt.datetime.combine(reminder_day(commitment, offset, calendar), commitment.remind_at), tz)


def overdue_key(commitment: Commitment, n: int) -> str:
    return f"reminder:{commitment.id}:overdue:{n}"


def overdue_instants(
    commitment: Commitment, state: CommitmentState | None, *, tz: ZoneInfo, calendar: Calendar, limit: int
) -> list[tuple[int, dt.datetime]]:
    """(n, instant) of the overdue re-reminders of a commitment past its confirmed due date: the first
    `limit` business days after it, at its remind_at, n counting from 1.

    None for an assumed date (never overdue), once done, or once snoozed: a Snooze is the owners'
    answer, and its own reminder comes when it ends.
    """
    commitment = effective(commitment, state)
    if commitment.due_is_assumption or limit <= 0 or effective_status(commitment, state) == "done":
        return []
    if state is not None and state.snoozed_until is not None:
        return []
    found: list[tuple[int, dt.datetime]] = []
    day = commitment.due
    for n in range(1, limit + 1):
        day = next_business_day(day, calendar)
        found.append((n, localize(dt.datetime.combine(day, commitment.remind_at), tz)))
    return found


def next_overdue_reminder(
    commitment: Commitment,
    state: CommitmentState | None,
    now: dt.datetime,
    *,
    tz: ZoneInfo,
    calendar: Calendar,
    limit: int,
) -> tuple[int, dt.datetime] | None:
    """The next overdue re-reminder after `now` (n, instant), or None when there is none left."""
    now = _aware(now, "now")
    instants = overdue_instants(commitment, state, tz=tz, calendar=calendar, limit=limit)
    return next(((n, at) for n, at in instants if at > now), None)


# Who a commitment's reminders go to by DM instead of its channel: the owners' user ids when their desk
# says `notify: dm`, None (or empty) to post in the channel. bot.schedule.service builds it from data/owners.yml.
Recipients = Callable[[Commitment], Sequence[str] | None]


def _reminders(
    schedule: ScheduleFile,
    commitment: Commitment,
    state: CommitmentState | None,
    recipients: Recipients | None = None,
) -> list[Occurrence]:
    """Every reminder of one commitment, whenever it falls (the caller filters the window).

    A commitment whose owners are told by DM has, for each reminder, one occurrence per user (its
    channel is the user id: a DM), in the reminder channel's time zone, language and calendar.
    The offsets count back from the date as it stands (an admin's, bot.schedule.effective).
    """
    commitment = effective(commitment, state)
    channel = commitment.channel or schedule.reminder_channel
    if channel is None or effective_status(commitment, state) == "done":
        return []
    # In the channel's own time zone: a reminder sent to the Paris team's channel is at 09:00 Paris.
    tz = schedule.channel_timezone(channel)
    lang = schedule.channel_lang(channel)
    to = list(dict.fromkeys(recipients(commitment) or ())) if recipients is not None else []

    def occurrences(key: str, at: dt.datetime) -> list[Occurrence]:
        return [
            Occurrence(
                kind="reminder",
                key=key,
                channel=where,
                at=at,
                lang=lang,
                timezone=tz.key,
                commitment_id=commitment.id,
                release_id=commitment.release_id,
            )
            for where in (to or [channel])
        ]

    calendar = schedule.channel_calendar(channel) if schedule.reminders_keep_business_days else None
    by_instant: dict[dt.datetime, int] = {}
    for offset in sorted(commitment.reminders, reverse=True):
        # Nearer offsets come last and win an instant two offsets were moved onto.
        by_instant[reminder_instant(commitment, offset, tz=tz, calendar=calendar)] = offset
    found = [o for at, offset in by_instant.items() for o in occurrences(reminder_key(commitment, offset), at)]
    # After the due date: every business day (whatever on_holiday says: nobody is asked on a holiday).
    overdue = overdue_instants(
        commitment, state, tz=tz, calendar=schedule.channel_calendar(channel), limit=schedule.overdue_limit
    )
    found += [o for n, at in overdue if at not in by_instant for o in occurrences(overdue_key(commitment, n), at)]
    snoozed = state.snoozed_until if state is not None else None
    if snoozed is not None:
        until = _as_utc(snoozed)
        # Up to and including `until`: a regular reminder at that very instant would post twice.
        found = [o for o in found if o.at > until]
        found += occurrences(snooze_key(commitment, until), until)
    return found


# --- the union ------------------------------------------------------------------------------------


def _sort_key(o: Occurrence) -> tuple[dt.datetime, str, str]:
    return (o.at, o.channel, o.key)


def _streams(
    schedule: ScheduleFile,
    commitments: Commitments,
    states: Mapping[str, CommitmentState],
    start: dt.datetime,
    end: dt.datetime,
    *,
    recipients: Recipients | None = None,
) -> Iterator[Occurrence]:
    """All occurrences in (start, end], ascending by (at, channel, key); lazy in the digests."""
    reminders = sorted(
        (
            o
            for c in as_list(commitments)
            for o in _reminders(schedule, c, states.get(c.id), recipients)
            if start < o.at <= end
        ),
        key=_sort_key,
    )
    digests: list[Iterable[Occurrence]] = [_digest_stream(schedule, d, start, end) for d in schedule.digests]
    return heapq.merge(reminders, *digests, key=_sort_key)


def occurrences(
    schedule: ScheduleFile,
    commitments: Commitments,
    states: Mapping[str, CommitmentState],
    start: dt.datetime,
    end: dt.datetime,
    *,
    recipients: Recipients | None = None,
) -> list[Occurrence]:
    """Every digest and reminder with start < at <= end, sorted by (at, channel, key).

    `recipients`: who gets a commitment's reminders by DM instead of in its channel (see Recipients).
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return []
    return list(_streams(schedule, commitments, states, start, end, recipients=recipients))


def next_runs(
    schedule: ScheduleFile,
    commitments: Commitments,
    states: Mapping[str, CommitmentState],
    now: dt.datetime,
    *,
    limit: int = 10,
    horizon: dt.timedelta = dt.timedelta(days=400),
    recipients: Recipients | None = None,
) -> list[Occurrence]:
    """The next `limit` occurrences after `now`, looking at most `horizon` ahead."""
    now = _aware(now, "now")
    if limit <= 0:
        return []
    found: list[Occurrence] = []
    for o in _streams(schedule, commitments, states, now, now + horizon, recipients=recipients):
        found.append(o)
        if len(found) >= limit:
            break
    return found


# --- catching up ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What to do with occurrences already due at `now`.

    `on_time` and `late` are posted; `skipped` are past the grace period; `coalesced` were missed within it
    but superseded by a later occurrence of the same digest or commitment, so they are not posted either.
    """

    on_time: list[Occurrence] = field(default_factory=list)
    late: list[Occurrence] = field(default_factory=list)
    skipped: list[Occurrence] = field(default_factory=list)
    coalesced: list[Occurrence] = field(default_factory=list)


def series(o: Occurrence) -> tuple[str, str, str]:
    """What coalescing groups by: one digest in one channel, or all the reminders of one commitment."""
    if o.kind == "reminder":
        # "reminder:<commitment id>:<label>": every offset and the snooze of one commitment are one series.
        return (o.kind, o.commitment_id or o.key.split(":")[1], o.channel)
    return (o.kind, o.digest_id or o.key, o.channel)


def plan(
    due: list[Occurrence],
    now: dt.datetime,
    *,
    grace: dt.timedelta,
    tolerance: dt.timedelta = dt.timedelta(minutes=2),
) -> Plan:
    """Sort `due` by lateness at `now`: up to `tolerance` on time, up to `grace` late, older skipped.

    Of each series (see `series`) only the latest occurrence within the grace period is posted; the
    earlier ones are coalesced. After downtime or on a fresh delivery log a digest that fell due every
    minute then posts once, not once for every minute missed, and a commitment whose 7-day and 1-day
    reminders were both missed gets only the 1-day one.

    Occurrences after `now` are not due yet and are left out. Both bounds are inclusive.
    """
    now = _aware(now, "now")
    result = Plan()
    latest: dict[tuple[str, str, str], Occurrence] = {}
    for o in sorted(due, key=_sort_key):
        if o.at > now:
            continue
        if now - o.at > grace and now - o.at > tolerance:
            result.skipped.append(o)
            continue
        superseded = latest.get(series(o))
        if superseded is not None:
            result.coalesced.append(superseded)
        latest[series(o)] = o
    for o in sorted(latest.values(), key=_sort_key):
        (result.on_time if now - o.at <= tolerance else result.late).append(o)
    result.coalesced.sort(key=_sort_key)
    return result


# --- what a digest lists ------------------------------------------------------------------------


@dataclass(frozen=True)
class DoneItem:
    commitment: Commitment
    done_on: dt.date


@dataclass(frozen=True)
class DigestItems:
    """The commitments a digest shows, by section, each sorted by date then id.

    `to_confirm` holds the open commitments past an assumed date: nobody confirmed it, so they are not
    overdue; the date is to be confirmed.
    """

    today: dt.date
    lookahead_days: int
    recent_days: int
    overdue: list[Commitment] = field(default_factory=list)
    to_confirm: list[Commitment] = field(default_factory=list)
    upcoming: list[Commitment] = field(default_factory=list)
    recently_done: list[DoneItem] = field(default_factory=list)


def done_date(commitment: Commitment, state: CommitmentState | None, tz: ZoneInfo) -> dt.date | None:
    """When it was done, in `tz`: the Done button's time if a user pressed it, else the file's done_on."""
    if state is not None and state.status == "done" and state.updated_at is not None:
        return _as_utc(state.updated_at).astimezone(tz).date()
    return commitment.done_on


def digest_items(
    commitments: Commitments,
    states: Mapping[str, CommitmentState],
    now: dt.datetime,
    *,
    tz: ZoneInfo,
    lookahead_days: int,
    recent_days: int,
) -> DigestItems:
    """Overdue (open, a confirmed date before today), to confirm (open, an assumed date before today),
    upcoming (open, due within lookahead) and recently done."""
    today = _aware(now, "now").astimezone(tz).date()
    horizon = today + dt.timedelta(days=lookahead_days)
    since = today - dt.timedelta(days=recent_days)
    items = DigestItems(today=today, lookahead_days=lookahead_days, recent_days=recent_days)
    # Each with the date as it stands (an admin's, bot.schedule.effective): the lists show that one.
    for c in sorted(effective_all(as_list(commitments), states), key=lambda c: (c.due, c.id)):
        state = states.get(c.id)
        if effective_status(c, state) == "open":
            if c.due < today:
                (items.to_confirm if c.due_is_assumption else items.overdue).append(c)
            elif c.due <= horizon:
                items.upcoming.append(c)
            continue
        day = done_date(c, state, tz)
        if day is not None and since <= day <= today:
            items.recently_done.append(DoneItem(c, day))
    items.recently_done.sort(key=lambda d: (d.done_on, d.commitment.id), reverse=True)
    return items
