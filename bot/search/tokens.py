"""Tokenising for search: Japanese as character unigrams, bigrams and trigrams, English as stemmed words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import normalize

# Kanji (and the iteration mark) are indexed one by one as well, so one-character words (仏, 独) are found;
# kana alone is grammar (の, を) far more often than a word, so kana is indexed in bigrams only.
_KANJI = re.compile(r"[\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK = re.compile(r"[\u3005\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-z0-9]")
_HIRAGANA_RUN = re.compile(r"[\u3041-\u3096\u309d\u309e]+")
_WORD = re.compile(r"[a-z0-9]+")
_CJK_RUN = re.compile(_CJK.pattern + "+")
_QUERY_SPLIT = re.compile(r"[\s,、，。．.・/／?？!！「」『』()（）\[\]【】:：;；\"'“”‘’]+")

# Words that carry no topic: dropped from queries (the index keeps them; BM25 weighs them down anyway).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "about",
        "be",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "of",
        "on",
        "or",
        "our",
        "say",
        "said",
        "show",
        "tell",
        "that",
        "the",
        "their",
        "them",
        "there",
        "this",
        "to",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "with",
        "you",
        "your",
    ]
)


def fold(text: str) -> tuple[str, list[int]]:
    """`text` folded one character at a time by `bot.text.normalize`, and where each folded character came from.

    Folding per character keeps a map back to the original, so a match is shown in bold in the text as
    written. Spaces stay (one per space) so that words do not run together.
    """
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = " " if ch.isspace() else (normalize(ch) or " ")
        out.append(folded)
        where.extend([i] * len(folded))
    return "".join(out), where


class _FoldTable(dict[int, str]):
    """`str.translate` table folding each character as `fold` does, filled in as characters are first seen."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = " " if ch.isspace() else (normalize(ch) or " ")
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold_text(text: str) -> str:
    """`fold(text)` without the map back: what indexing needs, at the speed of `str.translate`."""
    return text.translate(_FOLD)


def stem(word: str) -> str:
    """A plural made singular, simply: policies -> policy, semiconductors -> semiconductor (not "us", "ss")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def is_cjk(ch: str) -> bool:
    return bool(_CJK.fullmatch(ch))


def terms(folded: str) -> list[str]:
    """The index terms of folded text: `w:` stemmed words, `u:` kanji, `b:` bigrams and `t:` trigrams of Japanese
    runs (a word of three characters is then one term, and one of more needs no text read but its hits')."""
    out: list[str] = [f"w:{stem(w)}" for w in _WORD.findall(folded)]
    for chars in _CJK_RUN.findall(folded):
        out.extend(f"u:{ch}" for ch in _KANJI.findall(chars))
        out.extend(f"b:{chars[i : i + 2]}" for i in range(len(chars) - 1))
        out.extend(f"t:{chars[i : i + 3]}" for i in range(len(chars) - 2))
    return out


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: as typed (folded), the index terms it needs, and how a passage shows it matched."""

    folded: str
    terms: tuple[str, ...]
    japanese: bool

    @property
    def exact(self) -> bool:
        """Whether holding the word's terms is holding the word (not so for Japanese of four characters or more)."""
        return not self.japanese or len(self.folded) <= 3

    def matches(self, folded_text: str, words: frozenset[str]) -> bool:
        """Whether a passage (its folded text, its stemmed words) holds this word: Japanese as a substring."""
        if self.japanese:
            return self.folded in folded_text
        return self.terms[0][2:] in words


def query_words(text: str) -> list[QueryWord]:
    """The words of a query. Japanese is cut at its hiragana (量子について -> 量子), English stopwords dropped."""
    found: list[QueryWord] = []
    for chunk in _QUERY_SPLIT.split(text):
        # A word typed wholly in hiragana (ふらんす) is a word; hiragana between others is grammar.
        pieces = [chunk] if _HIRAGANA_RUN.fullmatch(chunk) else _HIRAGANA_RUN.split(chunk)
        for piece in pieces:
            folded = normalize(piece)
            for part in re.findall(r"[a-z0-9]+|" + _CJK.pattern + "+", folded):
                word = _word(part)
                if word is not None and word.folded not in {w.folded for w in found}:
                    found.append(word)
    return found


def _word(part: str) -> QueryWord | None:
    if _LATIN.match(part):
        if part in STOPWORDS:
            return None
        return QueryWord(folded=part, terms=("w:" + stem(part),), japanese=False)
    if len(part) == 1:
        # One kana is grammar, not a topic; one kanji is a word (仏, 米).
        return QueryWord(folded=part, terms=("u:" + part,), japanese=True) if _KANJI.fullmatch(part) else None
    if len(part) == 2:
        return QueryWord(folded=part, terms=("b:" + part,), japanese=True)
    grams = tuple(dict.fromkeys("t:" + part[i : i + 3] for i in range(len(part) - 2)))
    return QueryWord(folded=part, terms=grams, japanese=True)


def english_words(folded: str) -> frozenset[str]:
    """The stemmed English words of folded text, for checking a match."""
    return frozenset(stem(w) for w in re.findall(r"[a-z0-9]+", folded))
