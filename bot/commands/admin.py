"""Admins: the next scheduled posts, a digest now, reload data and schedule, the audit record, reopen, due dates.

ja: 管理者向け: 次回の投稿予定、今すぐダイジェスト投稿、データとスケジュールの再読込、変更履歴、完了の取り消し、期日。
usage: admin schedule | admin digest-now [channel] | admin reload [confirm] | admin audit [id] | admin reopen <id> | admin due <id> <YYYY-MM-DD> [assumed] | admin due <id> clear
examples: admin schedule; admin digest-now C0123456789; admin reload confirm; admin audit; admin reopen fr-presidency; admin due fr-presidency 2026-01-05
"""  # noqa: E501  (help reads each of these as one line)

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.audit.models import Surface, admin_actor
from bot.commands import admin_audit, admin_due
from bot.commands.base import Ask
from bot.errors import NotAllowed, UserError
from bot.messages import msg
from bot.release.models import Lang
from bot.reply import Reply, Section
from bot.schedule.changes import Kind, ReloadResult
from bot.schedule.occurrence import Occurrence
from bot.schedule.owners import where
from bot.schedule.store import Delivery
from bot.text import echo, escape

ALIASES = ("管理",)
ADMIN = True
# Schedule, digests and reload concern every release: a selector never makes them ambiguous.
MULTI = True

_CHANNEL = re.compile(r"^<?#?([CGD][A-Z0-9]{8,})(?:\|[^>]*)?>?$", re.IGNORECASE)
_ACTIONS = {
    "schedule": "schedule",
    "スケジュール": "schedule",
    "予定": "schedule",
    "next": "schedule",
    "digest-now": "digest-now",
    "digest": "digest-now",
    "digestnow": "digest-now",
    "今すぐ": "digest-now",
    "reload": "reload",
    "再読込": "reload",
    "再読み込み": "reload",
    "audit": "audit",
    "log": "audit",
    "history": "audit",
    "履歴": "audit",
    "変更履歴": "audit",
    "監査": "audit",
    "reopen": "reopen",
    "undo": "reopen",
    "取り消し": "reopen",
    "取消": "reopen",
    "再開": "reopen",
    "due": "due",
    "date": "due",
    "期日": "due",
    "期限": "due",
}


_CONFIRM = {"confirm", "yes", "確認", "確定", "実行"}
# Lines per list in a reply: ids are at most 48 characters, so this stays far within one section's 3000.
_MAX_LINES = 30


class AdminServices(Protocol):
    """What `serve` provides to admin commands (bot.schedule.service.FollowupService)."""

    def next_runs(self, now: dt.datetime, *, limit: int) -> list[Occurrence]: ...

    def retrying(self, *, limit: int) -> list[Delivery]: ...

    def request_digest(
        self, channel: str | None, now: dt.datetime, *, actor: str = ..., surface: Surface = ...
    ) -> list[str]: ...

    def reload(
        self, *, confirm: bool = False, actor: str = ..., surface: Surface = ..., now: dt.datetime | None = None
    ) -> ReloadResult: ...


