"""The follow-ups CSV, as the government's machine-readability rules ask and Excel opens it.

UTF-8 with a BOM (Excel reads the Japanese right only with it), CRLF line ends, one header row of ASCII field
names, one commitment per row, codes (ids, statuses) in columns of their own, ISO 8601 dates, and Japanese and
English in separate columns. A cell that a spreadsheet would read as a formula is prefixed with '.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.release.models import Release
from bot.schedule.due import done_date, effective_status
from bot.schedule.effective import effective
from bot.schedule.models import Commitment
from bot.schedule.occurrence import CommitmentState

FIELDS = (
    "release_id",
    "release_date",
    "commitment_id",
    "title_ja",
    "title_en",
    "source_kind",
    "source_ref",
    "owner_desk",
    "owner_desk_ja",
    "owner_desk_en",
    "window_start",
    "due_date",
    "due_is_assumption",
    "status",
    "snoozed_until",
    "status_changed_at",
    "status_changed_by",
    "done_on",
    "detail_ja",
    "detail_en",
    "planned_action_ja",
    "planned_action_en",
    "assignee",
    "assigned_at",
)
# OWASP's list: what Excel, LibreOffice and Google Sheets start a formula (or DDE) with.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """The text, with a leading ' if a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _iso(value: dt.date | dt.datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(tz).isoformat(timespec="seconds")
    return value.isoformat()


def followup_row(
    release: Release, commitment: Commitment, state: CommitmentState | None, *, tz: ZoneInfo
) -> dict[str, str]:
    """One commitment as a CSV record (every value a string, not yet made formula-safe).

    Its due date and whether it is an assumption are as they stand (an admin's, bot.schedule.effective).
    """
    commitment = effective(commitment, state)
    desk = next((d for d in release.desks if d.id == commitment.owner_desk), None)
    status = effective_status(commitment, state)
    snoozed = state.snoozed_until if state is not None and status == "open" else None
    changed = state is not None and state.updated_at is not None
    return {
        "release_id": release.id,
        "release_date": release.published.isoformat(),
        "commitment_id": commitment.id,
        "title_ja": commitment.title.ja,
        "title_en": commitment.title.en,
        "source_kind": commitment.source.kind,
        "source_ref": commitment.source.ref,
        "owner_desk": commitment.owner_desk,
        "owner_desk_ja": desk.topic.ja if desk is not None else "",
        "owner_desk_en": desk.topic.en if desk is not None else "",
        "window_start": _iso(commitment.window_start, tz),
        "due_date": commitment.due.isoformat(),
        "due_is_assumption": "true" if commitment.due_is_assumption else "false",
        "status": status,
        "snoozed_until": _iso(snoozed, tz),
        "status_changed_at": _iso(state.updated_at, tz) if changed and state is not None else "",
        "status_changed_by": (state.updated_by or "") if changed and state is not None else "",
        "done_on": _iso(done_date(commitment, state, tz), tz) if status == "done" else "",
        "detail_ja": commitment.detail.ja,
        "detail_en": commitment.detail.en,
        "planned_action_ja": commitment.planned_action.ja if commitment.planned_action else "",
        "planned_action_en": commitment.planned_action.en if commitment.planned_action else "",
        "assignee": (state.assignee or "") if state is not None else "",
        "assigned_at": _iso(state.assigned_at, tz) if state is not None else "",
    }


def build_followups_csv(
    items: Sequence[tuple[Release, Commitment]],
    states: Mapping[str, CommitmentState],
    *,
    tz: ZoneInfo,
) -> bytes:
    """The CSV file's bytes: each (release, commitment) a row, in release then due-date order.

    `states` are the Done/Snooze states by commitment id; times are written in `tz` with their offset.
    """
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    def due_of(c: Commitment) -> dt.date:
        return effective(c, states.get(c.id)).due

    ordered = sorted(items, key=lambda rc: (-rc[0].published.toordinal(), rc[0].id, due_of(rc[1]), rc[1].id))
    for release, commitment in ordered:
        row = followup_row(release, commitment, states.get(commitment.id), tz=tz)
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return out.getvalue().encode("utf-8-sig")


def export_filename(now: dt.datetime, tz: ZoneInfo) -> str:
    """followups-<local date>.csv"""
    return f"followups-{now.astimezone(tz).date().isoformat()}.csv"
