"""Models of a release's commitments.yml and data/schedule.yml, their loaders and the check against the release."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.calendar import Calendar, check_country
from bot.datafiles import load_yaml_model
from bot.errors import ConfigError
from bot.release.models import ID_MAX, LIST_MAX, Day, Label, Lang, Release, Text
from bot.schedule.occurrence import Status

_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_SLUG_MAX = 48
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{8,}$")
_CRON_EXAMPLE = '"0 9 * * MON"'
# A week: longer catch-up windows are mistakes, and infinity would overflow the date arithmetic.
GRACE_MAX_MINUTES = 7 * 24 * 60
# An empty file is refused rather than read as "nothing scheduled": a file cut short or saved blank
# looks exactly like this, and serving it would silently stop every post. `digests: []` says it on purpose.
_EMPTY = "the file is empty (only comments or blank lines): expected {keys}"


def _slug(value: str) -> str:
    if not _SLUG.match(value) or len(value) > _SLUG_MAX:
        raise ValueError(
            f"expected a short id of lower-case letters, digits and single hyphens such as "
            f'"fr-presidency" (at most {_SLUG_MAX} characters), got {value!r}'
        )
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f'expected a Slack channel id such as "C0123456789" (not a #name), got {value!r}')
    return value


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError says what was expected."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f'expected an IANA time zone such as "Asia/Tokyo" or "Europe/Paris", got {name!r}') from None


def _time_zone(value: str) -> str:
    zone(value)
    return value


# A digest's classification label (「取扱注意」, "Internal use only"): one short line, shown first.
CLASSIFICATION_MAX = 60


def _classification(value: str) -> str:
    value = value.strip()
    if not value or len(value) > CLASSIFICATION_MAX or any(not ch.isprintable() for ch in value):
        raise ValueError(
            f"expected one line of 1 to {CLASSIFICATION_MAX} characters such as 取扱注意 or "
            f'"Internal use only", got {value!r} ({len(value)} characters)'
        )
    return value


Slug = Annotated[str, AfterValidator(_slug)]
ClassificationLabel = Annotated[str, AfterValidator(_classification)]
ChannelId = Annotated[str, AfterValidator(_channel)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
# A partner country whose public holidays a channel also keeps (bot.calendar), e.g. "FR".
CountryCode = Annotated[str, AfterValidator(check_country)]


def validate_crontab(expr: str) -> str:
    """A 5-field crontab APScheduler 3 reads the way cron does; ValueError says what was expected.

    Two places where APScheduler 3 and cron disagree are refused rather than silently misread:
    numeric days of the week (APScheduler counts Monday as 0, cron counts Sunday as 0), and
    restricting both the day of the month and the day of the week (cron fires when either
    matches, APScheduler only when both do).
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected a 5-field crontab such as {_CRON_EXAMPLE} "
            f"(minute hour day-of-month month day-of-week), got {len(fields)} field(s) in {expr!r}"
        )
    day_of_month, day_of_week = fields[2], fields[4]
    if any(ch.isdigit() for ch in day_of_week):
        raise ValueError(
            f"expected day names such as MON or MON-FRI in the day-of-week field, got {day_of_week!r} "
            "(numbers are ambiguous: cron counts Sunday as 0, APScheduler Monday)"
        )
    if day_of_month not in {"*", "?"} and day_of_week not in {"*", "?"}:
        raise ValueError(
            f"expected either a day of the month or a day of the week, not both, in {expr!r} "
            "(cron fires when either matches, APScheduler only when both do)"
        )
    try:
        trigger = CronTrigger.from_crontab(" ".join(fields), timezone=dt.UTC)
    except ValueError as exc:
        raise ValueError(f"expected a 5-field crontab such as {_CRON_EXAMPLE}: {exc}") from None
    # APScheduler accepts dates that do not exist (30 February): such a digest would silently never post.
    if trigger.get_next_fire_time(None, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) is None:
        raise ValueError(f"expected a crontab that fires at some time, {expr!r} names a day that never comes")
    return " ".join(fields)


def _require_unique(ids: list[str], what: str) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"expected unique {what}, got {', '.join(duplicates)} more than once")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- data/releases/<id>/commitments.yml -----------------------------------------------------------

