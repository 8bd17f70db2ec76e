"""What digests, reminders and `/g7 followups` say: pure Reply builders (Block Kit comes from bot.blocks)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Literal
from zoneinfo import ZoneInfo

from bot.calendar import JAPAN, Calendar, non_working_reason
from bot.messages import format_date, format_numbers, format_range, msg
from bot.release.citation import cite, cite_several, source_index
from bot.release.models import Lang, Release
from bot.reply import Button, Citation, Reply, Section
from bot.schedule.due import (
    Commitments,
    DigestItems,
    as_list,
    done_date,
    effective_status,
    is_past_assumed_date,
    next_business_day_at,
)
from bot.schedule.effective import effective, effective_all
from bot.schedule.models import Commitment
from bot.schedule.occurrence import CommitmentState, Occurrence
from bot.schedule.owners import Owners
from bot.text import echo, escape

ACTION_DONE = "g7_followup_done"
ACTION_SNOOZE_1D = "g7_followup_snooze_1d"
ACTION_SNOOZE_1W = "g7_followup_snooze_1w"
ACTION_SNOOZE_NEXT_BUSINESS_DAY = "g7_followup_snooze_nbd"
# On a reminder marked done: undo it (the audit keeps both).
ACTION_REOPEN = "g7_followup_reopen"
# "I'll take it": the presser becomes the commitment's assignee (one of two presses at once wins).
ACTION_TAKE = "g7_followup_take"
ACTION_IDS = (
    ACTION_DONE,
    ACTION_SNOOZE_1D,
    ACTION_SNOOZE_1W,
    ACTION_SNOOZE_NEXT_BUSINESS_DAY,
    ACTION_REOPEN,
    ACTION_TAKE,
)
SNOOZE: dict[str, dt.timedelta] = {
    ACTION_SNOOZE_1D: dt.timedelta(days=1),
    ACTION_SNOOZE_1W: dt.timedelta(weeks=1),
}
SNOOZE_ACTIONS = (*SNOOZE, ACTION_SNOOZE_NEXT_BUSINESS_DAY)
BLOCK_ID_PREFIX = "g7_followup:"

Action = Literal["done", "snooze"]

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")

# The release a commitment comes from (the library's `get(c.release_id)`), for replies spanning several releases.
ReleaseOf = Callable[[Commitment], Release]
# The owners of a commitment's desk (data/owners.yml: bot.schedule.owners), None when nobody is named for it.
OwnersOf = Callable[[Commitment], Owners | None]


def release_of(release: Release | ReleaseOf) -> ReleaseOf:
    """Every commitment's release: one release for all, or the function given."""
    if isinstance(release, Release):
        return lambda _c: release
    return release


def assumptions_note(releases: Iterable[Release], lang: Lang) -> str:
    """The footer on assumed dates, naming the file to edit: the one release's commitments.yml, else each one's."""
    ids = list(dict.fromkeys(r.id for r in releases))
    file = msg("followups.file", lang, id=escape(ids[0])) if len(ids) == 1 else msg("followups.file_each", lang)
    return msg("followups.assumptions", lang, file=file)


def _shown_releases(commitments: Iterable[Commitment], release: Release | ReleaseOf) -> list[Release]:
    """The releases a list shows: the one release given, else each listed commitment's (in order, once)."""
    if isinstance(release, Release):
        return [release]
    return list({id(r): r for r in map(release, commitments)}.values())


def _followups_title(releases: list[Release], count: int, lang: Lang) -> str:
    """`/g7 followups`' title: named by the one release shown (its meeting, else its title), else plain."""
    if len(releases) != 1:
        return msg("followups.title", lang, count=count)
    r = releases[0]
    name = r.meeting.name(lang) if r.meeting is not None else r.title(lang)
    return msg("followups.title_of", lang, name=escape(name), count=count)


def _in_release(line: str, release: Release, lang: Lang) -> str:
    """A listed commitment's line with the release it comes from (when a list spans several)."""
    published, title = format_date(release.published, lang), escape(release.title(lang))
    name = msg("search.release", lang, published=published, title=title)
    return f"{line}\n    _{msg('followups.in_release', lang, release=name)}_"


