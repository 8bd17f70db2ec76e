"""A generated library for benchmarks: N releases derived from the shipped one, in the data folder's layout.

    .venv/bin/python bench/generate.py /tmp/g7lib --count 1000

writes /tmp/g7lib/releases/<id>/{release.yml,source.txt} for each release (the shipped release itself, with
its commitments.yml, and N-1 variants), and copies schedule.yml and gazetteer.yml. Each variant has its own
id, publication date (a week earlier each), title, city, counterpart country (one in eight stays France, so
`bilateral france` has a history), counterpart names; the original text is varied with the data, so search
and citations still find each value in it. Its dates in Japanese are left as they are (citations of dates
then name fewer lines); nothing else is invented.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.release.models import Release

DATA = Path(__file__).resolve().parents[1] / "data"
SHIPPED = DATA / "releases" / "meti-2025-12-10-g7-idt"


@dataclass(frozen=True)
class Country:
    """A counterpart country the French meeting becomes in a variant (its names in both languages, its code)."""

    ja: str
    ja_formal: str
    en: str
    en_formal: str
    demonym: str
    code: str
    aliases: tuple[str, ...]


FRANCE = Country(
    "フランス", "フランス共和国", "France", "French Republic", "French", "FR", ("france", "fra", "フランス", "仏")
)
COUNTRIES = (
    FRANCE,
    Country(
        "イタリア", "イタリア共和国", "Italy", "Italian Republic", "Italian", "IT", ("italy", "ita", "イタリア", "伊")
    ),
    Country(
        "スペイン", "スペイン王国", "Spain", "Kingdom of Spain", "Spanish", "ES", ("spain", "esp", "スペイン", "西")
    ),
    Country(
        "ブラジル",
        "ブラジル連邦共和国",
        "Brazil",
        "Federative Republic of Brazil",
        "Brazilian",
        "BR",
        ("brazil", "bra", "ブラジル", "伯"),
    ),
    Country("インド", "インド共和国", "India", "Republic of India", "Indian", "IN", ("india", "ind", "インド", "印")),
    Country(
        "オーストラリア",
        "オーストラリア連邦",
        "Australia",
        "Commonwealth of Australia",
        "Australian",
        "AU",
        ("australia", "aus", "オーストラリア", "豪"),
    ),
    Country("大韓民国", "大韓民国", "Korea", "Republic of Korea", "Korean", "KR", ("korea", "kor", "韓国", "韓")),
    Country(
        "メキシコ",
        "メキシコ合衆国",
        "Mexico",
        "United Mexican States",
        "Mexican",
        "MX",
        ("mexico", "mex", "メキシコ", "墨"),
    ),
)
# Names swapped in text and data alike (Japanese, then English), so that variants differ in whom they met.
_PEOPLE = (
    (
        ("ル=エナンフ", "Le Hénanff"),
        (("ロッシ", "Rossi"), ("ガルシア", "Garcia"), ("シルバ", "Silva"), ("シャルマ", "Sharma")),
    ),
    (("ジョリー", "Joly"), (("ブラウン", "Brown"), ("タナー", "Tanner"), ("ルイス", "Lewis"), ("ミラー", "Miller"))),
)
_CITIES = (
    ("モントリオール", "Montréal"),
    ("トロント", "Toronto"),
    ("ローマ", "Rome"),
    ("デリー", "Delhi"),
    ("ソウル", "Seoul"),
)
_ISO_DAY = re.compile(r'"(\d{4})-(\d{2})-(\d{2})"')


def _swaps(n: int) -> list[tuple[str, str]]:
    """What variant `n` replaces, longest first (the formal name before the short one)."""
    country = COUNTRIES[n % len(COUNTRIES)]
    pairs = [
        (FRANCE.ja_formal, country.ja_formal),
        (FRANCE.en_formal, country.en_formal),
        (FRANCE.ja, country.ja),
        (FRANCE.en, country.en),
        (FRANCE.demonym, country.demonym),
    ]
    for (ja, en), others in _PEOPLE:
        other_ja, other_en = (ja, en) if n % (len(others) + 1) == 0 else others[n % (len(others) + 1) - 1]
        pairs += [(ja, other_ja), (en, other_en)]
    city_ja, city_en = _CITIES[n % len(_CITIES)]
    pairs += [(_CITIES[0][0], city_ja), (_CITIES[0][1], city_en)]
    return [(old, new) for old, new in pairs if old != new]


def _replace(text: str, swaps: Sequence[tuple[str, str]]) -> str:
    for old, new in swaps:
        text = text.replace(old, new)
    return text


def variant(data: dict[str, Any], lines: Sequence[str], n: int) -> tuple[dict[str, Any], list[str]]:
    """Variant `n` (n >= 1) of a release's data (as in its release.yml) and original text: another id, date,
    title, city and counterparts. The data is validated as the loader would."""
    swaps = _swaps(n)
    days = dt.timedelta(days=7 * n)

    def shift(m: re.Match[str]) -> str:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) - days
        return f'"{day.isoformat()}"'

    out = json.loads(_ISO_DAY.sub(shift, _replace(json.dumps(data, ensure_ascii=False, default=str), swaps)))
    country = COUNTRIES[n % len(COUNTRIES)]
    out["id"] = f"meti-{out['published']}-g7-{n:04d}"
    out["title"]["ja"] = f"{out['title']['ja']}(第{n}報)"
    out["title"]["en"] = f"{out['title']['en']} (no. {n})"
    out.pop("url", None)
    for bilateral in out.get("bilaterals", []):
        if bilateral.get("code") == FRANCE.code:
            bilateral["code"] = country.code
            bilateral["aliases"] = list(country.aliases)
    Release.model_validate(out)
    return out, [_replace(line, swaps) for line in lines]


def variant_release(release: Release, lines: Sequence[str], n: int) -> tuple[Release, list[str]]:
    """`variant` of a loaded release (benchmarks that build the library in memory)."""
    data = release.model_dump(mode="json", exclude=_computed(release))
    out, text = variant(data, lines, n)
    return Release.model_validate(out), text


def _computed(model: BaseModel) -> dict[str, Any]:
    """The computed fields of `model` and of the models in it, as `model_dump(exclude=...)` takes them."""
    out: dict[str, Any] = dict.fromkeys(type(model).model_computed_fields, True)
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel) and (inner := _computed(value)):
            out[name] = inner
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            items = {i: inner for i, v in enumerate(value) if (inner := _computed(v))}
            if items:
                out[name] = items
    return out


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _yaml(data: object) -> str:
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=1000)


def write_library(target: Path, count: int, *, source: Path = SHIPPED) -> list[str]:
    """Write a library of `count` releases into `target` (which must not hold one yet); their ids, newest first."""
    releases = target / "releases"
    releases.mkdir(parents=True)
    shutil.copy(DATA / "schedule.yml", target / "schedule.yml")
    shutil.copy(DATA / "gazetteer.yml", target / "gazetteer.yml")
    shutil.copytree(source, releases / source.name)
    original = yaml.load((source / "release.yml").read_text(encoding="utf-8"), _LOADER)
    lines = (source / original["source_file"]).read_text(encoding="utf-8").splitlines()
    ids = [original["id"]]
    for n in range(1, count):
        data, text = variant(original, lines, n)
        folder = releases / data["id"]
        folder.mkdir()
        (folder / "release.yml").write_text(_yaml(data), encoding="utf-8")
        (folder / data["source_file"]).write_text("\n".join(text) + "\n", encoding="utf-8")
        ids.append(data["id"])
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path, help="the data folder to write (must not exist)")
    parser.add_argument("--count", type=int, default=1000, help="releases in the library (default 1000)")
    args = parser.parse_args()
    if args.target.exists():
        parser.error(f"{args.target} exists: give a new folder")
    started = time.perf_counter()
    ids = write_library(args.target, args.count)
    print(f"wrote {len(ids)} releases into {args.target} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
