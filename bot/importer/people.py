"""Splitting Japanese officials and foreign counterparts into name, post and organisation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.release.gazetteer import Gazetteer, key

KANA_NAME = r"[ァ-ヶー]+(?:[・=＝][ァ-ヶー]+)*"
_ORG_NAME_POST = re.compile(rf"^(?P<org>[^\s、。]+?)(?:の|\s+)(?P<name>{KANA_NAME})\s*(?P<title>\S.*)$")
_NAME_DOT_ORG = re.compile(r"^(?P<name>[一-龥々]{1,5})・(?P<rest>\S+)$")
# Japanese ministries as titles start with them (堀内総務副大臣): used to split a surname from its post.
JA_MINISTRIES = (
    "経済産業",
    "総務",
    "デジタル",
    "外務",
    "財務",
    "文部科学",
    "厚生労働",
    "農林水産",
    "国土交通",
    "環境",
    "防衛",
    "法務",
    "内閣府",
    "復興",
)
JA_RANKS = ("大臣政務官", "副大臣", "政務官", "大臣", "長官", "審議官")
# Katakana words a foreign post starts with (アブドルアジーズ・エネルギー大臣, レイノルズ・ビジネス・貿易大臣): read
# greedily they would end the name. Never a name themselves.
KANA_POST_HEADS = (
    "エネルギー",
    "デジタル",
    "ビジネス",
    "イノベーション",
    "インフラ",
    "テクノロジー",
    "データ",
    "サイバー",
    "エコノミー",
    "インフラストラクチャー",
)
# Posts that name no portfolio: after a name of several katakana words, its last word may be the portfolio
# (「X・Y・サイエンス大臣」), so the split is reported rather than guessed. 国務大臣, 首相, 大統領 are posts alone.
_BARE_RANKS = ("大臣", "担当大臣", "副大臣", "閣外大臣", "長官", "次官", "政務次官", "局長")
_KANA_SEP = re.compile(r"[・=＝]")


@dataclass(frozen=True)
class Counterpart:
    organisation: str
    name: str
    title: str


def _org_prefix(text: str, gazetteer: Gazetteer) -> str | None:
    names = [n for c in gazetteer.countries for n in c.names if not n.isascii()]
    found = [n for n in names if text.startswith(n) and len(n) < len(text)]
    return max(found, key=len) if found else None


def counterpart(text: str, gazetteer: Gazetteer) -> Counterpart | None:
    """Organisation, name and post of 「米国のウィリアム・キミット…次官」, 「トルコ共和国 ボラット貿易大臣」.

    Also 「王文濤・中国商務部長」 (name first); None when the text has none of these shapes, or when where the
    name ends is uncertain (`doubt` says why).
    """
    return _read(text, gazetteer)[0]


def doubt(text: str, gazetteer: Gazetteer) -> str | None:
    """Why `counterpart` could not tell the name from the post in `text`, if that is why it gave None."""
    return _read(text, gazetteer)[1]


def _kana_post(rest: str, name: str) -> tuple[str, str, str | None]:
    """Name and post of `rest` (the name, then the post), the name read greedily as `name`; and any doubt."""
    cut = len(name)
    seps = list(_KANA_SEP.finditer(name))
    for sep in reversed(seps):
        if name[sep.end() : cut] not in KANA_POST_HEADS:
            break
        cut = sep.start()
    title = rest[cut:].strip().lstrip("・=＝").strip()
    name = name[:cut]
    if title in _BARE_RANKS and _KANA_SEP.search(name):
        last = _KANA_SEP.split(name)[-1]
        return name, title, f"「{rest}」: is 「{last}」 the end of the name or the start of the post? left for a person"
    return name, title, None


def _read(text: str, gazetteer: Gazetteer) -> tuple[Counterpart | None, str | None]:
    text = text.strip()
    m = _ORG_NAME_POST.match(text)
    if m and m["title"].strip():
        name, title, uncertain = _kana_post(text[m.start("name") :], m["name"])
        if uncertain is not None:
            return None, uncertain
        if name and title:
            return Counterpart(m["org"], name, title), None
    m = _NAME_DOT_ORG.match(text)
    if m:
        rest = m["rest"]
        org = _org_prefix(rest, gazetteer)
        if org is None and "国" in rest[:6]:
            # Country names end in 国 (中国, 韓国, 米国): the post follows.
            org = rest[: rest.index("国") + 1]
        if org and len(org) < len(rest):
            return Counterpart(org, m["name"], rest[len(org) :]), None
    return None, None


def code_of(organisation: str, gazetteer: Gazetteer) -> str | None:
    k = key(organisation)
    for place in gazetteer.countries:
        if any(key(n) == k for n in (*place.names, *place.codes)):
            return place.code
    return None


@dataclass(frozen=True)
class Official:
    """A Japanese official: 井野 + 経済産業副大臣, and the short form the release uses (井野副大臣)."""

    name: str
    title: str
    short: str


def official(full: str, text: str) -> Official | None:
    """Split 「堀内総務副大臣」 or 「井野経済産業副大臣」 at the ministry; None when no ministry or rank is found."""
    for ministry in JA_MINISTRIES:
        i = full.find(ministry)
        if i > 0:
            name, title = full[:i], full[i:]
            rank = next((r for r in JA_RANKS if title.endswith(r)), None)
            short = name + rank if rank and name + rank in text else full
            return Official(name, title, short)
    for rank in JA_RANKS:
        if full.endswith(rank) and len(full) > len(rank):
            name = full[: -len(rank)]
            return Official(name, rank, full)
    return None
