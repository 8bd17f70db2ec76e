"""This help: every command with examples.

ja: このヘルプ(コマンドと例の一覧)を表示します。
usage: help
examples: help; help en; ヘルプ
"""

from __future__ import annotations

from bot.commands.base import Ask, Command
from bot.messages import msg
from bot.reply import Reply, Section
from bot.text import escape

ALIASES = ("ヘルプ", "使い方", "?", "?", "h")
STATIC = True
MULTI = True


def build_help(ask: Ask, commands: list[Command], *, lead: list[str] | None = None) -> Reply:
    lang, slash = ask.lang, ask.command
    sections = [Section(text=line) for line in (lead or [])]
    sections.append(Section(text=msg("help.intro", lang)))
    # Every command reads one release (the newest unless `@…` picks another): one line says how.
    sections.append(Section(text=msg("help.selector", lang, command=slash)))
    for cmd in commands:
        if cmd.hidden or (cmd.admin and not ask.is_admin):
            continue
        admin = f" _({msg('help.admin', lang)})_" if cmd.admin else ""
        examples = " ".join(f"`{slash} {escape(e)}`" for e in cmd.examples)
        sections.append(
            Section(
                text=f"*`{slash} {escape(cmd.usage)}`*{admin}\n{escape(cmd.summary(lang))}\n"
                f"{msg('help.examples', lang)}: {examples}"
            )
        )
    return Reply(title=msg("help.title", lang, command=slash), sections=sections)


def run(ask: Ask) -> Reply:
    from bot.commands import registry

    return build_help(ask, registry())
