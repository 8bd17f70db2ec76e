"""The ministerial declaration and the SME AI-adoption blueprint statement, point by point.

ja: 閣僚宣言と中小企業AI導入ブループリントに係る閣僚声明の主な内容を表示します。
usage: outcomes
examples: outcomes; outcomes en; 成果
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.messages import msg
from bot.reply import Reply, Section
from bot.text import escape

ALIASES = ("outcome", "declaration", "statement", "成果", "宣言", "閣僚宣言", "声明")
STATIC = True


def run(ask: Ask) -> Reply:
    lang = ask.lang
    sections = [
        Section(text=f"*{escape(o.title(lang))}*\n" + "\n".join(f"• {escape(p(lang))}" for p in o.points))
        for o in ask.release.outcomes
    ]
    return Reply(title=msg("outcomes.title", lang), sections=sections)
