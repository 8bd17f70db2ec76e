"""Search every release's text and data, in Japanese or English; `page N` at the end shows more.

ja: すべての発表の本文とデータを日本語・英語で検索します(1〜2文字の語も可)。末尾の `page 2` で続きを表示します。
usage: search <words> [page N]
examples: search 量子; search semiconductors; search 仏; search steel tariffs; search 会談 page 2; 検索 関税
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.commands.base import Ask
from bot.messages import format_date, join, msg
from bot.release.citation import cite
from bot.release.models import Lang, Release, untranslated_texts
from bot.reply import Reply, Section
from bot.search.index import Hit, Results, SearchIndex
from bot.search.loaded import Found, index_for, search_index
from bot.search.tokens import QueryWord, fold, stem
from bot.settings import DATA_DIR
from bot.text import echo, escape

ALIASES = ("find", "grep", "検索", "さがす", "探す")
# It searches every release; `@…` narrows it to those selected.
MULTI = True
PER_PAGE = 5
# A sentence longer than this is shown as a window around its first match.
SNIPPET = 280
_PAGE_WORDS = frozenset({"page", "p", "ページ", "頁"})
_PAGE_SUFFIX = re.compile(r"^(?:p|page)?(\d{1,4})(?:ページ|頁)?$", re.IGNORECASE)
# Slack reads *bold* only between word boundaries; Japanese has no spaces, so the marks get zero-width ones.
_ZWSP = "\u200b"
_SUGGESTIONS: dict[Lang, tuple[str, ...]] = {
    "ja": ("量子", "半導体", "鉄鋼", "関税", "会談"),
    "en": ("quantum", "semiconductors", "steel", "tariff", "AI"),
}


def split_page(raw: str) -> tuple[str, int]:
    """The query and the page asked for: `量子 page 2`, `量子 p2`, `量子 2ページ`; page 1 without one."""
    words = raw.split()
    if len(words) >= 3 and words[-2].lower() in _PAGE_WORDS and words[-1].isdigit():
        return " ".join(words[:-2]), int(words[-1])
    if len(words) >= 2 and (m := _PAGE_SUFFIX.match(words[-1])) and not words[-1].isdigit():
        return " ".join(words[:-1]), int(m.group(1))
    return raw.strip(), 1


def data_dir(ask: Ask) -> Path:
    settings = getattr(ask.services, "settings", None)
    found = getattr(settings, "data_dir", None)
    return found if isinstance(found, Path) else DATA_DIR


def cache_dir(ask: Ask) -> Path | None:
    """Where a large library's index is kept between runs: the running bot's settings; none without them."""
    found = getattr(getattr(ask.services, "settings", None), "search_cache_dir", None)
    return found if isinstance(found, Path) else None


def index(ask: Ask) -> Found:
    """The library's index (or, while a worker builds it, the default release's); for a request that carries
    only one release and no follow-ups of it, that release with its folder's (or the services') commitments."""
    library = ask.lib
    if len(library) == 1 and library.default.folder is None and not library.default.commitments:
        commitments = getattr(ask.services, "commitments", None)
        loaded = commitments().commitments if callable(commitments) else None
        return Found(index_for(library.default.lookup, data_dir=data_dir(ask), commitments=loaded), complete=True)
    return search_index(library, data_dir=data_dir(ask), cache_dir=cache_dir(ask))


def _releases(ask: Ask) -> set[str] | None:
    """The releases an `@…` selector chose; None: every release."""
    return {e.id for e in ask.selection} if ask.selectors else None


def _spans(text: str, words: tuple[QueryWord, ...]) -> list[tuple[int, int]]:
    """Where the query words are in `text` as written (start, end), merged."""
    folded, where = fold(text)
    found: list[tuple[int, int]] = []
    for w in words:
        if w.japanese:
            for m in re.finditer(re.escape(w.folded), folded):
                found.append((where[m.start()], where[m.end() - 1] + 1))
        else:
            for m in re.finditer(r"[a-z0-9]+", folded):
                if "w:" + stem(m.group()) == w.terms[0]:
                    found.append((where[m.start()], where[m.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, words: tuple[QueryWord, ...], *, limit: int = SNIPPET) -> str:
    """`text` escaped for Slack with the query words in bold, cut to a window around the first one."""
    spans = _spans(text, words)
    start, end = 0, len(text)
    if len(text) > limit:
        start = max(0, min(spans[0][0] - limit // 3 if spans else 0, len(text) - limit))
        end = start + limit
    out = ["…" if start else ""]
    at = start
    for span_start, span_end in spans:
        s, e = max(span_start, start), min(span_end, end)
        if s >= e:
            continue
        out.append(escape(text[at:s]))
        out.append(f"{_ZWSP}*{escape(text[s:e])}*{_ZWSP}")
        at = e
    out.append(escape(text[at:end]))
    out.append("…" if end < len(text) else "")
    return "".join(out)


def release_name(release: Release, lang: Lang) -> str:
    return msg(
        "search.release", lang, published=format_date(release.published, lang), title=escape(release.title(lang))
    )


def release_url(release: Release) -> str | None:
    """The release page, when the original text gives it (the model keeps <, > and | out of it)."""
    return release.url


def _shown(hit: Hit, lang: Lang, untranslated: Sequence[str] = ()) -> str:
    """The matching sentence in the reply's language where the data has it, with the matched words in bold.

    In English, a sentence that holds a field still to be translated (`untranslated`: their Japanese) is
    marked as not yet translated.
    """
    p, words = hit.doc.passage, hit.matched
    ja_line = highlight(p.ja, words)
    if lang == "en" and any(ja in p.ja for ja in untranslated):
        ja_line = msg("untranslated", lang, text=ja_line)
    ja_hit = bool(_spans(p.ja, words))
    english = sorted(p.en, key=lambda t: (-len(_spans(t, words)), -len(t)))
    en_hit = bool(english) and bool(_spans(english[0], words))
    if lang == "en" and english and (en_hit or not ja_hit):
        lines = [highlight(english[0], words)]
        if ja_hit:
            lines.append(ja_line)
    else:
        lines = [ja_line]
        if english and (en_hit or lang == "en"):
            lines.append(f"_{highlight(english[0], words)}_" if en_hit else highlight(english[0], words))
    if p.team_plan:
        lines.insert(0, f"*{msg('followups.team_plan', lang)}*")
    return "\n".join(lines)


def _cite(hit: Hit, release: Release, lang: Lang) -> str:
    p = hit.doc.passage
    name = release_name(release, lang)
    if p.line is not None:
        cite = msg("search.cite_line", lang, release=name, lines=p.line)
    else:
        cite = msg("search.cite_record", lang, release=name, record=escape(p.record or ""))
    url = release_url(release)
    return f"{cite} <{url}|{msg('search.link', lang)}>" if url else cite


def _suggest(idx: SearchIndex, query: str, lang: Lang, command: str) -> str:
    """Words the index does have that are close to what was typed, else topics the release is about."""
    vocabulary = idx.vocabulary
    close: list[str] = []
    for word in query.lower().split():
        close += [w for w, _s, _ in process.extract(word, vocabulary, scorer=fuzz.ratio, limit=2, score_cutoff=75)]
    words = list(dict.fromkeys(close)) or list(_SUGGESTIONS[lang])
    return msg("search.suggest", lang, words=join([f"`{command} search {escape(w)}`" for w in words[:5]], lang))


def build_reply(results: Results, *, query: str, lang: Lang, command: str, idx: SearchIndex) -> Reply:
    shown = echo(query)
    title = msg("search.title", lang)
    if not results.total:
        return Reply(
            title=title,
            sections=[Section(text=msg("search.none", lang, query=shown) + "\n" + _suggest(idx, query, lang, command))],
        )
    first = (results.page - 1) * PER_PAGE + 1
    last = first + sum(len(g.hits) for g in results.groups) - 1
    lead = [msg("search.count", lang, query=shown, total=results.total, first=first, last=last)]
    if not results.every_word:
        lead.append(msg("search.some_words", lang))
    sections = [Section(text="\n".join(lead))]
    for group in results.groups:
        url = release_url(group.release)
        head = f"*{release_name(group.release, lang)}*" + (f" <{url}|{msg('search.link', lang)}>" if url else "")
        sections.append(Section(text=head))
        untranslated = [t.ja for t in untranslated_texts(group.release)] if lang == "en" else []
        for hit in group.hits:
            shown_hit = _shown(hit, lang, untranslated)
            sections.append(Section(text=f"{shown_hit}\n_{_cite(hit, group.release, lang)}_"))
    footer = []
    if last < results.total:
        footer.append(
            msg("search.more", lang, more=results.total - last, command=command, query=shown, next=results.page + 1)
        )
    # The reply's own citation (a context block, last): the release and every line the shown hits come from.
    # One release a page today; once the library feeds several, each group's lines stay cited in its hits.
    citation = None
    if len(results.groups) == 1:
        group = results.groups[0]
        citation = cite(group.release, lang, [h.doc.passage.line for h in group.hits if h.doc.passage.line])
    return Reply(title=title, sections=sections, footer=footer, citation=citation)


def search(ask: Ask, raw: str) -> Reply:
    query, page = split_page(raw)
    if not query:
        return Reply(
            title=msg("search.title", ask.lang),
            sections=[Section(text=msg("search.usage", ask.lang, command=ask.command))],
        )
    found = index(ask)
    results = found.index.search(query, page=page, per_page=PER_PAGE, releases=_releases(ask))
    reply = build_reply(results, query=query, lang=ask.lang, command=ask.command, idx=found.index)
    if not found.complete:
        # Said first: what follows is the default release's alone, until the whole library's index is ready.
        release = release_name(ask.lib.default.release, ask.lang)
        note = Section(text=msg("search.building", ask.lang, count=len(ask.lib), release=release))
        reply = reply.model_copy(update={"sections": [note, *reply.sections]})
    return reply


def has_results(ask: Ask, raw: str) -> bool:
    """Whether `raw` (a topic typed without a command) finds passages holding all its words."""
    query, _ = split_page(raw)
    if not query:
        return False
    found = index(ask)
    results = found.index.search(query, per_page=1, releases=_releases(ask))
    return results.total > 0 and results.every_word


def run(ask: Ask) -> Reply:
    return search(ask, ask.raw_args or " ".join(ask.args))