def snooze_until(
    action_id: str, now: dt.datetime, *, commitment: Commitment, tz: ZoneInfo, calendar: Calendar
) -> dt.datetime:
    """Until when a Snooze button snoozes: a day or a week from `now`, or the next business day in the
    channel's zone and calendar at the commitment's reminder time."""
    if action_id == ACTION_SNOOZE_NEXT_BUSINESS_DAY:
        return next_business_day_at(now, tz=tz, calendar=calendar, at=commitment.remind_at)
    return now + SNOOZE[action_id]


def block_id(commitment: Commitment) -> str:
    return f"{BLOCK_ID_PREFIX}{commitment.id}"


def mention(user_id: str) -> str:
    """<@U…> for a real Slack user id; anything else is shown as (escaped) text, never as markup."""
    return f"<@{user_id}>" if _SLACK_USER.match(user_id) else echo(user_id)


def _local(when: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz)


def format_when(when: dt.datetime, tz: ZoneInfo, lang: Lang) -> str:
    """A local date and time with the zone's abbreviation, e.g. 2026年12月1日(火) 09:00 JST."""
    local = _local(when, tz)
    return f"{format_date(local.date(), lang)} {local:%H:%M} {local:%Z}"


def _due_text(c: Commitment, lang: Lang) -> str:
    text = msg("followups.due", lang, date=format_date(c.due, lang))
    return f"{text} {msg('followups.assumed', lang)}" if c.due_is_assumption else text


def owner_desk_text(c: Commitment, release: Release, lang: Lang, owners: Owners | None) -> str:
    """The owner as its desk (bureau, office) and its people: the owners' @mentions, else the release's lead."""
    desk = next((d for d in release.desks if d.id == c.owner_desk), None)
    if desk is None:
        return escape(c.owner_desk)
    mentions = owners.mentions() if owners is not None else []
    people = " ".join(mentions) if mentions else escape(desk.lead(lang))
    return msg("followups.owner_people", lang, desk=escape(desk.unit(lang)), people=people)


def _line(c: Commitment, lang: Lang, release: Release, *, extra: str = "", owners: OwnersOf | None = None) -> str:
    """One commitment on one line: title, due date (assumed?), anything extra, owner desk and its people."""
    parts = [f"• *{escape(c.title(lang))}*", _due_text(c, lang)]
    if extra:
        parts.append(extra)
    if any(d.id == c.owner_desk for d in release.desks):
        owned = owners(c) if owners is not None else None
        parts.append(msg("followups.owner", lang, desk=owner_desk_text(c, release, lang, owned)))
    return " — ".join(parts)


def _overdue_line(c: Commitment, today: dt.date, lang: Lang, release: Release, owners: OwnersOf | None = None) -> str:
    extra = msg("followups.overdue_by", lang, days=(today - c.due).days)
    return _line(c, lang, release, extra=extra, owners=owners)


def _to_confirm_line(
    c: Commitment, today: dt.date, lang: Lang, release: Release, owners: OwnersOf | None = None
) -> str:
    extra = msg("followups.passed_by", lang, days=(today - c.due).days)
    return _line(c, lang, release, extra=extra, owners=owners)


def release_and_plan(c: Commitment, lang: Lang) -> list[str]:
    """What the release says and, labelled apart, what the team plans (the release never says that)."""
    lines = [f"*{msg('followups.release_says', lang)}*: {escape(c.detail(lang))}"]
    if c.planned_action is not None:
        lines.append(f"*{msg('followups.team_plan', lang)}*: {escape(c.planned_action(lang))}")
    return lines


def _with_texts(line: str, c: Commitment, lang: Lang) -> str:
    return "\n".join([line, *(f"    {text}" for text in release_and_plan(c, lang))])


def _done_line(
    c: Commitment, day: dt.date | None, lang: Lang, release: Release, owners: OwnersOf | None = None
) -> str:
    extra = msg("followups.done_on", lang, date=format_date(day, lang)) if day is not None else ""
    return _line(c, lang, release, extra=extra, owners=owners)


