"""The /g7 subcommands: the registry, and `answer()`, which turns command text into a Reply."""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from bot.commands import admin, bilateral, contact, docs, followups, help, outcomes, summary
from bot.commands.base import Ask, Command
from bot.messages import msg
from bot.release.lookup import ReleaseLookup
from bot.release.models import Lang
from bot.reply import Reply
from bot.text import echo, tokens, unescape_slack

# One line per subcommand; help and "did you mean" are generated from this list.
_MODULES = [summary, bilateral, contact, outcomes, docs, followups, admin, help]

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


@cache
def registry() -> list[Command]:
    return [Command.from_module(m) for m in _MODULES]


@cache
def _words() -> dict[str, Command]:
    from bot.text import normalize

    return {normalize(word): cmd for cmd in registry() for word in cmd.words}


def is_static(text: str) -> bool:
    """Whether the answer depends only on the text, the language, admin-ness and the data (not on time)."""
    words, _ = parse(text)
    found = _words().get(words[0]) if words else None
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


def _raw_args(text: str) -> str:
    parts = text.strip().split(maxsplit=1)
    rest = parts[1] if len(parts) > 1 else ""
    words = rest.split()
    if words and words[-1].lower() in LANG_WORDS:
        words = words[:-1]
    return " ".join(words)


def answer(
    text: str,
    *,
    lookup: ReleaseLookup,
    lang: Lang,
    now: dt.datetime,
    command: str = "/g7",
    user_id: str = "",
    is_admin: bool = False,
    services: Any = None,
) -> Reply:
    """The reply to `/g7 <text>` as Slack sends it. `lang` is the user's language; a trailing en/ja overrides it."""
    # Once, here: Slack escapes &, < and > in slash text, and every echo escapes them again.
    text = unescape_slack(text)
    words, override = _parse_typed(text)
    lang = override or lang
    ask = Ask(
        args=tuple(words[1:]),
        raw_args=_raw_args(text[:INPUT_LIMIT]),
        lang=lang,
        now=now,
        lookup=lookup,
        command=command,
        user_id=user_id,
        is_admin=is_admin,
        services=services,
    )
    if not words:
        reply = help.run(ask)
    elif (found := _words().get(words[0])) is None:
        reply = _unknown(ask, words, typed=text[:INPUT_LIMIT].split(maxsplit=1)[0])
    else:
        reply = found.run(ask)
    if len(text) > INPUT_LIMIT:
        note = msg("error.too_long", lang, length=len(text), limit=INPUT_LIMIT)
        reply = reply.model_copy(update={"footer": [*reply.footer, note]})
    return reply


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
