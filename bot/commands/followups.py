"""Follow-ups from the meeting: overdue, upcoming and done; filter by country, organisation or desk.

ja: 会合後のフォローアップ(期限超過・今後の期限・完了)を表示します。国・機関・窓口で絞り込めます。
usage: followups [who|desk]
examples: followups; followups france; followups ai; followups en; フォローアップ カナダ
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.commands.base import Ask
from bot.messages import join, msg
from bot.release.models import Release
from bot.reply import Reply
from bot.schedule.content import build_followups_reply
from bot.schedule.models import Commitment, CommitmentsFile, ScheduleFile, load_commitments, load_schedule
from bot.schedule.occurrence import CommitmentState
from bot.settings import DATA_DIR
from bot.text import echo, escape

ALIASES = ("followup", "follow-up", "follow-ups", "フォローアップ", "todo", "todos", "commitments", "宿題")

COMMITMENTS_FILE = DATA_DIR / "commitments.yml"
SCHEDULE_FILE = DATA_DIR / "schedule.yml"


class FollowupSource(Protocol):
    """Where the follow-up commands get their data: the loaded files and the states in the database."""

    def commitments(self) -> CommitmentsFile: ...

    def states(self) -> Mapping[str, CommitmentState]: ...

    def schedule(self) -> ScheduleFile: ...


class FileSource:
    """The data files alone, no database (console, `g7bot ask`, tests): every state is the file's."""

    def __init__(self, release: Release):
        self._release = release

    def commitments(self) -> CommitmentsFile:
        return load_commitments(COMMITMENTS_FILE, release=self._release)

    def states(self) -> Mapping[str, CommitmentState]:
        return {}

    def schedule(self) -> ScheduleFile:
        return load_schedule(SCHEDULE_FILE)


def _filter(ask: Ask, commitments: list[Commitment]) -> tuple[list[Commitment], str] | None:
    """The commitments about the bilateral partner or desk the words name, and what matched; None if none."""
    query = " ".join(ask.args)
    for words in (query, *ask.args):
        bilaterals = ask.lookup.bilaterals(words)
        if bilaterals:
            ids = {b.id for b in bilaterals}
            found = [c for c in commitments if c.source.kind == "bilateral" and c.source.ref in ids]
            names = list(dict.fromkeys(escape(b.organisation(ask.lang)) for b in bilaterals))
            return found, join(names, ask.lang)
        desk = ask.lookup.desk(words)
        if desk is not None:
            return [c for c in commitments if c.owner_desk == desk.id], escape(desk.topic(ask.lang))
    return None


def run(ask: Ask) -> Reply:
    source: FollowupSource = ask.services if ask.services is not None else FileSource(ask.release)
    schedule = source.schedule()
    commitments = list(source.commitments().commitments)
    lead = ""
    if ask.args:
        matched = _filter(ask, commitments)
        if matched is None:
            lead = msg("followups.no_match", ask.lang, text=echo(ask.raw_args))
        else:
            commitments, what = matched
            lead = msg("followups.filtered", ask.lang, what=what)
    reply = build_followups_reply(
        commitments,
        source.states(),
        ask.now,
        lang=ask.lang,
        tz=schedule.reminder_timezone(),
        release=ask.release,
        lead=lead,
    )
    return reply.model_copy(update={"footer": [*reply.footer, msg("followups.hint", ask.lang, command=ask.command)]})