def _listing(heading: str, lines: list[str], empty: str) -> Section:
    return Section(text=f"*{heading}*\n" + ("\n".join(lines) if lines else empty))


def _listed_citation(commitments: list[Commitment], release: Release | ReleaseOf, lang: Lang) -> Citation | None:
    """The lines each listed commitment quotes (its detail) and its owner desk's topic, in its own release's
    text; None if none is listed."""
    of = release_of(release)
    parts: list[tuple[Release, set[int]]] = []
    for c in commitments:
        r = of(c)
        index = source_index(r)
        lines = index.quote(c.detail.ja, kind=c.source.kind, ref=c.source.ref)
        parts.append((r, set(lines | index.desk_unit.get(c.owner_desk, frozenset()))))
    return cite_several(parts, lang)


def _reminder_citation(c: Commitment, release: Release, lang: Lang) -> Citation:
    """A reminder shows the quote, how its source is named, and the owner desk (unit, lead, numbers, address)."""
    index = source_index(release)
    lines = index.quote(c.detail.ja, kind=c.source.kind, ref=c.source.ref)
    lines |= index.source_brief(c.source.kind, c.source.ref) | index.desk_contact.get(c.owner_desk, frozenset())
    return cite(release, lang, lines)


# --- digest ---------------------------------------------------------------------------------------


def build_digest_reply(
    items: DigestItems,
    *,
    lang: Lang,
    now: dt.datetime,
    tz: ZoneInfo,
    release: Release | ReleaseOf,
    label: str | None = None,
    owners: OwnersOf | None = None,
    assignees: Mapping[str, str] | None = None,
) -> Reply:
    """A channel digest: overdue, due within the lookahead, and recently done. `release`: the one release, or
    each commitment's (a digest spanning the library). `label`: the admin's classification line, shown first.
    `owners`: each commitment's people (data/owners.yml), shown with its desk. `assignees`: who took which
    (commitment id -> user id, "I'll take it"), shown on its open line."""
    today = _local(now, tz).date()
    of = release_of(release)
    taken = assignees or {}

    def open_line(line: str, c: Commitment) -> str:
        return _with_texts(_with_assignee(line, taken.get(c.id), lang), c, lang)

    # A digest is read by people who were not in the meeting: each open item carries the release's
    # words and the team's plan, labelled, so nobody takes the plan for something agreed.
    overdue = [open_line(_overdue_line(c, today, lang, of(c), owners), c) for c in items.overdue]
    to_confirm = [open_line(_to_confirm_line(c, today, lang, of(c), owners), c) for c in items.to_confirm]
    upcoming = [open_line(_line(c, lang, of(c), owners=owners), c) for c in items.upcoming]
    done = [_done_line(d.commitment, d.done_on, lang, of(d.commitment), owners) for d in items.recently_done]
    listed = [*items.overdue, *items.to_confirm, *items.upcoming, *(d.commitment for d in items.recently_done)]
    return Reply(
        title=msg("digest.title", lang, date=format_date(today, lang)),
        label=escape(label) if label else None,
        sections=[
            _listing(msg("digest.overdue", lang), overdue, msg("digest.nothing_overdue", lang)),
            _listing(msg("digest.to_confirm", lang), to_confirm, msg("digest.nothing_to_confirm", lang)),
            _listing(
                msg("digest.upcoming", lang, days=items.lookahead_days),
                upcoming,
                msg("digest.nothing_upcoming", lang),
            ),
            _listing(msg("digest.recent", lang, days=items.recent_days), done, msg("digest.nothing_done", lang)),
        ],
        footer=[assumptions_note(_shown_releases(listed, release), lang)],
        citation=_listed_citation(listed, release, lang),
    )


