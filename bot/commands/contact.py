"""The contact desk for a topic (ai, digital, blueprint, trip, general); both desks without one.

ja: 話題ごとの問い合わせ先(AI・デジタル、出張全般)を表示します(指定なしで両方)。
usage: contact [topic]
examples: contact; contact ai; contact デジタル; contact 出張; 問い合わせ
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.messages import join, msg
from bot.release.models import Desk, Lang
from bot.reply import Reply, Section
from bot.text import echo, escape

ALIASES = ("contacts", "desk", "desks", "問い合わせ", "問合せ", "連絡先", "担当", "窓口")
STATIC = True


def desk_section(desk: Desk, lang: Lang) -> Section:
    return Section(
        text=f"*{escape(desk.topic(lang))}*",
        fields=[
            f"*{msg('contact.bureau', lang)}*\n{escape(desk.unit(lang))}",
            f"*{msg('contact.lead', lang)}*\n{escape(desk.lead(lang))}",
            f"*{msg('contact.staff', lang)}*\n{join([escape(s(lang)) for s in desk.staff], lang)}",
            f"*{msg('contact.phone', lang)}*\n{desk.phone} ({msg('contact.extension', lang)} {desk.extension})",
            f"*{msg('contact.email', lang)}*\n{escape(desk.email)}",
        ],
    )


def run(ask: Ask) -> Reply:
    lang, release = ask.lang, ask.release
    title = msg("contact.title", lang)
    hint = [msg("contact.hint", lang, command=ask.command)]
    if not ask.args:
        return Reply(title=title, sections=[desk_section(d, lang) for d in release.desks], footer=hint)
    desk = ask.lookup.desk(" ".join(ask.args))
    if desk is None:
        desk = next((d for word in ask.args if (d := ask.lookup.desk(word)) is not None), None)
    if desk is None:
        general = release.desks[0]
        return Reply(
            title=title,
            sections=[Section(text=msg("contact.unknown", lang, text=echo(ask.raw_args))), desk_section(general, lang)],
            footer=hint,
        )
    return Reply(title=title, sections=[desk_section(desk, lang)])
