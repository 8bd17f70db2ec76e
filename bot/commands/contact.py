"""The contact desk for a topic, a name, a bureau or an extension; both desks without one.

ja: 話題・担当者名・部署・内線で問い合わせ先(AI・デジタル、出張全般)を表示します(指定なしで両方)。
usage: contact [topic]
examples: contact; contact ai; contact デジタル; contact 出張; contact 猪飼; contact 3991; 問い合わせ
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.messages import format_numbers, join, msg
from bot.release.citation import cite_desks, folder_of, source_index
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
            f"*{msg('contact.phone', lang)}*\n{format_numbers(desk, lang)}",
            f"*{msg('contact.email', lang)}*\n{escape(desk.email)}",
        ],
    )


def run(ask: Ask) -> Reply:
    lang, release = ask.lang, ask.release
    source_index(release, folder=folder_of(ask.services))  # the citation's lines: the running bot's data
    title = msg("contact.title", lang)
    hint = [msg("contact.hint", lang, command=ask.command)]
    if not ask.args:
        return Reply(
            title=title,
            sections=[desk_section(d, lang) for d in release.desks],
            footer=hint,
            citation=cite_desks(release, lang, release.desks),
        )
    match = ask.lookup.find_desks(ask.raw_args or " ".join(ask.args))
    if not match.desks:
        # Not a guess: an unknown topic gets every desk, and says the release names none for it.
        what = " ".join(match.unknown) or ask.raw_args
        unknown = msg("contact.unknown", lang, text=echo(what), count=len(release.desks))
        return Reply(
            title=title,
            sections=[Section(text=unknown), *(desk_section(d, lang) for d in release.desks)],
            footer=hint,
            citation=cite_desks(release, lang, release.desks),
        )
    lead = [
        msg(
            "lookup.corrected",
            lang,
            typed=echo(c.typed),
            # The desk's bureau and office, which read as a name; its topic line reads as a sentence.
            shown=join([escape(f"{release.desk(i).bureau(lang)} {release.desk(i).office(lang)}") for i in c.ids], lang),
        )
        for c in match.corrections
    ]
    if len(match.desks) > 1:
        lead.append(msg("contact.several", lang, count=len(match.desks), text=echo(ask.raw_args)))
    sections = [Section(text="\n".join(lead))] if lead else []
    return Reply(
        title=title,
        sections=[*sections, *(desk_section(d, lang) for d in match.desks)],
        citation=cite_desks(release, lang, match.desks),
    )