SourceKind = Literal["bilateral", "outcome", "meeting"]


class Source(_Model):
    """Where a commitment comes from: a bilateral meeting, an adopted outcome, or the meeting itself."""

    kind: SourceKind
    ref: str = Field(min_length=1, max_length=ID_MAX, description='bilateral id, outcome id, or "meeting"')

    @model_validator(mode="after")
    def _meeting_ref(self) -> Source:
        if self.kind == "meeting" and self.ref != "meeting":
            raise ValueError(f"expected ref: meeting when kind is meeting, got {self.ref!r}")
        return self


DEFAULT_REMINDERS = (30, 7, 1, 0)
REMINDER_MAX_DAYS = 366
# A digest lists every open commitment: beyond this many it would no longer fit one Slack message.
COMMITMENTS_MAX = 100


class Commitment(_Model):
    """One follow-up the release implies: what, from where, whose, and by when (often an assumption)."""

    id: Slug
    title: Label
    # What the release says (ja verbatim from it, en a faithful translation), kept apart from what
    # the team plans to do about it, which the release does not say.
    detail: Text
    planned_action: Text | None = None
    source: Source
    owner_desk: str = Field(min_length=1, max_length=ID_MAX)
    due: Day
    window_start: Day | None = None
    due_is_assumption: bool
    assumption_note: Text | None = None
    status: Status = "open"
    done_on: Day | None = None
    reminders: list[int] = Field(default_factory=lambda: list(DEFAULT_REMINDERS), max_length=LIST_MAX)
    remind_at: dt.time = dt.time(9, 0)
    channel: ChannelId | None = None
    # The release this follow-up belongs to: set by the library loader from the release folder it is in
    # (a file need not name it; one that names another release is an error).
    release_id: str | None = Field(None, min_length=1, max_length=ID_MAX)

    @field_validator("reminders")
    @classmethod
    def _offsets(cls, value: list[int]) -> list[int]:
        if any(days < 0 or days > REMINDER_MAX_DAYS for days in value):
            raise ValueError(f"expected days before the due date, each from 0 to {REMINDER_MAX_DAYS}, got {value}")
        if len(set(value)) != len(value):
            raise ValueError(f"expected each offset once, got {value}")
        return value

    @field_validator("remind_at", mode="before")
    @classmethod
    def _quoted_time(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 10:30 as the base-60 number 630; pydantic would take it as seconds.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f'expected a quoted local time such as "09:00", got the number {value}')
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Commitment:
        if self.due_is_assumption and self.assumption_note is None:
            raise ValueError("expected an assumption_note saying why the date was chosen when due_is_assumption")
        if self.status == "done" and self.done_on is None:
            raise ValueError("expected done_on (the date it was done) when status is done")
        if self.status == "open" and self.done_on is not None:
            raise ValueError("expected no done_on while status is open")
        if self.window_start is not None and self.window_start > self.due:
            raise ValueError(f"expected window_start ({self.window_start}) on or before due ({self.due})")
        if self.remind_at.tzinfo is not None:
            raise ValueError('expected a local time without an offset, such as "09:00"')
        return self


class CommitmentsFile(_Model):
    """A release's commitments.yml (data/releases/<id>/): the curated follow-ups."""

    commitments: list[Commitment] = Field(default_factory=list, max_length=COMMITMENTS_MAX)

    @field_validator("commitments")
    @classmethod
    def _unique_ids(cls, value: list[Commitment]) -> list[Commitment]:
        _require_unique([c.id for c in value], "ids")
        return value

    def get(self, commitment_id: str) -> Commitment | None:
        return next((c for c in self.commitments if c.id == commitment_id), None)


