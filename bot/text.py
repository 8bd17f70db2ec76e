"""Text helpers: normalise what users type, and escape what the bot echoes back into Slack."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jaconv

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
ECHO_LIMIT = 80


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Fold what a user typed to one comparable form.

    NFKC turns full-width ASCII into half-width and half-width katakana into full-width; hiragana
    becomes katakana (ふらんす matches フランス); Latin accents are dropped (Hénanff matches henanff);
    case and runs of spaces (including the ideographic space) are folded.
    """
    text = unicodedata.normalize("NFKC", _CONTROL.sub(" ", text))
    text = jaconv.hira2kata(text)
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in decomposed if not _is_latin_mark(ch))
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip().casefold()


def _is_latin_mark(ch: str) -> bool:
    # Only strip the accents Latin letters carry; the dakuten of katakana (U+3099/309A) must stay.
    return "\u0300" <= ch <= "\u036f"


def tokens(text: str) -> list[str]:
    """Split normalised text into words; Japanese punctuation that separates words counts as space."""
    return [t for t in re.split(r"[\s,、,]+", normalize(text)) if t]


def escape(text: str) -> str:
    """Escape &, < and > as Slack asks, so no mention, broadcast or link can be injected."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_ESCAPE = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_slack(text: str) -> str:
    """Slash command text as the user typed it: Slack sends &, < and > as &amp;, &lt; and &gt;.

    Undone once, in one pass, so `&amp;lt;` (the user typed `&lt;`) stays `&lt;`. What Slack itself
    wrapped in <...> (a mention or a link the user picked) stays as it came; `echo` escapes it again.
    """
    return _SLACK_ESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], text)


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """User text made safe to quote back: control characters removed, shortened, escaped."""
    clean = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return escape(clean)


_LOG_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_LOG_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
LOG_LIMIT = 200


def log_safe(text: object, limit: int = LOG_LIMIT) -> str:
    """User text made safe for one log line: backslash escapes for control and invisible characters, shortened.

    A newline a user typed would otherwise start a forged log line; the escapes keep the text readable.
    """
    value = str(text)
    cut = f"…(+{len(value) - limit} chars)" if len(value) > limit else ""
    value = value[:limit]
    return _LOG_UNSAFE.sub(lambda m: _LOG_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), value) + cut
