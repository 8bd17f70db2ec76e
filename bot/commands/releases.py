"""Every release the bot knows, newest first: date, title, id, bilaterals and follow-ups; `@…` narrows it.

ja: 発表の一覧(新しい順: 日付・題名・ID・会談とフォローアップの件数)。`@2025` などで絞り込めます。
usage: releases [@selector] [page N]
examples: releases; releases @2025; releases page 2; 発表一覧
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.commands.search import split_page
from bot.library import Entry
from bot.messages import format_date, msg
from bot.release.citation import cite_several, source_index
from bot.reply import Reply, Section
from bot.text import escape

ALIASES = ("release", "library", "発表", "発表一覧", "一覧", "リリース")
STATIC = True
MULTI = True
PER_PAGE = 10


def release_line(entry: Entry, ask: Ask) -> str:
    r, lang = entry.release, ask.lang
    counts = msg("releases.counts", lang, bilaterals=len(r.bilaterals), followups=len(entry.commitments))
    default = f" {msg('releases.default', lang)}" if entry is ask.lib.default else ""
    return f"• *{format_date(r.published, lang)}* {escape(r.title(lang))}{default}\n    `{escape(entry.id)}` — {counts}"


def run(ask: Ask) -> Reply:
    lang = ask.lang
    shown = ask.scope
    _, page = split_page("releases " + " ".join(ask.args))
    pages = max(1, -(-len(shown) // PER_PAGE))
    page = min(max(page, 1), pages)
    first = (page - 1) * PER_PAGE
    listed = shown[first : first + PER_PAGE]
    footer = [msg("releases.use", lang, command=ask.command)]
    if len(shown) > PER_PAGE:
        footer.insert(0, msg("releases.shown", lang, first=first + 1, last=first + len(listed)))
    if page < pages:
        picked = "".join(f" @{escape(s)}" for s in ask.selectors)
        more = f"{ask.command} releases{picked} page {page + 1}"
        footer.insert(1, msg("releases.more", lang, command=ask.command, next=more))
    # Each release listed is cited: its date and title (linked to its page when known) and the lines heading it.
    citation = cite_several([(e.release, source_index(e.release).heading) for e in listed], lang)
    return Reply(
        title=msg("releases.title", lang, count=len(shown)),
        sections=[Section(text="\n".join(release_line(e, ask) for e in listed))],
        footer=footer,
        citation=citation,
    )
