"""Follow-ups from the meeting: overdue, upcoming and done; filter by country, organisation or desk.

ja: 会合後のフォローアップ(期限超過・今後の期限・完了)を表示します。国・機関・窓口で絞り込めます。
usage: followups [who|desk] | followups export
examples: followups; followups france; followups ai; followups en; フォローアップ カナダ; followups export
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from bot.commands import followups_export
from bot.commands.base import Ask
from bot.library import Entry
from bot.messages import join, msg
from bot.release.citation import folder_of, source_index
from bot.release.lookup import ReleaseLookup
from bot.release.models import Lang, Release
from bot.reply import Reply
from bot.schedule.content import build_followups_reply
from bot.schedule.models import Commitment, CommitmentsFile, ScheduleFile, load_commitments, load_schedule
from bot.schedule.occurrence import CommitmentState
from bot.settings import DATA_DIR
from bot.text import echo, escape

ALIASES = ("followup", "follow-up", "follow-ups", "フォローアップ", "todo", "todos", "commitments", "宿題")

# Without the follow-up services (tests, no database): the shipped release's own follow-ups.
COMMITMENTS_FILE = DATA_DIR / "releases" / "meti-2025-12-10-g7-idt" / "commitments.yml"
SCHEDULE_FILE = DATA_DIR / "schedule.yml"
# Follow-ups span every release unless `@…` selects some.
MULTI = True
# What a filter kept, and how the reply names what matched.
Filtered = tuple[list[Commitment], str]


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


def _filter_one(lookup: ReleaseLookup, query: str, lang: Lang, commitments: list[Commitment]) -> Filtered | None:
    """One release's commitments about the meetings or desks the words name (the same reading as bilateral and
    contact), and what matched; None if the words name neither in that release."""
    meetings = lookup.find_bilaterals(query)
    if meetings.bilaterals:
        ids = {b.id for b in meetings.bilaterals}
        found = [c for c in commitments if c.source.kind == "bilateral" and c.source.ref in ids]
        names = list(dict.fromkeys(escape(b.organisation(lang)) for b in meetings.bilaterals))
        shown = join(names, lang)
        if meetings.corrections:
            shown += " " + msg("lookup.corrected", lang, typed=echo(meetings.corrections[0].typed), shown=shown)
        return found, shown
    desks = lookup.find_desks(query)
    if desks.desks:
        ids = {d.id for d in desks.desks}
        topics = join([escape(d.topic(lang)) for d in desks.desks], lang)
        if desks.corrections:
            topics += " " + msg("lookup.corrected", lang, typed=echo(desks.corrections[0].typed), shown=topics)
        return [c for c in commitments if c.owner_desk in ids], topics
    return None


def _filter(ask: Ask, commitments: list[Commitment], entry_of: Callable[[Commitment], Entry]) -> Filtered | None:
    """The commitments about who or what the words name, each read in its own release; None if nothing matched."""
    query = ask.raw_args or " ".join(ask.args)
    by_entry: dict[int, tuple[Entry, list[Commitment]]] = {}
    for c in commitments:
        entry = entry_of(c)
        by_entry.setdefault(id(entry), (entry, []))[1].append(c)
    found: list[Commitment] = []
    shown: list[str] = []
    for entry, own in by_entry.values():
        matched = _filter_one(entry.lookup, query, ask.lang, own)
        if matched is not None:
            found += matched[0]
            if matched[1] not in shown:
                shown.append(matched[1])
    if not shown:
        return None
    return found, join(shown, ask.lang)


def _commitments(ask: Ask, source: FollowupSource) -> list[Commitment]:
    """Every release's follow-ups: the services' (loaded with the library), else the library's, else the file's."""
    if ask.services is None and ask.lib.commitments:
        return list(ask.lib.commitments)
    return list(source.commitments().commitments)


def run(ask: Ask) -> Reply:
    if followups_export.asks_export(ask):
        return followups_export.run(ask)
    source: FollowupSource = ask.services if ask.services is not None else FileSource(ask.release)
    for e in ask.scope:
        if e.commitments or e is ask.chosen:
            source_index(e.release, folder=e.folder or folder_of(ask.services))  # the citation's lines
    lib = ask.lib

    def entry_of(c: Commitment) -> Entry:
        # A commitment without a release id comes from a one-release file: the library's default release.
        return (lib.get(c.release_id) if c.release_id is not None else None) or lib.default

    schedule = source.schedule()
    commitments = _commitments(ask, source)
    lead = ""
    if ask.selectors:
        # Only the selected releases' follow-ups.
        picked = {id(e) for e in ask.selection}
        commitments = [c for c in commitments if id(entry_of(c)) in picked]
    releases = len({id(entry_of(c)) for c in commitments})
    if ask.args:
        matched = _filter(ask, commitments, entry_of)
        if matched is None:
            lead = msg("followups.no_match", ask.lang, text=echo(ask.raw_args))
        else:
            commitments, what = matched
            lead = msg("followups.filtered", ask.lang, what=what)
    if releases > 1 and not ask.selectors:
        lead = "\n".join(x for x in (msg("followups.releases", ask.lang, count=releases), lead) if x)
    reply = build_followups_reply(
        commitments,
        source.states(),
        ask.now,
        lang=ask.lang,
        tz=schedule.reminder_timezone(),
        release=lambda c: entry_of(c).release,
        lead=lead,
        owners=lambda c: lib.owners.owners_of_desk(entry_of(c).release, c.owner_desk),
    )
    return reply.model_copy(update={"footer": [*reply.footer, msg("followups.hint", ask.lang, command=ask.command)]})