def check_against_release(file: CommitmentsFile, release: Release) -> list[tuple[str, str]]:
    """(field, reason) for every source ref or owner desk the release does not have."""
    known = {
        "bilateral": [b.id for b in release.bilaterals],
        "outcome": [o.id for o in release.outcomes],
        "meeting": ["meeting"],
    }
    desks = [d.id for d in release.desks]
    problems: list[tuple[str, str]] = []
    for index, c in enumerate(file.commitments):
        where = f"commitments.{index}"
        ids = known[c.source.kind]
        if c.source.ref not in ids:
            problems.append(
                (
                    f"{where}.source.ref",
                    f"unknown {c.source.kind} {c.source.ref!r}; expected one of {', '.join(ids)}",
                )
            )
        if c.owner_desk not in desks:
            problems.append(
                (f"{where}.owner_desk", f"unknown desk {c.owner_desk!r}; expected one of {', '.join(desks)}")
            )
    return problems


def load_commitments(path: Path, *, release: Release | None = None) -> CommitmentsFile:
    """Load a release's commitments.yml; with `release`, also check every reference against it."""
    file = load_yaml_model(path, CommitmentsFile, empty=_EMPTY.format(keys="commitments"))
    if release is not None:
        problems = check_against_release(file, release)
        if problems:
            raise ConfigError(path, problems)
    return file


# --- data/schedule.yml ----------------------------------------------------------------------------


# What a digest does when its crontab falls on a non-working day (bot.calendar): post it anyway, skip it,
# or post it on the next business day at the same local time (once, even if it also fires that day).
OnHoliday = Literal["skip", "next_business_day", "post"]


class Digest(_Model):
    """A channel digest of open, overdue and recently done follow-ups, posted on a crontab."""

    id: Slug
    channel: ChannelId
    cron: str
    timezone: TimeZoneName | None = None
    lang: Lang = "ja"
    lookahead_days: int = Field(14, ge=0, le=366)
    recent_days: int = Field(7, ge=0, le=366)
    on_holiday: OnHoliday = "next_business_day"
    partner_calendar: CountryCode | None = None
    # The first line of the digest (overrides the schedule's `label`).
    label: ClassificationLabel | None = None
    # Post even if the channel is shared with another organisation (Slack Connect); refused otherwise.
    allow_external: bool = False

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        return validate_crontab(value)


DEFAULT_OVERDUE_LIMIT = 3
OVERDUE_LIMIT_MAX = 60


class ReminderSettings(_Model):
    """Where and how commitment reminders are posted (a commitment's own `channel` wins)."""

    channel: ChannelId
    timezone: TimeZoneName | None = None
    lang: Lang = "ja"
    # A reminder whose day is a non-working day comes on the business day before it (never after);
    # `post` keeps it on its day, for a team that works every day.
    on_holiday: Literal["previous_business_day", "post"] = "previous_business_day"
    partner_calendar: CountryCode | None = None
    # Post reminders even if the channel is shared with another organisation (Slack Connect).
    allow_external: bool = False
    # A confirmed (not assumed) date passed and still open: reminded again every business day at its
    # remind_at, at most this many times, until Done or Snooze; 0: never.
    overdue_every_business_day_limit: int = Field(DEFAULT_OVERDUE_LIMIT, ge=0, le=OVERDUE_LIMIT_MAX)