def _local(at: dt.datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def _tz(delivery: Delivery) -> str:
    return delivery.occurrence.timezone if delivery.occurrence else "UTC"


def _schedule(ask: Ask, services: AdminServices) -> Reply:
    lang = ask.lang
    runs = services.next_runs(ask.now, limit=15)
    lines = [f"• {_local(o.at, o.timezone)}  {where(o.channel)}  `{escape(o.key)}`" for o in runs] or [
        msg("admin.schedule.none", lang)
    ]
    sections = [Section(text="\n".join(lines))]
    problems = services.retrying(limit=15)
    # Failed for good and held first: they wait for a person; the retrying ones fix themselves, maybe.
    # Skipped ones here are those refused for a Slack Connect channel: the schedule may allow them.
    stuck_kinds = (
        ("failed", "admin.schedule.failed"),
        ("held", "admin.schedule.held"),
        ("skipped", "admin.schedule.external"),
    )
    for status, heading in stuck_kinds:
        stuck = [d for d in problems if d.status == status]
        if stuck:
            listed = [
                f"• {where(d.channel)}  `{escape(d.key)}`  "
                f"{_local(d.scheduled_at, _tz(d))}: {escape(d.last_error or '?')}"
                for d in stuck
            ]
            sections.append(Section(text=f"*{msg(heading, lang)}*\n" + "\n".join(listed)))
    retrying = [d for d in problems if d.status == "pending"]
    if retrying:
        failing = []
        for d in retrying:
            line = f"• {where(d.channel)}  `{escape(d.key)}`  " + msg(
                "admin.schedule.attempts", lang, count=d.attempts + d.checks, error=escape(d.last_error or "?")
            )
            if d.next_attempt_at is not None:
                line += f"  → {_local(d.next_attempt_at, _tz(d))}"
            failing.append(line)
        sections.append(Section(text=f"*{msg('admin.schedule.retrying', lang)}*\n" + "\n".join(failing)))
    return Reply(title=msg("admin.schedule.title", lang), sections=sections)


def _digest_now(ask: Ask, services: AdminServices) -> Reply:
    lang = ask.lang
    channel: str | None = None
    if len(ask.args) > 1:
        found = _CHANNEL.match(ask.raw_args.split()[-1])
        if not found:
            raise UserError(msg("admin.digest.bad_channel", lang, text=echo(ask.raw_args.split()[-1])))
        channel = found.group(1).upper()
    channels = services.request_digest(channel, ask.now, actor=admin_actor(ask.user_id), surface="slash")
    if not channels:
        return Reply(title=msg("admin.digest.title", lang), sections=[Section(text=msg("admin.digest.none", lang))])
    listed = ", ".join(f"<#{c}>" for c in channels)
    return Reply(
        title=msg("admin.digest.title", lang),
        sections=[Section(text=msg("admin.digest.queued", lang, channels=listed))],
    )


def _reload(ask: Ask, services: AdminServices) -> Reply:
    lang = ask.lang
    confirm = len(ask.args) > 1 and ask.args[1] in _CONFIRM
    result = services.reload(confirm=confirm, actor=admin_actor(ask.user_id), surface="slash", now=ask.now)
    title = msg("admin.reload.title", lang)
    if result.problems:
        detail = "\n".join(f"• `{escape(p)}`" for p in result.problems[:_MAX_LINES])
        return Reply(title=title, sections=[Section(text=msg("admin.reload.failed", lang)), Section(text=detail)])
    if result.needs_confirmation:
        head = msg("admin.reload.held", lang, command=ask.command)
    else:
        head = msg("admin.reload.ok" if result.changes else "admin.reload.unchanged", lang)
    sections = [Section(text=head)]
    found = result.changes
    for heading, items in (("added", found.added), ("removed", found.removed), ("changed", found.changed)):
        if items:
            sections.append(Section(text=_change_list(msg(f"admin.reload.{heading}", lang), items, lang)))
    return Reply(title=title, sections=sections)


def _change_list(heading: str, items: tuple[tuple[Kind, str], ...], lang: Lang) -> str:
    lines = [f"• {msg(f'admin.reload.kind.{kind}', lang)} {_name(kind, key)}" for kind, key in items[:_MAX_LINES]]
    if len(items) > _MAX_LINES:
        lines.append(msg("admin.reload.more", lang, count=len(items) - _MAX_LINES))
    return f"*{heading}*\n" + "\n".join(lines)


def _name(kind: Kind, key: str) -> str:
    return f"<#{key}>" if kind == "reminder-channel" else f"`{escape(key)}`"


def run(ask: Ask) -> Reply:
    lang = ask.lang
    if not ask.is_admin:
        raise NotAllowed(msg("admin.refused", lang, command=ask.command))
    action = _ACTIONS.get(ask.args[0]) if ask.args else None
    if action is None:
        raise UserError(msg("admin.usage", lang, command=ask.command))
    services: AdminServices | None = ask.services
    if services is None:
        raise UserError(msg("admin.no_scheduler", lang))
    if action == "schedule":
        return _schedule(ask, services)
    if action == "audit":
        return admin_audit.audit(ask, services)  # type: ignore[arg-type]  # FollowupService is both
    if action == "reopen":
        return admin_audit.reopen(ask, services)  # type: ignore[arg-type]
    if action == "due":
        return admin_due.run(ask, services)  # type: ignore[arg-type]
    if action == "digest-now":
        return _digest_now(ask, services)
    return _reload(ask, services)