def listed_line(
    c: Commitment,
    *,
    section: Literal["overdue", "to_confirm", "upcoming", "done"],
    today: dt.date,
    lang: Lang,
    release: Release,
    done_on: dt.date | None = None,
    in_release: bool = False,
) -> str:
    """One commitment as a digest lists it in `section` (the Home tab's lines); `in_release`: name its release."""
    if section == "overdue":
        line = _overdue_line(c, today, lang, release)
    elif section == "to_confirm":
        line = _to_confirm_line(c, today, lang, release)
    elif section == "done":
        line = _done_line(c, done_on, lang, release)
    else:
        line = _line(c, lang, release)
    return _in_release(line, release, lang) if in_release else line


# --- reminders ------------------------------------------------------------------------------------


def source_text(commitment: Commitment, release: Release, lang: Lang) -> str:
    """Which bilateral meeting (organisation and counterpart), outcome or meeting it comes from; escaped."""
    ref = commitment.source.ref
    if commitment.source.kind == "bilateral":
        b = next((b for b in release.bilaterals if b.id == ref), None)
        if b is not None:
            return msg(
                "reminder.source_bilateral",
                lang,
                number=b.number,
                organisation=escape(b.organisation(lang)),
                person=escape(b.counterpart.named(lang)),
            )
    elif commitment.source.kind == "outcome":
        o = next((o for o in release.outcomes if o.id == ref), None)
        if o is not None:
            return escape(o.title(lang))
    elif release.meeting is not None:
        said_by = release.meeting.said_by
        who = escape(said_by(lang)) if said_by is not None else msg("reminder.japan", lang)
        return msg("reminder.source_meeting", lang, meeting=escape(release.meeting.name(lang)), who=who)
    return escape(ref)  # an unknown ref: `g7bot check` reports it; show what the file says


def _owner_text(commitment: Commitment, release: Release, lang: Lang, owners: Owners | None = None) -> str:
    """The owner desk (bureau, office, its lead), its people in Slack (data/owners.yml) and how to reach it."""
    desk = next((d for d in release.desks if d.id == commitment.owner_desk), None)
    if desk is None:
        return escape(commitment.owner_desk)
    phone = f"{msg('contact.phone', lang)} " + format_numbers(desk, lang).replace("\n", " · ")
    email = f"{msg('contact.email', lang)} {escape(desk.email)}"
    office = f"{escape(desk.unit(lang))}{msg('list.separator', lang)}{escape(desk.lead(lang))}"
    mentions = owners.mentions() if owners is not None else []
    people = [" ".join(mentions)] if mentions else []
    return "\n".join([office, *people, f"{phone} · {email}"])


def _when_due(commitment: Commitment, day: dt.date, lang: Lang) -> str:
    days = (commitment.due - day).days
    if is_past_assumed_date(commitment, day):
        return msg("reminder.to_confirm", lang, days=-days)
    if days > 1:
        return msg("reminder.due_in", lang, days=days)
    if days == 1:
        return msg("reminder.due_tomorrow", lang)
    if days == 0:
        return msg("reminder.due_today", lang)
    return msg("reminder.overdue", lang, days=-days)


def _commitment_sections(
    commitment: Commitment,
    *,
    lang: Lang,
    release: Release,
    lead: str,
    calendar: Calendar,
    owners: Owners | None = None,
) -> list[Section]:
    due = format_date(commitment.due, lang)
    if commitment.due_is_assumption:
        due = f"{due} {msg('followups.assumed', lang)}"
    reason = non_working_reason(commitment.due, calendar)
    if reason is not None:
        due = f"{due} {msg('reminder.non_working', lang, reason=escape(reason(lang)))}"
    fields = [
        f"*{msg('reminder.due', lang)}*\n{due}",
        f"*{msg('reminder.source', lang)}*\n{source_text(commitment, release, lang)}",
        f"*{msg('reminder.owner', lang)}*\n{_owner_text(commitment, release, lang, owners)}",
    ]
    if commitment.window_start is not None:
        window = format_range(commitment.window_start, commitment.due, lang)
        fields.insert(1, f"*{msg('reminder.window', lang)}*\n{window}")
    lines = [lead] if lead else []
    lines.extend(release_and_plan(commitment, lang))
    if commitment.assumption_note is not None and commitment.due_is_assumption:
        lines.append(msg("reminder.assumption", lang, note=escape(commitment.assumption_note(lang))))
    return [Section(text="\n".join(lines)), Section(fields=fields)]


