"""Bilateral meetings by country, code, ministry, post or name (several at once); all eight without one.

ja: 二国間会談を国・コード・省庁・役職・相手の名前で表示します(複数可、指定なしで全8件)。
usage: bilateral [who]
examples: bilateral; bilateral france; bilateral U.K.; bilateral france germany; bilateral canada joly; 会談 ドイツ
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.commands.base import Ask
from bot.messages import join, msg
from bot.release.citation import cite_bilaterals, folder_of, source_index
from bot.release.lookup import Correction
from bot.release.models import Bilateral, Lang, Release
from bot.reply import Reply, Section
from bot.text import echo, escape

ALIASES = ("bilaterals", "meeting", "meetings", "会談", "二国間", "二国間会談", "bilat")
STATIC = True


def meeting_line(b: Bilateral, lang: Lang) -> str:
    return f"*({b.number}) {escape(b.organisation(lang))}*: {escape(b.counterpart.named(lang))}"


def meeting_section(b: Bilateral, lang: Lang) -> Section:
    lines = [
        meeting_line(b, lang),
        f"*{msg('bilateral.japan', lang)}*: {join([escape(p(lang)) for p in b.japan_participants], lang)}",
        f"*{msg('bilateral.topics', lang)}*: {join([escape(t(lang)) for t in b.topics], lang)}",
        f"*{msg('bilateral.said', lang)}*: {escape(b.summary(lang))}",
    ]
    if b.note is not None:
        lines.append(f"*{msg('bilateral.note', lang)}*: {escape(b.note(lang))}")
    return Section(text="\n".join(lines))


def list_reply(ask: Ask, *, lead: str | None = None) -> Reply:
    lang = ask.lang
    lines = [meeting_line(b, lang) for b in ask.release.bilaterals]
    sections = [Section(text=lead)] if lead else []
    sections.append(Section(text="\n".join(lines)))
    footer = [msg("bilateral.list_hint", lang, command=ask.command)]
    overview: frozenset[int] = frozenset()
    if ask.release.bilaterals_overview is not None:
        overview = source_index(ask.release).overview
        # The release's own account of all eight meetings (its only mention of economic security).
        footer.insert(0, escape(ask.release.bilaterals_overview(lang)))
    return Reply(
        title=msg("bilateral.list_title", lang, count=len(ask.release.bilaterals)),
        sections=sections,
        footer=footer,
        citation=cite_bilaterals(ask.release, lang, ask.release.bilaterals, full=False, extra=overview),
    )


def correction_lines(corrections: Iterable[Correction], release: Release, lang: Lang) -> list[str]:
    """ "Showing France for “francis”": one line per misspelt word the lookup read as something else."""
    by_id = {b.id: b for b in release.bilaterals}
    lines = []
    for c in corrections:
        shown = [by_id[i] for i in c.ids if i in by_id]
        names = [b.counterpart.name(lang) if c.person else b.organisation(lang) for b in shown]
        lines.append(
            msg("lookup.corrected", lang, typed=echo(c.typed), shown=escape(join(list(dict.fromkeys(names)), lang)))
        )
    return lines


def run(ask: Ask) -> Reply:
    lang = ask.lang
    source_index(ask.release, folder=folder_of(ask.services))  # the citation's lines: the running bot's data
    if not ask.args:
        return list_reply(ask)
    match = ask.lookup.find_bilaterals(ask.raw_args or " ".join(ask.args))
    found = match.bilaterals
    if not found:
        return list_reply(ask, lead=msg("bilateral.not_found", lang, text=echo(ask.raw_args)))
    sections = [meeting_section(b, lang) for b in found]
    lead = correction_lines(match.corrections, ask.release, lang)
    if len(found) > 1:
        lead.append(msg("bilateral.several", lang, count=len(found), text=echo(ask.raw_args)))
    if lead:
        sections.insert(0, Section(text="\n".join(lead)))
    if len(found) == 1:
        title = msg("bilateral.title", lang, number=found[0].number, organisation=found[0].organisation(lang))
    else:
        organisations = list(dict.fromkeys(b.organisation(lang) for b in found))
        title = msg("bilateral.list_title", lang, count=len(found)) + f": {join(organisations, lang)}"
    return Reply(title=title, sections=sections, citation=cite_bilaterals(ask.release, lang, found, full=True))
