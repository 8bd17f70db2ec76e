"""The gazetteer under data/: what people type for countries, organisations, ministries and posts."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.datafiles import load_yaml_model
from bot.release.loader import DATA_DIR
from bot.text import normalize

GAZETTEER_FILE = DATA_DIR / "gazetteer.yml"

# Dots (U.K.), commas and quotes never tell two names apart; a possessive ("Canada's") names the country.
_NOISE = re.compile(r"[.,\"“”'‘’「」『』?？!！:;]+")
_POSSESSIVE = re.compile(r"['’]s\b")


def key(text: str) -> str:
    """The form every name, code and typed word is compared in: `normalize`, then dots, commas, quotes gone."""
    text = _POSSESSIVE.sub("", normalize(text))
    return " ".join(_NOISE.sub("", text).split())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Place(_Model):
    """A country or an international organisation; `code` is what a bilateral's `code` carries."""

    code: str = Field(min_length=2)
    codes: list[str] = Field(default_factory=list, description="matched exactly, dots ignored")
    names: list[str] = Field(min_length=1, description="names and demonyms; misspellings allowed when long")


class Body(_Model):
    """A ministry or agency of the place whose code is `of`."""

    of: str = Field(min_length=2)
    codes: list[str] = Field(default_factory=list)
    names: list[str] = Field(min_length=1)


class Gazetteer(_Model):
    """The whole gazetteer file."""

    countries: list[Place] = Field(min_length=1)
    bodies: list[Body] = Field(default_factory=list)
    posts: list[str] = Field(default_factory=list)
    synonyms: list[list[str]] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    # Official English of Japanese names, posts and document titles, for `g7bot import` (never guessed).
    english: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_place_per_name(self) -> Gazetteer:
        # A name under two codes would make a lookup guess between them: refuse it at load time.
        owner: dict[str, str] = {}
        known = {c.code for c in self.countries}
        entries = [(c.code, [*c.codes, *c.names]) for c in self.countries]
        entries += [(b.of, [*b.codes, *b.names]) for b in self.bodies]
        for code, names in entries:
            if code not in known:
                raise ValueError(f"bodies: {code!r} is not the code of any entry under countries")
            for name in names:
                k = key(name)
                if not k:
                    raise ValueError(f"{code}: {name!r} is empty once normalised")
                if owner.setdefault(k, code) != code:
                    raise ValueError(f"{name!r} is listed under both {owner[k]} and {code}")
        return self


def load_gazetteer(path: Path = GAZETTEER_FILE) -> Gazetteer:
    """Load and validate the gazetteer; raises ConfigError naming the file and field."""
    return load_yaml_model(path, Gazetteer)


@cache
def shipped_gazetteer() -> Gazetteer:
    """The gazetteer shipped in data/, read once (lookups built without one of their own use it)."""
    return load_gazetteer(GAZETTEER_FILE)