def build_reminder_reply(
    commitment: Commitment,
    occurrence: Occurrence,
    *,
    lang: Lang,
    release: Release,
    state: CommitmentState | None,
    calendar: Calendar = JAPAN,
    owners: Owners | None = None,
) -> Reply:
    """A reminder before (or on) the due date, with Done / Snooze buttons carrying the commitment id.

    `owners`: the desk's people (data/owners.yml), @mentioned first and listed with the desk.

    `calendar` is the channel's: a due date on one of its non-working days is shown with a note. The date is
    the one in force (an admin's, bot.schedule.effective). "I'll take it" is offered until somebody has it;
    from then on the reminder says who, for everyone (a channel message is the same for all who see it).
    """
    commitment = effective(commitment, state)
    tz = ZoneInfo(occurrence.timezone)
    lead = _when_due(commitment, occurrence.at.astimezone(tz).date(), lang)
    if ":snooze:" in occurrence.key:
        by = state.updated_by if state is not None else None
        note = msg("reminder.snoozed_by_user", lang, user=mention(by)) if by else msg("reminder.snoozed", lang)
        lead = f"{lead} {note}"
    assignee = state.assignee if state is not None else None
    if assignee:
        lead = f"{lead}\n{taken_by(assignee, lang)}"
    mentions = owners.mentions() if owners is not None else []
    if mentions:
        lead = f"{' '.join(mentions)} {lead}"
    buttons = followup_buttons(commitment, lang=lang, done=False)
    if not assignee:
        buttons.append(take_button(commitment, lang))
    return Reply(
        title=msg("reminder.title", lang, title=escape(commitment.title(lang))),
        sections=_commitment_sections(
            commitment, lang=lang, release=release, lead=lead, calendar=calendar, owners=owners
        ),
        citation=_reminder_citation(commitment, release, lang),
        buttons=buttons,
        block_id=block_id(commitment),
    )


def take_button(commitment: Commitment, lang: Lang) -> Button:
    """"I'll take it": assigns the commitment to whoever presses it (bot.schedule.service, Store.assign)."""
    return Button(action_id=ACTION_TAKE, text=msg("reminder.button_take", lang), value=commitment.id)


def taken_by(assignee: str, lang: Lang) -> str:
    """"Taken by <@U…>", for reminders and anything else that shows a commitment's assignee."""
    return msg("reminder.taken_by", lang, user=mention(assignee))


def _with_assignee(line: str, assignee: str | None, lang: Lang) -> str:
    """A listed commitment's line, with who took it when somebody did."""
    return f"{line} — {taken_by(assignee, lang)}" if assignee else line


def followup_buttons(commitment: Commitment, *, lang: Lang, done: bool) -> list[Button]:
    """A reminder's buttons (the Home tab's too): Done and the Snoozes while open, Reopen once done."""
    if done:
        return [Button(action_id=ACTION_REOPEN, text=msg("reminder.button_reopen", lang), value=commitment.id)]
    return [
        Button(
            action_id=ACTION_DONE,
            text=msg("reminder.button_done", lang),
            value=commitment.id,
            style="primary",
        ),
        Button(action_id=ACTION_SNOOZE_1D, text=msg("reminder.button_snooze_1d", lang), value=commitment.id),
        Button(action_id=ACTION_SNOOZE_1W, text=msg("reminder.button_snooze_1w", lang), value=commitment.id),
        Button(
            action_id=ACTION_SNOOZE_NEXT_BUSINESS_DAY,
            text=msg("reminder.button_snooze_next_business_day", lang),
            value=commitment.id,
        ),
    ]


