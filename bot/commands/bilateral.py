"""Bilateral meetings by country, code, post or name, with earlier ones; `history` lists all across releases.

ja: 二国間会談を国・コード・役職・相手の名前で表示します(過去の会談も)。`履歴` で全発表の会談を一覧します。
usage: bilateral [who] [history]
examples: bilateral; bilateral france; bilateral U.K.; bilateral canada joly; bilateral france history; 会談 ドイツ
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.commands.base import Ask
from bot.library import Entry
from bot.library.history import Met, history
from bot.library.select import ambiguous
from bot.messages import format_date, join, msg
from bot.release.citation import SourceIndex, cite_bilaterals, cite_several, folder_of, source_index
from bot.release.gazetteer import key
from bot.release.lookup import Correction
from bot.release.models import Bilateral, Lang, Release
from bot.reply import Reply, Section
from bot.text import echo, escape

ALIASES = ("bilaterals", "meeting", "meetings", "会談", "二国間", "二国間会談", "bilat")
STATIC = True
# A selector may match several releases for the history form; the other forms ask for one (see run).
MULTI = True
HISTORY_WORDS = frozenset({"history", "past", "履歴", "過去", "これまで"})
# "Also met" lines under a meeting, and history lines a page.
ALSO_MET = 5
PER_PAGE = 10


def meeting_line(b: Bilateral, lang: Lang) -> str:
    return f"*({b.number}) {escape(b.organisation(lang))}*: {escape(b.counterpart.named(lang))}"


def meeting_section(b: Bilateral, lang: Lang) -> Section:
    lines = [
        meeting_line(b, lang),
        f"*{msg('bilateral.japan', lang)}*: {join([escape(p(lang)) for p in b.japan_participants], lang)}",
        f"*{msg('bilateral.topics', lang)}*: {join([escape(t(lang)) for t in b.topics], lang)}",
        f"*{msg('bilateral.said', lang)}*: {escape(b.summary(lang))}",
    ]
    if b.note is not None:
        lines.append(f"*{msg('bilateral.note', lang)}*: {escape(b.note(lang))}")
    return Section(text="\n".join(lines))


def list_reply(ask: Ask, *, lead: str | None = None) -> Reply:
    lang = ask.lang
    lines = [meeting_line(b, lang) for b in ask.release.bilaterals]
    sections = [Section(text=lead)] if lead else []
    sections.append(Section(text="\n".join(lines)))
    footer = [msg("bilateral.list_hint", lang, command=ask.command)]
    overview: frozenset[int] = frozenset()
    if ask.release.bilaterals_overview is not None:
        overview = source_index(ask.release).overview
        # The release's own account of all eight meetings (its only mention of economic security).
        footer.insert(0, escape(ask.release.bilaterals_overview(lang)))
    return Reply(
        title=msg("bilateral.list_title", lang, count=len(ask.release.bilaterals)),
        sections=sections,
        footer=footer,
        citation=cite_bilaterals(ask.release, lang, ask.release.bilaterals, full=False, extra=overview),
    )


def correction_lines(corrections: Iterable[Correction], release: Release, lang: Lang) -> list[str]:
    """ "Showing France for “francis”": one line per misspelt word the lookup read as something else."""
    by_id = {b.id: b for b in release.bilaterals}
    lines = []
    for c in corrections:
        shown = [by_id[i] for i in c.ids if i in by_id]
        names = [b.counterpart.name(lang) if c.person else b.organisation(lang) for b in shown]
        lines.append(
            msg("lookup.corrected", lang, typed=echo(c.typed), shown=escape(join(list(dict.fromkeys(names)), lang)))
        )
    return lines


def index_of(entry: Entry, ask: Ask) -> SourceIndex:
    """The source index of a release of the library: its own folder's text, else the running bot's data."""
    return source_index(entry.release, folder=entry.folder or folder_of(ask.services))


def met_line(m: Met, lang: Lang) -> str:
    """• 2025年12月10日 「title」: (2) France: Minister X — one earlier meeting (escaped)."""
    r, b = m.entry.release, m.bilateral
    who = f"{escape(b.organisation(lang))}: {escape(b.counterpart.named(lang))}"
    return "• " + msg("history.line", lang, date=format_date(r.published, lang), title=escape(r.title(lang)), who=who)


def _who_word(found: tuple[Bilateral, ...], typed: str) -> str:
    """What to type for the history of the meetings shown: their code, else what was typed."""
    codes = list(dict.fromkeys(b.code for b in found))
    return echo(" ".join(codes)) if codes else echo(typed)


def _cited_lines(m: Met, ask: Ask) -> frozenset[int]:
    return index_of(m.entry, ask).bilateral_line.get(m.bilateral.id, frozenset())


def also_met(ask: Ask, found: tuple[Bilateral, ...]) -> tuple[list[Met], int]:
    """Meetings with the same countries or organisations in the library's other releases, newest first
    (bounded), and how many there are in all. Reads only as far as it shows: the cost does not grow with
    the library."""
    codes = {key(b.code) for b in found}
    every = history(ask.lib).of(codes)
    chosen = ask.chosen
    shown: list[Met] = []
    for m in every:
        if m.entry is not chosen:
            shown.append(m)
            if len(shown) == ALSO_MET:
                break
    own = sum(1 for b in chosen.release.bilaterals if key(b.code) in codes)
    return shown, len(every) - own


def split_history(args: tuple[str, ...]) -> tuple[tuple[str, ...], int] | None:
    """(who, page) when the words ask for the history (`france history`, `履歴 フランス`, `france history page 2`)."""
    words = list(args)
    page = 1
    if len(words) >= 2 and words[-2] in {"page", "p", "ページ"} and words[-1].isdigit():
        page, words = int(words[-1]), words[:-2]
    if not any(w in HISTORY_WORDS for w in words):
        return None
    return tuple(w for w in words if w not in HISTORY_WORDS), max(page, 1)


def history_reply(ask: Ask, who: tuple[str, ...], page: int) -> Reply:
    """Every meeting with who the words name, across the releases in scope, newest first, each with its citation."""
    lang, typed = ask.lang, " ".join(who)
    found = ask.lookup.find_bilaterals(typed).bilaterals if who else ()
    codes = {b.code for b in found} or set(history(ask.lib).codes(typed))
    within = ask.scope if ask.selectors else None
    meetings = history(ask.lib).of(codes, within=within) if codes else ()
    if not meetings:
        return list_reply(ask, lead=msg("history.none", lang, text=echo(typed)))
    first = (page - 1) * PER_PAGE
    shown = meetings[first : first + PER_PAGE] or meetings[:PER_PAGE]
    lines = []
    for m in shown:
        cited = cite_several([(m.entry.release, _cited_lines(m, ask))], lang)
        where = " — ".join(cited.elements) if cited else ""
        lines.append(f"{met_line(m, lang)}\n    _{where}_")
    name = shown[0].bilateral.organisation(lang)
    footer = []
    if first + len(shown) < len(meetings):
        footer.append(
            msg(
                "history.shown", lang, shown=len(shown), command=ask.command, who=_who_word(found, typed), next=page + 1
            )
        )
    return Reply(
        title=msg("history.title", lang, who=escape(name), count=len(meetings)),
        sections=[Section(text="\n".join(lines[i : i + 5])) for i in range(0, len(lines), 5)],
        footer=footer,
        citation=cite_several([(m.entry.release, _cited_lines(m, ask)) for m in shown], lang),
    )


def _elsewhere(ask: Ask) -> Reply | None:
    """Who the words name is not in the selected release: their meetings in the others, if any."""
    typed = ask.raw_args or " ".join(ask.args)
    codes = history(ask.lib).codes(typed)
    others = [m for m in history(ask.lib).of(codes) if m.entry is not ask.chosen] if codes else []
    if not others:
        return None
    lang = ask.lang
    shown = others[:ALSO_MET]
    release = escape(ask.release.title(lang))
    lines = [msg("history.not_here", lang, text=echo(typed), release=release), *(met_line(m, lang) for m in shown)]
    footer = [msg("history.hint", lang, command=ask.command, who=echo(typed))]
    return Reply(
        title=msg("history.title", lang, who=escape(shown[0].bilateral.organisation(lang)), count=len(others)),
        sections=[Section(text="\n".join(lines))],
        footer=footer,
        citation=cite_several([(m.entry.release, _cited_lines(m, ask)) for m in shown], lang),
    )


def run(ask: Ask) -> Reply:
    lang = ask.lang
    wants_history = split_history(ask.args)
    if wants_history is not None:
        return history_reply(ask, *wants_history)
    if len(ask.selection) > 1:
        return ambiguous(ask.selection, ask.selectors, lang=lang, command=ask.command)
    index_of(ask.chosen, ask)  # the citation's lines: the running bot's data
    if not ask.args:
        return list_reply(ask)
    match = ask.lookup.find_bilaterals(ask.raw_args or " ".join(ask.args))
    found = match.bilaterals
    if not found:
        return _elsewhere(ask) or list_reply(ask, lead=msg("bilateral.not_found", lang, text=echo(ask.raw_args)))
    sections = [meeting_section(b, lang) for b in found]
    lead = correction_lines(match.corrections, ask.release, lang)
    if len(found) > 1:
        lead.append(msg("bilateral.several", lang, count=len(found), text=echo(ask.raw_args)))
    if lead:
        sections.insert(0, Section(text="\n".join(lead)))
    if len(found) == 1:
        title = msg("bilateral.title", lang, number=found[0].number, organisation=found[0].organisation(lang))
    else:
        organisations = list(dict.fromkeys(b.organisation(lang) for b in found))
        title = msg("bilateral.list_title", lang, count=len(found)) + f": {join(organisations, lang)}"
    citation = cite_bilaterals(ask.release, lang, found, full=True)
    footer: list[str] = []
    earlier, total = also_met(ask, found)
    if earlier:
        lines = [f"*{msg('history.also_met', lang)}*", *(met_line(m, lang) for m in earlier)]
        who = _who_word(found, ask.raw_args)
        if total > len(earlier):
            lines.append(msg("history.more", lang, count=total - len(earlier), command=ask.command, who=who))
        else:
            footer.append(msg("history.hint", lang, command=ask.command, who=who))
        sections.append(Section(text="\n".join(lines)))
        parts = [(ask.release, citation.lines), *((m.entry.release, _cited_lines(m, ask)) for m in earlier)]
        citation = cite_several(parts, lang) or citation
    return Reply(title=title, sections=sections, footer=footer, citation=citation)
