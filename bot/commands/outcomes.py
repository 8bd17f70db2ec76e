"""The ministerial declaration and the SME AI-adoption blueprint statement, point by point.

ja: 閣僚宣言と中小企業AI導入ブループリントに係る閣僚声明の主な内容を表示します。
usage: outcomes
examples: outcomes; outcomes en; 成果
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.messages import msg
from bot.release.citation import cite, folder_of, source_index
from bot.reply import Reply, Section
from bot.text import escape

ALIASES = ("outcome", "declaration", "statement", "成果", "宣言", "閣僚宣言", "声明")
STATIC = True


def run(ask: Ask) -> Reply:
    lang, release = ask.lang, ask.release
    if not release.outcomes:
        # A visit, or a meeting that adopted nothing: say so, and name the release it is about.
        none = Section(text=msg("outcomes.none", lang))
        return Reply(title=msg("outcomes.title", lang), sections=[none], citation=cite(release, lang, set()))
    sections = [
        Section(text=f"*{escape(o.title(lang))}*\n" + "\n".join(f"• {escape(p(lang))}" for p in o.points))
        for o in release.outcomes
    ]
    index = source_index(release, folder=folder_of(ask.services))
    lines = set().union(*(index.outcome_full[o.id] for o in release.outcomes))
    if release.outcomes_intro is not None:
        # The points are the release's summary of the main contents, not the adopted texts: say so first.
        intro = msg(
            "outcomes.release_summary",
            lang,
            publisher=escape(release.publisher(lang)),
            intro=escape(release.outcomes_intro(lang)),
            command=ask.command,
        )
        sections.insert(0, Section(text=intro))
        lines |= index.outcomes_intro
    return Reply(title=msg("outcomes.title", lang), sections=sections, citation=cite(release, lang, lines))
