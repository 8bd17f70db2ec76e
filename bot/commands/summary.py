"""What, when, where and who of the meeting, and what it adopted.

ja: 会合の概要(何が・いつ・どこで・誰が・成果)を表示します。
usage: summary
examples: summary; summary en; 概要
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.messages import format_date, format_range, join, msg
from bot.reply import Reply, Section
from bot.text import escape

ALIASES = ("概要", "まとめ", "サマリー", "about", "overview")
STATIC = True


def run(ask: Ask) -> Reply:
    r, lang = ask.release, ask.lang
    m = r.meeting
    who = join([f"{escape(p.name(lang))} ({escape(p.title(lang))})" for p in m.delegation], lang)
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
    said = Section(
        text=f"*{msg('summary.japan_said', lang)}*\n" + "\n".join(f"• {escape(t(lang))}" for t in m.japan_said)
    )
    outcomes = Section(
        text=f"*{msg('summary.outcomes', lang)}*\n"
        + "\n".join(f"• {escape(o.title(lang))}" for o in r.outcomes)
        + "\n"
        + msg("summary.bilaterals", lang, count=len(r.bilaterals), command=ask.command)
    )
    return Reply(
        title=msg("summary.title", lang),
        sections=[facts, topics, said, outcomes],
        footer=[
            msg("summary.source", lang, publisher=escape(r.publisher(lang)), published=format_date(r.published, lang))
        ],
    )
