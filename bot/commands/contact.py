"""The contact desk for a topic, a name, a bureau or an extension; both desks without one.

ja: 話題・担当者名・部署・内線で問い合わせ先(AI・デジタル、出張全般)を表示します(指定なしで両方)。
usage: contact [topic]
examples: contact; contact ai; contact デジタル; contact 出張; contact 猪飼; contact 3991; 問い合わせ
"""

from __future__ import annotations

from bot.commands.base import Ask
from bot.messages import format_numbers, join, msg
from bot.release.citation import cite_desks, folder_of, source_index
from bot.release.lookup import ReleaseLookup
from bot.release.models import Desk, Lang
from bot.reply import Reply, Section
from bot.text import echo, escape

ALIASES = ("contacts", "desk", "desks", "問い合わせ", "問合せ", "連絡先", "担当", "窓口")
STATIC = True
# How many desks the hint names (the first ones in the release).
HINTED = 2


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


def hint_word(lookup: ReleaseLookup, desk: Desk, lang: Lang) -> str | None:
    """A keyword of `desk` that the release reads as that desk alone (one in the reply's script first)."""
    for word in sorted(desk.keywords, key=lambda w: w.isascii() != (lang == "en")):
        found = lookup.find_desks(word)
        if [d.id for d in found.desks] == [desk.id] and not found.corrections and not found.unknown:
            return word
    return None


def hint(ask: Ask) -> list[str]:
    """How to pick a desk, with the words of the selected release's own first desks; none if none has one."""
    # A release picked with `@…`: its words name its desks only with it picked again (by its id, unambiguous).
    picked = f" @{ask.release.id}" if ask.selectors else ""
    examples = [
        msg(
            "contact.hint_example",
            ask.lang,
            command=ask.command,
            word=escape(word + picked),
            desk=escape(d.office(ask.lang)),
        )
        for d in ask.release.desks[:HINTED]
        if (word := hint_word(ask.lookup, d, ask.lang)) is not None
    ]
    return [msg("contact.hint", ask.lang, examples=join(examples, ask.lang))] if examples else []


def run(ask: Ask) -> Reply:
    lang, release = ask.lang, ask.release
    source_index(release, folder=folder_of(ask.services))  # the citation's lines: the running bot's data
    title = msg("contact.title", lang)
    hint_lines = hint(ask)
    if not ask.args:
        return Reply(
            title=title,
            sections=[desk_section(d, lang) for d in release.desks],
            footer=hint_lines,
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
            footer=hint_lines,
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
