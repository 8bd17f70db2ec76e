"""The /g7 subcommands: the registry, and `answer()`, which turns command text into a Reply."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import replace
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from bot.commands import (
    admin,
    bilateral,
    contact,
    docs,
    followups,
    help,
    outcomes,
    releases,
    search,
    summary,
)
from bot.commands.base import Ask, Command, library_of
from bot.library import Library
from bot.library.select import ambiguous, matching, no_match, split_selectors
from bot.messages import msg
from bot.release.lookup import ReleaseLookup
from bot.release.models import Lang
from bot.reply import Reply
from bot.text import echo, tokens, unescape_slack

# One line per subcommand; help and "did you mean" are generated from this list.
_MODULES = [summary, bilateral, contact, outcomes, docs, followups, search, releases, admin, help]

# Text beyond this is not read (Slack allows 4,000 characters; no command needs more than a few words).
INPUT_LIMIT = 500

LANG_WORDS: dict[str, Lang] = {
    "en": "en",
    "english": "en",
    "英語": "en",
    "eng": "en",
    "ja": "ja",
    "jp": "ja",
    "japanese": "ja",
    "日本語": "ja",
    "jpn": "ja",
}


# Natural phrasing: text that does not start with a command goes to the command its words ask for, checked
# in this order (a question about a desk may also say "meet"). English words are whole words; Japanese ones
# are looked for inside the text, before hiragana is folded (会っ, の担当).
_QUESTIONS: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = (
    (
        "contact",
        frozenset(
            {"contact", "contacts", "desk", "desks", "handles", "handle", "responsible", "ask", "phone", "email"}
        ),
        ("問い合わせ", "問合せ", "連絡", "窓口", "担当者", "担当は", "の担当", "誰に聞", "電話", "内線", "メール"),
    ),
    (
        "followups",
        frozenset({"followup", "followups", "follow-up", "follow-ups", "commitments", "todo", "todos"}),
        ("フォローアップ", "宿題"),
    ),
    (
        "outcomes",
        frozenset({"outcomes", "outcome", "declaration", "adopted", "agree", "agreed", "agreement"}),
        ("成果", "宣言", "声明", "合意"),
    ),
    ("docs", frozenset({"documents", "docs", "pdf"}), ("関連資料",)),
    ("summary", frozenset({"summary", "overview"}), ("概要", "まとめ")),
    (
        "bilateral",
        frozenset(
            {"discuss", "discussed", "discussion", "talk", "talked", "talks", "meet", "met", "meeting", "meetings"}
            | {"bilateral", "bilaterals", "say", "said", "counterpart", "counterparts"}
        ),
        ("会談", "話", "議論", "会っ", "意見交換", "面会", "相手"),
    ),
)
_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff\uff66-\uff9f]")


@cache
def registry() -> list[Command]:
    """Every subcommand, checked once (at start-up, when the app first asks for it)."""
    return check_registry([Command.from_module(m) for m in _MODULES])


def check_registry(commands: list[Command]) -> list[Command]:
    """The commands, if no word (name or alias, normalised) names two of them; else a TypeError naming both."""
    from bot.text import normalize

    owner: dict[str, str] = {}
    for cmd in commands:
        for word in dict.fromkeys(normalize(w) for w in cmd.words):
            if owner.setdefault(word, cmd.name) != cmd.name:
                raise TypeError(f"command word {word!r} names both {owner[word]!r} and {cmd.name!r}")
    return commands


@cache
def _words() -> dict[str, Command]:
    from bot.text import normalize

    return {normalize(word): cmd for cmd in registry() for word in cmd.words}


def is_static(text: str) -> bool:
    """Whether the answer depends only on the text, the language, admin-ness and the data (not on time)."""
    words, _ = parse(split_selectors(text)[0])
    found = (
        (_words().get(words[0]) or _close_command(words[0], admin=True) or _natural(unescape_slack(text), words))
        if words
        else None
    )
    return found is None or found.static


def split_lang(words: list[str]) -> tuple[list[str], Lang | None]:
    """Take a trailing `en` / `ja` (or English / 日本語) off the words."""
    if words and words[-1] in LANG_WORDS:
        return words[:-1], LANG_WORDS[words[-1]]
    return words, None


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[tuple[str, ...], Lang | None]:
    words, lang = split_lang(tokens(text))
    return tuple(words), lang


def parse(text: str) -> tuple[list[str], Lang | None]:
    """The words of the command text as Slack sends it (normalised) and a trailing language override."""
    return _parse_typed(unescape_slack(text))


def _parse_typed(text: str) -> tuple[list[str], Lang | None]:
    words, lang = _parse(text[:INPUT_LIMIT])
    return list(words), lang


def _strip_lang(words: list[str]) -> list[str]:
    return words[:-1] if words and words[-1].lower() in LANG_WORDS else words


def _raw_args(text: str) -> str:
    parts = text.strip().split(maxsplit=1)
    rest = parts[1] if len(parts) > 1 else ""
    return " ".join(_strip_lang(rest.split()))


def question_lang(text: str) -> Lang | None:
    """The language a question is written in: any Japanese script makes it Japanese, Latin letters alone English."""
    if _JAPANESE.search(text):
        return "ja"
    return "en" if re.search(r"[A-Za-z]", text) else None


def _natural(text: str, words: list[str]) -> Command | None:
    """The command a question in ordinary words asks for ("what did japan discuss with germany"), if any."""
    typed = unicodedata.normalize("NFKC", text)
    plain = {w.strip("?？!！.,") for w in words}
    by_name = {c.name: c for c in registry()}
    for name, english, japanese in _QUESTIONS:
        if plain & english or any(w in typed for w in japanese):
            return by_name[name]
    return None


def answer(
    text: str,
    *,
    lang: Lang,
    now: dt.datetime,
    library: Library | None = None,
    lookup: ReleaseLookup | None = None,
    command: str = "/g7",
    user_id: str = "",
    is_admin: bool = False,
    services: Any = None,
    tz: ZoneInfo | None = None,
) -> Reply:
    """The reply to `/g7 <text>` as Slack sends it. `lang` is the user's language; a trailing en/ja overrides it.
    `tz`: the requester's Slack time zone, when known.

    `library` is the snapshot the request reads; `lookup=` alone (older callers) is a library of that release.
    """
    if library is None:
        if lookup is None:
            raise TypeError("answer() needs library= (or lookup=)")
        library = library_of(lookup)
    # Once, here: Slack escapes &, < and > in slash text, and every echo escapes them again.
    text = unescape_slack(text)
    # `@…` words pick the release; everything else reads the text without them.
    head, selectors = split_selectors(text[:INPUT_LIMIT])
    words, override = _parse_typed(head)
    lang = override or lang
    selection = matching(library, selectors) if selectors else ()
    if selectors and not selection:
        return _with_length_note(no_match(library, selectors, lang=lang, command=command), text, lang)
    entry = selection[0] if selection else library.default
    ask = Ask(
        args=tuple(words[1:]),
        raw_args=_raw_args(head),
        lang=lang,
        now=now,
        lookup=entry.lookup,
        command=command,
        user_id=user_id,
        is_admin=is_admin,
        services=services,
        library=library,
        entry=entry,
        selection=selection,
        selectors=selectors,
        tz=tz,
    )
    found: Command | None = None
    read_as: str | None = None
    if not words:
        found, run = help_command(), ask
    elif (found := _words().get(words[0])) is not None:
        run = ask
    elif (found := _typo_of_command(ask, words[0])) is not None:
        # `bilatral france`: one command is that close, so it is run, and the reply says how it was read.
        run = ask
        typed = echo(head.split(maxsplit=1)[0])
        read_as = msg("unknown.read_as", lang, typed=typed, command=f"`{command} {found.name}`")
    elif (found := _natural(head, words)) is not None:
        # A question: every word is the query, and it is answered in the language it was asked in.
        lang = override or question_lang(head) or lang
        question = _strip_lang(head.split())
        run = replace(ask, args=tuple(words), raw_args=" ".join(question), lang=lang)
    elif _is_topic(ask, words, topic := " ".join(_strip_lang(head.split()))):
        # A topic typed without a command (quantum, 量子, steel): searched, in the language it was typed in.
        lang = override or question_lang(head) or lang
        found = search_command()
        run = replace(ask, args=tuple(words), raw_args=topic, lang=lang)
    else:
        found, run = None, ask
    if found is None:
        reply = _unknown(ask, words, typed=head.split(maxsplit=1)[0])
    elif len(selection) > 1 and not found.multi:
        reply = ambiguous(selection, selectors, lang=run.lang, command=command)
    else:
        reply = found.run(run)
    if read_as is not None:
        reply = reply.model_copy(update={"footer": [read_as, *reply.footer]})
    return _with_length_note(reply, text, lang)


def _with_length_note(reply: Reply, text: str, lang: Lang) -> Reply:
    if len(text) <= INPUT_LIMIT:
        return reply
    note = msg("error.too_long", lang, length=len(text), limit=INPUT_LIMIT)
    return reply.model_copy(update={"footer": [*reply.footer, note]})


def help_command() -> Command:
    return next(c for c in registry() if c.name == "help")


def search_command() -> Command:
    return next(c for c in registry() if c.name == "search")


def _is_topic(ask: Ask, words: list[str], topic: str) -> bool:
    """Whether unknown text is a topic to search: not a name `_unknown` suggests a command for, not a typo of a
    command, and found in the release."""
    first = words[0]
    if ask.lookup.is_bilateral_name(first) or (len(first) >= 3 and ask.lookup.bilaterals(first)):
        return False
    if ask.lookup.is_desk_keyword(first):
        return False
    commands = [word for c in registry() for word in c.words]
    if process.extractOne(first, commands, scorer=fuzz.ratio, score_cutoff=75) is not None:
        return False
    return search.has_results(ask, topic)


# How close a mistyped command word must be to be run as that command (rapidfuzz ratio: `bilatral` 94,
# `serch` 91, `summery` 86), and how long: a short word is too easily another word.
TYPO_SCORE = 85
TYPO_MIN_LENGTH = 4


def _close_command(first: str, *, admin: bool) -> Command | None:
    """The one command whose name or alias `first` is a typo of, if exactly one is that close."""
    if len(first) < TYPO_MIN_LENGTH:
        return None
    choices = {w: c for c in registry() if not c.hidden and (admin or not c.admin) for w in c.words}
    close = process.extract(first, list(choices), scorer=fuzz.ratio, limit=5, score_cutoff=TYPO_SCORE)
    named = {choices[word].name: choices[word] for word, _score, _ in close}
    return next(iter(named.values())) if len(named) == 1 else None


def _typo_of_command(ask: Ask, first: str) -> Command | None:
    """`_close_command`, unless the word is a counterpart or a desk keyword (`_unknown` suggests those)."""
    if ask.lookup.is_bilateral_name(first) or ask.lookup.is_desk_keyword(first):
        return None
    return _close_command(first, admin=ask.is_admin)


def _unknown(ask: Ask, words: list[str], *, typed: str) -> Reply:
    """ "Did you mean …", then help. A bare country or topic suggests the command that takes it."""
    lang, slash, first = ask.lang, ask.command, words[0]
    visible = [c for c in registry() if not c.hidden and (ask.is_admin or not c.admin)]
    suggestions: list[str] = []
    rest = " ".join(words[1:])
    if ask.lookup.is_bilateral_name(first) or (len(first) >= 3 and ask.lookup.bilaterals(first)):
        suggestions.append(f"`{slash} bilateral {echo(' '.join(words))}`")
    elif ask.lookup.is_desk_keyword(first):
        suggestions.append(f"`{slash} contact {echo(' '.join(words))}`")
    choices = {word: c for c in visible for word in c.words}
    for word, _score, _ in process.extract(first, list(choices), scorer=fuzz.ratio, limit=3, score_cutoff=75):
        cmd = choices[word]
        line = f"`{slash} {cmd.name}{(' ' + echo(rest)) if rest else ''}`"
        if line not in suggestions:
            suggestions.append(line)
    lead = [msg("unknown.command", lang, text=echo(typed))]
    if suggestions:
        lead.append(msg("unknown.did_you_mean", lang, suggestions=" / ".join(suggestions[:3])))
    return help.build_help(ask, registry(), lead=["\n".join(lead)])
