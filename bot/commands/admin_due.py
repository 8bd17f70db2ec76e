"""Admins: confirm or change a follow-up's due date on top of the data file, or go back to the file's.

ja: 管理者向け: フォローアップの期日を確定・変更します(`assumed` で仮の期日、`clear` でファイルの期日に戻す)。
usage: admin due <id> <YYYY-MM-DD> [assumed] | admin due <id> clear
examples: admin due fr-presidency 2026-01-05; admin due fr-presidency 2026/1/5 assumed; admin due fr-presidency clear

Not a subcommand of its own (bot.commands.admin dispatches here). Dates may be typed 2026-01-05, 2026/1/5,
2026.1.5 or 2026年1月5日, in full-width digits too (the words arrive normalised, bot.text.normalize).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Protocol

from bot.audit.models import Surface, admin_actor
from bot.commands.base import Ask
from bot.errors import UserError
from bot.messages import format_date, msg
from bot.release.models import Lang
from bot.reply import Reply, Section
from bot.schedule.models import Commitment, CommitmentsFile
from bot.text import echo, escape, normalize

if TYPE_CHECKING:
    from bot.schedule.service import DueChange

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# As the words arrive: normalised (hiragana folded to katakana, so 仮置き is matched as 仮置キ).
_ASSUMED = {normalize(w) for w in ("assumed", "assumption", "tentative", "仮", "仮置き", "仮の期日", "暫定")}
_CLEAR = {normalize(w) for w in ("clear", "reset", "file", "解除", "クリア", "戻す", "リセット")}


class DueServices(Protocol):
    """What `admin due` needs (bot.schedule.service.FollowupService)."""

    def commitments(self) -> CommitmentsFile: ...

    def set_due(
        self,
        commitment_id: str,
        *,
        due_on: dt.date | None,
        confirmed: bool | None,
        actor: str,
        surface: Surface,
        now: dt.datetime,
    ) -> DueChange: ...


def parse_date(text: str) -> dt.date | None:
    """2026-01-05, 2026/1/5, 2026.1.5 or 2026年1月5日 (digits half-width: the words come normalised); None: no date."""
    found = _DATE.match(text.strip())
    if found is None:
        return None
    try:
        return dt.date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def run(ask: Ask, services: DueServices) -> Reply:
    lang = ask.lang
    words = list(ask.args[1:])
    if len(words) < 2 or len(words) > 3:
        raise UserError(msg("admin.due.usage", lang, command=ask.command))
    commitment_id, what = words[0], words[1]
    if services.commitments().get(commitment_id) is None:
        raise UserError(msg("admin.audit.unknown", lang, text=echo(commitment_id), command=ask.command))
    actor = admin_actor(ask.user_id)
    if what in _CLEAR and len(words) == 2:
        result = services.set_due(commitment_id, due_on=None, confirmed=None, actor=actor, surface="slash", now=ask.now)
    else:
        day = parse_date(what)
        if day is None:
            raise UserError(msg("admin.due.bad_date", lang, text=echo(what)))
        if len(words) == 3 and words[2] not in _ASSUMED:
            raise UserError(msg("admin.due.usage", lang, command=ask.command))
        confirmed = len(words) == 2
        result = services.set_due(
            commitment_id, due_on=day, confirmed=confirmed, actor=actor, surface="slash", now=ask.now
        )
    return build_due_reply(result, lang=lang)


def _date_text(commitment: Commitment | None, lang: Lang) -> str:
    """A date as it stands, and whether it is confirmed or assumed."""
    if commitment is None:
        return "-"
    how = msg("admin.due.assumed" if commitment.due_is_assumption else "admin.due.confirmed", lang)
    return f"{format_date(commitment.due, lang)} ({how})"


def build_due_reply(change: DueChange, *, lang: Lang) -> Reply:
    """What `admin due` did, in words: the new date and the one before, or why nothing changed."""
    commitment = change.after or change.before
    if change.outcome == "unknown" or commitment is None:
        raise UserError(msg("admin.due.usage", lang, command="/g7"))
    after = change.after
    key = {
        "set": "admin.due.set_assumed" if after is not None and after.due_is_assumption else "admin.due.set",
        "unchanged": "admin.due.unchanged",
        "cleared": "admin.due.cleared",
        "not_set": "admin.due.not_set",
    }[change.outcome]
    text = msg(
        key,
        lang,
        title=escape(commitment.title(lang)),
        date=format_date(commitment.due, lang),
        before=_date_text(change.before, lang),
    )
    return Reply(title=msg("admin.due.title", lang), sections=[Section(text=text)])
