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
from bot.release.citation import folder_of, source_index
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
    """The commitments about the meetings or desks the words name (the same reading as bilateral and
    contact), and what matched; None if the words name neither."""
    query = ask.raw_args or " ".join(ask.args)
    lang = ask.lang
    meetings = ask.lookup.find_bilaterals(query)
    if meetings.bilaterals:
        ids = {b.id for b in meetings.bilaterals}
        found = [c for c in commitments if c.source.kind == "bilateral" and c.source.ref in ids]
        names = list(dict.fromkeys(escape(b.organisation(lang)) for b in meetings.bilaterals))
        shown = join(names, lang)
        if meetings.corrections:
            shown += " " + msg("lookup.corrected", lang, typed=echo(meetings.corrections[0].typed), shown=shown)
        return found, shown
    desks = ask.lookup.find_desks(query)
    if desks.desks:
        ids = {d.id for d in desks.desks}
        topics = join([escape(d.topic(lang)) for d in desks.desks], lang)
        if desks.corrections:
            topics += " " + msg("lookup.corrected", lang, typed=echo(desks.corrections[0].typed), shown=topics)
        return [c for c in commitments if c.owner_desk in ids], topics
    return None


def run(ask: Ask) -> Reply:
    source: FollowupSource = ask.services if ask.services is not None else FileSource(ask.release)
    source_index(ask.release, folder=folder_of(ask.services))  # the citation's lines: the running bot's data
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
