"""The related documents listed in the release: title, language, format and size.

ja: 関連資料(題名・言語・形式・サイズ)を表示します。
usage: docs
examples: docs; 資料
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.messages import join, msg
from bot.release.citation import cite, folder_of, source_index
from bot.reply import Reply, Section
from bot.text import escape

ALIASES = ("documents", "doc", "資料", "関連資料")
STATIC = True


def run(ask: Ask) -> Reply:
    lang, release = ask.lang, ask.release
    lines = []
    for doc in release.documents:
        details = [escape(doc.language(lang))] if doc.language is not None else []
        if doc.format and doc.size_kb:
            details.append(msg("docs.size", lang, format=doc.format, size=doc.size_kb))
        lines.append(f"• {escape(doc.title(lang))}" + (f" ({join(details, lang)})" if details else ""))
    # The citation names the release the documents are attached to, and links its page when known.
    cited = set().union(*source_index(release, folder=folder_of(ask.services)).document)
    return Reply(
        title=msg("docs.title", lang),
        sections=[Section(text="\n".join(lines))],
        citation=cite(release, lang, cited),
    )
