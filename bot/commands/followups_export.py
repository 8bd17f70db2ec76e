"""`/g7 followups export`: the follow-ups CSV, sent to the requester by DM (bot.export); dispatched by followups.

The command only asks for it: the service builds and uploads the file after the ack, and tells the user by DM
if that fails.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from bot.commands.base import Ask
from bot.messages import msg
from bot.release.models import Lang
from bot.reply import Reply, Section

WORDS = frozenset({"export", "csv", "excel", "download", "エクスポート", "出力", "ダウンロード"})


@runtime_checkable
class ExportServices(Protocol):
    """bot.schedule.service.FollowupService: starts the upload after the ack; False when Slack is not there."""

    def request_export(self, *, user_id: str, lang: Lang, now: dt.datetime) -> bool: ...


def asks_export(ask: Ask) -> bool:
    return bool(ask.args) and ask.args[0] in WORDS


def run(ask: Ask) -> Reply:
    services = ask.services
    sent = isinstance(services, ExportServices) and services.request_export(
        user_id=ask.user_id, lang=ask.lang, now=ask.now
    )
    # Without Slack (the console, `g7bot ask`) there is nobody to send a file to: say where to get it instead.
    text = msg("followups.export.sending" if sent else "followups.export.unavailable", ask.lang)
    return Reply(title=msg("followups.export.title", ask.lang), sections=[Section(text=text)])