def build_resolved_reply(
    commitment: Commitment,
    *,
    action: Action,
    user_id: str,
    lang: Lang,
    release: Release,
    when: dt.datetime,
    tz: ZoneInfo,
    calendar: Calendar = JAPAN,
    owners: Owners | None = None,
) -> Reply:
    """The reminder after a button press (for chat.update): who did what; once done, only a Reopen button.

    `when` is the moment it was marked done, or the time it is snoozed until. `owners`: listed with the desk.
    """
    key = "reminder.done_by" if action == "done" else "reminder.snoozed_by"
    lead = msg(key, lang, user=mention(user_id), when=format_when(when, tz, lang))
    reopen = Button(action_id=ACTION_REOPEN, text=msg("reminder.button_reopen", lang), value=commitment.id)
    return Reply(
        title=msg("reminder.title", lang, title=escape(commitment.title(lang))),
        sections=_commitment_sections(
            commitment, lang=lang, release=release, lead=lead, calendar=calendar, owners=owners
        ),
        citation=_reminder_citation(commitment, release, lang),
        buttons=[reopen] if action == "done" else [],
        block_id=block_id(commitment),
    )


def build_reopened_reply(reminder: Reply, *, user_id: str, lang: Lang, when: dt.datetime, tz: ZoneInfo) -> Reply:
    """A reminder (`build_reminder_reply`, buttons again) saying who reopened it and when."""
    note = msg("reminder.reopened_by", lang, user=mention(user_id), when=format_when(when, tz, lang))
    first, *rest = reminder.sections or [Section()]
    lead = first.model_copy(update={"text": f"{note}\n{first.text}" if first.text else note})
    return reminder.model_copy(update={"sections": [lead, *rest]})


# --- /g7 followups --------------------------------------------------------------------------------


def build_followups_reply(
    commitments: Commitments,
    states: Mapping[str, CommitmentState],
    now: dt.datetime,
    *,
    lang: Lang,
    tz: ZoneInfo,
    release: Release | ReleaseOf,
    lead: str = "",
    owners: OwnersOf | None = None,
) -> Reply:
    """Every follow-up: overdue first, then dates to confirm (past an assumed date), then upcoming by due
    date, then done (most recent first). `owners`: each one's people (data/owners.yml), shown with its desk."""
    today = _local(now, tz).date()
    # Each with the date as it stands (an admin's, bot.schedule.effective).
    listed = sorted(effective_all(as_list(commitments), states), key=lambda c: (c.due, c.id))
    of = release_of(release)
    # A list spanning several releases says on each line which one it comes from.
    several = len({id(of(c)) for c in listed}) > 1

    def tagged(line: str, c: Commitment) -> str:
        state = states.get(c.id)
        line = _with_assignee(line, state.assignee if state is not None else None, lang)
        return _in_release(line, of(c), lang) if several else line

    overdue: list[str] = []
    to_confirm: list[str] = []
    upcoming: list[str] = []
    done: list[tuple[dt.date, str]] = []
    for c in listed:
        state = states.get(c.id)
        if effective_status(c, state) == "done":
            day = done_date(c, state, tz)
            done.append((day or c.due, tagged(_done_line(c, day, lang, of(c), owners), c)))
        elif is_past_assumed_date(c, today):
            to_confirm.append(tagged(_to_confirm_line(c, today, lang, of(c), owners), c))
        elif c.due < today:
            overdue.append(tagged(_overdue_line(c, today, lang, of(c), owners), c))
        else:
            upcoming.append(tagged(_line(c, lang, of(c), owners=owners), c))
    done.sort(key=lambda pair: pair[0], reverse=True)
    none = msg("followups.none", lang)
    shown = _shown_releases(listed, release)
    sections = [Section(text=lead)] if lead else []
    sections += [
        _listing(msg("followups.overdue", lang, count=len(overdue)), overdue, none),
        _listing(msg("followups.to_confirm", lang, count=len(to_confirm)), to_confirm, none),
        _listing(msg("followups.upcoming", lang, count=len(upcoming)), upcoming, none),
        _listing(msg("followups.done", lang, count=len(done)), [line for _, line in done], none),
    ]
    return Reply(
        title=_followups_title(shown, len(listed), lang),
        sections=sections,
        footer=[assumptions_note(shown, lang)],
        citation=_listed_citation(listed, release, lang),
    )