class ScheduleFile(_Model):
    """data/schedule.yml: the digests, the reminder channel and their time zones."""

    timezone: TimeZoneName = "Asia/Tokyo"
    digests: list[Digest] = Field(default_factory=list, max_length=100)
    reminders: ReminderSettings | None = None
    grace_minutes: float | None = Field(
        None, ge=0, le=GRACE_MAX_MINUTES, description="overrides G7BOT_GRACE_MINUTES when set"
    )
    # The classification label every digest opens with, unless it sets its own.
    label: ClassificationLabel | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_digest_ids(cls, data: Any) -> Any:
        # A digest without an id gets "digest-<n>" (1-based); the shipped file names every one.
        if isinstance(data, dict) and isinstance(data.get("digests"), list):
            digests = [
                {"id": f"digest-{n}", **d} if isinstance(d, dict) and "id" not in d else d
                for n, d in enumerate(data["digests"], start=1)
            ]
            data = {**data, "digests": digests}
        return data

    @field_validator("digests")
    @classmethod
    def _unique_ids(cls, value: list[Digest]) -> list[Digest]:
        _require_unique([d.id for d in value], "digest ids")
        return value

    def digest_label(self, digest: Digest | None) -> str | None:
        """The classification label a digest opens with: its own, else the schedule's `label`."""
        own = digest.label if digest is not None else None
        return own or self.label

    def allows_external(self, key: str) -> bool:
        """The post `key` may go to a channel shared with another organisation: its own setting says so.

        A digest ("digest:<id>", "digest:<id>:now") follows its own `allow_external`, a reminder
        ("reminder:...") the reminders'; allowing one digest into a channel lets no other post through.
        """
        kind, _, rest = key.partition(":")
        if kind == "digest":
            digest_id = rest.split(":", 1)[0]
            return any(d.id == digest_id and d.allow_external for d in self.digests)
        if kind == "reminder":
            return self.reminders is not None and self.reminders.allow_external
        return False

    def digest_timezone(self, digest: Digest) -> ZoneInfo:
        return zone(digest.timezone or self.timezone)

    def reminder_timezone(self) -> ZoneInfo:
        own = self.reminders.timezone if self.reminders is not None else None
        return zone(own or self.timezone)

    def channel_timezone(self, channel: str) -> ZoneInfo:
        """A channel's time zone: the reminders channel's, else that of a digest posted there."""
        if self.reminders is not None and self.reminders.channel == channel:
            return self.reminder_timezone()
        digest = next((d for d in self.digests if d.channel == channel), None)
        return self.digest_timezone(digest) if digest is not None else self.reminder_timezone()

    def digest_calendar(self, digest: Digest) -> Calendar:
        return Calendar(partner=digest.partner_calendar)

    def channel_calendar(self, channel: str) -> Calendar:
        """A channel's business days: Japan's, and its partner country's, found the same way as its time zone."""
        if self.reminders is not None and self.reminders.channel == channel:
            return Calendar(partner=self.reminders.partner_calendar)
        digest = next((d for d in self.digests if d.channel == channel), None)
        if digest is not None:
            return self.digest_calendar(digest)
        return Calendar(partner=self.reminders.partner_calendar if self.reminders is not None else None)

    @property
    def reminders_keep_business_days(self) -> bool:
        return self.reminders is None or self.reminders.on_holiday == "previous_business_day"

    def channel_lang(self, channel: str) -> Lang:
        """A channel's language, found the same way as its time zone."""
        if self.reminders is not None and self.reminders.channel == channel:
            return self.reminders.lang
        digest = next((d for d in self.digests if d.channel == channel), None)
        return digest.lang if digest is not None else self.reminder_lang

    @property
    def overdue_limit(self) -> int:
        """How many overdue re-reminders a commitment gets (one a business day after its due date)."""
        return self.reminders.overdue_every_business_day_limit if self.reminders is not None else DEFAULT_OVERDUE_LIMIT

    @property
    def reminder_lang(self) -> Lang:
        return self.reminders.lang if self.reminders is not None else "ja"

    @property
    def reminder_channel(self) -> str | None:
        return self.reminders.channel if self.reminders is not None else None


def load_schedule(path: Path) -> ScheduleFile:
    """Load data/schedule.yml (or G7BOT_SCHEDULE); raises ConfigError naming the file and field."""
    return load_yaml_model(path, ScheduleFile, empty=_EMPTY.format(keys="timezone, digests and reminders"))


# The example channel ids the shipped data/schedule.yml and its release's commitments.yml use: posting to them
# fails (channel_not_found) or, worse, reaches some unrelated channel that happens to have that id.
PLACEHOLDER_CHANNELS = frozenset({"C0123456789", "C0123456790"})


def placeholder_channels(schedule: ScheduleFile | None, commitments: CommitmentsFile | None) -> list[tuple[str, str]]:
    """(field, channel) for every channel that is still one of the shipped examples."""
    found: list[tuple[str, str]] = []
    if schedule is not None:
        found += [(f"digests.{i}.channel", d.channel) for i, d in enumerate(schedule.digests)]
        if schedule.reminders is not None:
            found.append(("reminders.channel", schedule.reminders.channel))
    if commitments is not None:
        found += [(f"commitments.{i}.channel", c.channel) for i, c in enumerate(commitments.commitments) if c.channel]
    return [(field, channel) for field, channel in found if channel in PLACEHOLDER_CHANNELS]
