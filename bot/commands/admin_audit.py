"""`/g7 admin audit [commitment] [page N]` and `/g7 admin reopen <commitment>`: the audit record, and undoing Done.

Not a subcommand of its own (bot.commands.admin dispatches here); the builders are pure: entries in, Reply out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.audit.log import AuditLog
from bot.audit.models import AuditEntry, Surface, admin_actor
from bot.commands.base import Ask
from bot.errors import UserError
from bot.messages import msg
from bot.release.models import Lang
from bot.reply import Reply, Section
from bot.schedule.content import mention
from bot.schedule.models import CommitmentsFile
from bot.text import echo, escape

PAGE_SIZE = 15
_PAGE_WORDS = {"page", "p", "ページ"}


class AuditServices(Protocol):
    """What the audit and reopen commands need (bot.schedule.service.FollowupService)."""

    @property
    def audit(self) -> AuditLog: ...

    def commitments(self) -> CommitmentsFile: ...

    # The schedule's time zone (data/schedule.yml `timezone`): times are shown in it when the requester's is unknown.
    def export_timezone(self) -> ZoneInfo: ...

    def reopen(self, commitment_id: str, *, actor: str, surface: Surface, now: dt.datetime) -> str: ...


def _page(words: Sequence[str]) -> tuple[list[str], int]:
    """The words without a trailing `page N`, and N (1 when absent)."""
    rest = list(words)
    if len(rest) >= 2 and rest[-2] in _PAGE_WORDS and rest[-1].isdigit():
        return rest[:-2], max(1, int(rest[-1]))
    return rest, 1


def _local(at: dt.datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _who(entry: AuditEntry, lang: Lang) -> str:
    user = entry.user_id
    if user is None:
        return msg("admin.audit.system", lang)
    admin = " (admin)" if entry.actor.startswith("admin:") else ""
    return mention(user) + admin


def _state(state: Mapping[str, Any] | None, lang: Lang, tz: ZoneInfo) -> str:
    """A commitment's state as stored in an entry; keys a later action adds are shown as key=value."""
    if state is None:
        return msg("admin.audit.state.file", lang)
    until = state.get("snoozed_until")
    if state.get("status") == "done":
        text = msg("admin.audit.state.done", lang)
    elif until:
        text = msg("admin.audit.state.snoozed", lang, when=_local(dt.datetime.fromisoformat(str(until)), tz))
    else:
        text = msg("admin.audit.state.open", lang)
    extra = [f"{escape(str(k))}={escape(str(v))}" for k, v in state.items() if k not in {"status", "snoozed_until"}]
    return " ".join([text, *extra])


def _what(entry: AuditEntry, lang: Lang, tz: ZoneInfo) -> str:
    after = entry.after or {}
    if entry.action == "reload":
        if after.get("applied"):
            counts = {k: len(after.get(k) or []) for k in ("added", "removed", "changed")}
            return msg("admin.audit.reload.applied", lang, **counts)
        if after.get("problems"):
            return msg("admin.audit.reload.refused", lang, count=len(after["problems"]))
        return msg("admin.audit.reload.held", lang, removed=len(after.get("removed") or []))
    if entry.action == "digest_now":
        channels = ", ".join(f"<#{escape(str(c))}>" for c in after.get("channels") or []) or "-"
        return msg("admin.audit.digest", lang, channels=channels)
    if entry.action == "assign":
        return f"{_assignee(entry.before, lang)} → {_assignee(entry.after, lang)}"
    if entry.action == "due_confirm":
        return f"{_due(entry.before, lang)} → {_due(entry.after, lang)}"
    return f"{_state(entry.before, lang, tz)} → {_state(entry.after, lang, tz)}"


def _assignee(state: Mapping[str, Any] | None, lang: Lang) -> str:
    """Who had the commitment in an "assign" entry's before or after."""
    user = (state or {}).get("assignee")
    return mention(str(user)) if user else msg("admin.audit.assign.none", lang)


