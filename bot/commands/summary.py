"""What, when, where and who of the meeting, and what it adopted.

ja: 会合の概要(何が・いつ・どこで・誰が・成果)を表示します。
usage: summary
examples: summary; summary en; 概要
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.commands.bilateral import meeting_line
from bot.messages import format_range, msg
from bot.release.citation import cite, folder_of, source_index
from bot.reply import Reply, Section
from bot.text import escape

ALIASES = ("概要", "まとめ", "サマリー", "about", "overview")
STATIC = True


def run(ask: Ask) -> Reply:
    r, lang = ask.release, ask.lang
    m = r.meeting
    if m is None:
        return _visit(ask)
    # One delegate a line: English names and titles carry commas of their own.
    who = "\n".join(escape(p.named(lang)) for p in m.delegation)
    facts = Section(
        fields=[
            f"*{msg('summary.what', lang)}*\n{escape(m.name(lang))}",
            f"*{msg('summary.when', lang)}*\n{format_range(m.start, m.end, lang)}",
            f"*{msg('summary.where', lang)}*\n{escape(m.city(lang))}, {escape(m.country(lang))}",
            f"*{msg('summary.presidency', lang)}*\n{escape(m.presidency(lang))}",
            f"*{msg('summary.who', lang)}*\n{who}",
            f"*{msg('summary.trip', lang)}*\n{format_range(m.trip_start, m.trip_end, lang)}",
        ]
    )
    topics = Section(text=f"*{msg('summary.topics', lang)}*\n" + "\n".join(f"• {escape(t(lang))}" for t in m.topics))
    # The release attributes these statements to one speaker (井野副大臣からは…), not to "Japan".
    said_heading = (
        msg("summary.said_by", lang, who=escape(m.said_by(lang))) if m.said_by else msg("summary.japan_said", lang)
    )
    said = Section(text=f"*{said_heading}*\n" + "\n".join(f"• {escape(t(lang))}" for t in m.japan_said))
    lines = [f"• {escape(o.title(lang))}" for o in r.outcomes]
    if r.outcomes_intro is not None:
        lines.append(msg("summary.outcomes_note", lang, command=ask.command))
    lines.append(msg("summary.bilaterals", lang, count=len(r.bilaterals), command=ask.command))
    if r.bilaterals_overview is not None:
        lines.append(escape(r.bilaterals_overview(lang)))
    outcomes = Section(text=f"*{msg('summary.outcomes', lang)}*\n" + "\n".join(lines))
    index = source_index(r, folder=folder_of(ask.services))
    cited = set(index.meeting).union(*(index.outcome_title[o.id] for o in r.outcomes))
    if r.bilaterals_overview is not None:
        cited |= index.overview
    return Reply(
        title=msg("summary.title", lang),
        sections=[facts, topics, said, outcomes],
        citation=cite(r, lang, cited),
    )


def _visit(ask: Ask) -> Reply:
    """A release without a ministerial meeting (a bilateral visit): when, where, who went, whom they met."""
    r, lang = ask.release, ask.lang
    trip = r.trip
    when = format_range(trip.start, trip.end, lang) if trip else msg("summary.no_dates", lang)
    place = [escape(x(lang)) for x in (trip.city, trip.country) if x is not None] if trip else []
    who = [escape(p.named(lang)) for p in trip.delegation] if trip else []
    facts = Section(
        fields=[
            f"*{msg('summary.visit_what', lang)}*\n{escape(r.title(lang))}",
            f"*{msg('summary.when', lang)}*\n{when}",
            f"*{msg('summary.where', lang)}*\n{', '.join(place) or msg('summary.no_place', lang)}",
            f"*{msg('summary.who', lang)}*\n{chr(10).join(who) or msg('summary.no_delegation', lang)}",
        ]
    )
    lines = [meeting_line(b, lang) for b in r.bilaterals]
    lines.append(msg("summary.bilaterals", lang, count=len(r.bilaterals), command=ask.command))
    if r.bilaterals_overview is not None:
        lines.append(escape(r.bilaterals_overview(lang)))
    meetings = Section(text=f"*{msg('summary.visit_bilaterals', lang)}*\n" + "\n".join(lines))
    index = source_index(r, folder=folder_of(ask.services))
    cited = set(index.meeting).union(*(index.bilateral_line.get(b.id, frozenset()) for b in r.bilaterals))
    if r.bilaterals_overview is not None:
        cited |= index.overview
    return Reply(title=msg("summary.visit_title", lang), sections=[facts, meetings], citation=cite(r, lang, cited))
