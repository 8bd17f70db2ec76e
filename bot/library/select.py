"""Release selectors in command text: `@<id>`, `@2025-12-10`, `@2025-12`, `@2025`, `@2025年12月`, `@word`."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from bot.library import Entry, Library
from bot.messages import format_date, msg
from bot.release.models import Lang, Release
from bot.reply import Reply, Section
from bot.text import echo, escape, normalize

# How many releases an error lists (the rest: "/g7 releases").
LISTED = 5

_DAY = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
# 2025年12月10日, 2025年12月, 2025年 (the 日/月/年 optional at the end).
_JA_DATE = re.compile(r"^(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日?)?)?$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff]")


def is_selector(word: str) -> bool:
    """Whether a word of command text selects a release (`@…` or `＠…`, with something after the mark)."""
    folded = unicodedata.normalize("NFKC", word)
    return len(folded) > 1 and folded.startswith("@")


def split_selectors(text: str) -> tuple[str, tuple[str, ...]]:
    """The text with its selector words taken out, and the selectors (without `@`, NFKC-folded)."""
    kept: list[str] = []
    found: list[str] = []
    for word in text.split():
        if is_selector(word):
            found.append(unicodedata.normalize("NFKC", word)[1:])
        else:
            kept.append(word)
    return " ".join(kept), tuple(found)


@dataclass(frozen=True)
class _Criterion:
    """One selector read: a release id, a day, a month, a year, or a title word."""

    typed: str
    day: dt.date | None = None
    year: int | None = None
    month: int | None = None
    word: str | None = None


def _date_parts(year: str, month: str | None, day: str | None, typed: str) -> _Criterion | None:
    y, m = int(year), int(month) if month else None
    if day:
        try:
            return _Criterion(typed=typed, day=dt.date(y, m or 1, int(day)))
        except ValueError:
            return None
    if m is not None and not 1 <= m <= 12:
        return None
    return _Criterion(typed=typed, year=y, month=m)


def _criterion(typed: str) -> _Criterion:
    text = normalize(typed)
    for pattern in (_DAY, _MONTH, _YEAR, _JA_DATE):
        found = pattern.match(text)
        if found:
            groups: list[str | None] = [*found.groups(), None, None][:3]
            read = _date_parts(groups[0] or "", groups[1], groups[2], typed)
            if read is not None:
                return read
    return _Criterion(typed=typed, word=text)


# Per entry, so a new snapshot's entries get their own and an old one's go with it.
_TITLES: WeakKeyDictionary[Entry, tuple[frozenset[str], str]] = WeakKeyDictionary()


def _title_words(entry: Entry) -> tuple[frozenset[str], str]:
    """The release's title words (en, and ja split where it has spaces) and its folded Japanese texts."""
    held = _TITLES.get(entry)
    if held is None:
        held = _TITLES[entry] = _read_title(entry.release)
    return held


def _read_title(release: Release) -> tuple[frozenset[str], str]:
    texts = [release.title.ja, release.title.en, release.name.ja, release.name.en]
    texts += [t for place in release.places for t in (place.ja, place.en)]
    words = frozenset(w for t in texts for w in _WORD.findall(normalize(t)))
    return words, " ".join(normalize(t) for t in texts)


def _matches(entry: Entry, c: _Criterion) -> bool:
    r = entry.release
    if c.day is not None:
        return r.published == c.day or (r.dates is not None and r.dates[0] <= c.day <= r.dates[1])
    if c.year is not None:
        return r.published.year == c.year and (c.month is None or r.published.month == c.month)
    word = c.word or ""
    if normalize(entry.id) == word:
        return True
    words, folded = _title_words(entry)
    if word in words:
        return True
    # Japanese titles have no spaces: a Japanese word is looked for inside them (@モントリオール, @産業).
    return bool(_JAPANESE.search(word)) and word in folded


def matching(library: Library, selectors: Sequence[str]) -> tuple[Entry, ...]:
    """The releases every selector matches, newest first. A release id alone selects that release exactly."""
    if len(selectors) == 1:
        exact = library.get(selectors[0]) or next(
            (e for e in library if normalize(e.id) == normalize(selectors[0])), None
        )
        if exact is not None:
            return (exact,)
    criteria = [_criterion(s) for s in selectors]
    return tuple(e for e in library if all(_matches(e, c) for c in criteria))


def release_line(entry: Entry, lang: Lang) -> str:
    """• 2025年12月10日 タイトル `id`: one release in a list (escaped)."""
    r = entry.release
    return f"• {format_date(r.published, lang)} {escape(r.title(lang))} `{escape(entry.id)}`"


def no_match(library: Library, selectors: Sequence[str], *, lang: Lang, command: str) -> Reply:
    """Nothing matched: say so, list the newest releases with their ids, point at `/g7 releases`."""
    typed = " ".join(f"@{s}" for s in selectors)
    lines = [release_line(e, lang) for e in library.entries[:LISTED]]
    return Reply(
        title=msg("select.title", lang),
        sections=[
            Section(text=msg("select.none", lang, text=echo(typed), count=len(library))),
            Section(text="\n".join(lines)),
        ],
        footer=[msg("select.hint", lang, command=command)],
    )


def ambiguous(found: Sequence[Entry], selectors: Sequence[str], *, lang: Lang, command: str) -> Reply:
    """A single-release command whose selector matches several: list them with the ids to pick one by."""
    typed = " ".join(f"@{s}" for s in selectors)
    lines = [release_line(e, lang) for e in found[:LISTED]]
    if len(found) > LISTED:
        lines.append(msg("select.more", lang, count=len(found) - LISTED, command=command, text=echo(typed)))
    return Reply(
        title=msg("select.title", lang),
        sections=[
            Section(text=msg("select.several", lang, text=echo(typed), count=len(found))),
            Section(text="\n".join(lines)),
        ],
        footer=[msg("select.pick", lang, command=command, id=escape(found[0].id))],
    )