def _due(state: Mapping[str, Any] | None, lang: Lang) -> str:
    """The admin's date in a "due_confirm" entry's before or after: the date and confirmed or assumed, or the file's."""
    values = state or {}
    day, confirmed = values.get("due_override"), values.get("due_confirmed")
    if day is None and confirmed is None:
        return msg("admin.audit.due.file", lang)
    how = msg("admin.due.confirmed" if confirmed else "admin.due.assumed", lang)
    return msg("admin.audit.due.date", lang, date=escape(str(day or "-")), how=how)


def audit_line(entry: AuditEntry, *, lang: Lang, tz: ZoneInfo) -> str:
    """One entry: when, who, from where, what, on which commitment, before → after."""
    surface = msg(f"admin.audit.surface.{entry.surface}", lang)
    action = msg(f"admin.audit.action.{entry.action}", lang)
    target = f" `{escape(entry.commitment_id)}`" if entry.commitment_id else ""
    return f"• {_local(entry.at, tz)}  {_who(entry, lang)} ({surface})  *{action}*{target}: {_what(entry, lang, tz)}"


def build_audit_reply(
    entries: Sequence[AuditEntry],
    *,
    total: int,
    page: int,
    lang: Lang,
    tz: ZoneInfo,
    command: str,
    commitment_id: str | None = None,
) -> Reply:
    """A page of the audit record, newest first, with how to see the next page when there is one."""
    title = (
        msg("admin.audit.title_one", lang, commitment=escape(commitment_id))
        if commitment_id
        else msg("admin.audit.title", lang)
    )
    if not entries:
        return Reply(title=title, sections=[Section(text=msg("admin.audit.none", lang))])
    first = (page - 1) * PAGE_SIZE + 1
    last = first + len(entries) - 1
    lines = [audit_line(e, lang=lang, tz=tz) for e in entries]
    footer = [msg("admin.audit.shown", lang, first=first, last=last, total=total, tz=tz.key)]
    if last < total:
        target = f"{commitment_id} " if commitment_id else ""
        footer.append(msg("admin.audit.more", lang, next=f"{command} admin audit {target}page {page + 1}"))
    return Reply(title=title, sections=[Section(text="\n".join(lines))], footer=footer)


def audit(ask: Ask, services: AuditServices, *, tz: ZoneInfo | None = None) -> Reply:
    """The audit record's page, its times in `tz`, else the requester's Slack time zone, else the schedule's."""
    words, page = _page(ask.args[1:])
    commitment_id = words[0] if words else None
    log = services.audit
    if commitment_id is not None:
        known = services.commitments().get(commitment_id) is not None
        if not known and log.count(commitment_id=commitment_id) == 0:
            raise UserError(msg("admin.audit.unknown", ask.lang, text=echo(commitment_id), command=ask.command))
    total = log.count(commitment_id=commitment_id)
    entries = log.entries(commitment_id=commitment_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return build_audit_reply(
        entries,
        total=total,
        page=page,
        lang=ask.lang,
        tz=tz or ask.tz or services.export_timezone(),
        command=ask.command,
        commitment_id=commitment_id,
    )


def reopen(ask: Ask, services: AuditServices) -> Reply:
    lang = ask.lang
    title = msg("admin.reopen.title", lang)
    if len(ask.args) < 2:
        raise UserError(msg("admin.reopen.usage", lang, command=ask.command))
    commitment_id = ask.args[1]
    commitment = services.commitments().get(commitment_id)
    if commitment is None:
        raise UserError(msg("admin.audit.unknown", lang, text=echo(commitment_id), command=ask.command))
    outcome = services.reopen(commitment.id, actor=admin_actor(ask.user_id), surface="slash", now=ask.now)
    key = {"reopened": "admin.reopen.reopened", "file_done": "admin.reopen.file_done"}.get(
        outcome, "admin.reopen.not_done"
    )
    return Reply(title=title, sections=[Section(text=msg(key, lang, title=escape(commitment.title(lang))))])
