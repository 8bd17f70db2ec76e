"""Pydantic models of a press release: the meeting, outcomes, bilateral meetings, desks, documents."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """One piece of wording in both languages: Japanese as in the release, English ours."""

    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return self.ja if lang == "ja" else self.en


_KATAKANA = re.compile(r"[\u30a0-\u30ff]")


class Person(_Model):
    """Somebody named in the release: `name` in both scripts, `title` their post."""

    name: Text
    title: Text
    # A Japanese official's ministry and rank (e.g. 副大臣) as that ministry renders them in English,
    # and where that rendering comes from: tests/test_english_usage.py holds every title to it.
    ministry: Text | None = None
    rank: Text | None = None
    title_en_source: str | None = None

    def named(self, lang: Lang) -> str:
        """Name and title without nested parentheses: 井野経済産業副大臣, "Ino (井野), State Minister of …"."""
        if lang == "en":
            return f"{self.name.en}, {self.title.en}"
        # The release separates the two with a space only where katakana would otherwise run together.
        ja_gap = " " if _KATAKANA.fullmatch(self.name.ja[-1]) and _KATAKANA.fullmatch(self.title.ja[0]) else ""
        return f"{self.name.ja}{ja_gap}{self.title.ja}"


class Meeting(_Model):
    """The ministerial meeting itself and the trip around it."""

    name: Text
    start: dt.date
    end: dt.date
    city: Text
    country: Text
    presidency: Text
    trip_start: dt.date
    trip_end: dt.date
    delegation: list[Person] = Field(min_length=1)
    topics: list[Text] = Field(min_length=1)
    japan_said: list[Text] = Field(min_length=1)
    # Who made the statements in `japan_said` (the release: 井野副大臣からは…).
    said_by: Text | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Meeting:
        if not (self.trip_start <= self.start <= self.end <= self.trip_end):
            raise ValueError("expected trip_start <= start <= end <= trip_end")
        return self


class Outcome(_Model):
    """An adopted text (the declaration, the SME AI-adoption blueprint statement) and its points."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: Text
    points: list[Text] = Field(min_length=1)


class Bilateral(_Model):
    """One bilateral meeting: whom Japan met, who sat on Japan's side, and what was discussed."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    number: int = Field(ge=1)
    counterpart: Person
    organisation: Text
    code: str = Field(min_length=2, description="ISO 3166 alpha-2 code or the organisation's acronym")
    aliases: list[str] = Field(default_factory=list, description="extra names and codes users may type")
    japan_participants: list[Text] = Field(min_length=1)
    topics: list[Text] = Field(min_length=1)
    summary: Text
    note: Text | None = None


class Desk(_Model):
    """A contact desk named at the foot of the release."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    topic: Text
    bureau: Text
    office: Text
    lead: Text
    staff: list[Text] = Field(min_length=1)
    phone: str = Field(pattern=r"^[0-9-]+$")
    extension: str = Field(pattern=r"^[0-9]+$")
    email_as_published: str = Field(pattern=r"^[^@\s]+★[^@\s]+$")
    keywords: list[str] = Field(min_length=1)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def email(self) -> str:
        """The address made usable: the release asks readers to replace ★ with @."""
        return self.email_as_published.replace("★", "@")


class Document(_Model):
    """A related document listed in the release."""

    title: Text
    language: Text
    format: str | None = None
    size_kb: int | None = Field(default=None, ge=1)


class Release(_Model):
    """A whole press release, as stored under data/."""

    id: str
    publisher: Text
    published: dt.date
    title: Text
    source_file: str
    meeting: Meeting
    outcomes: list[Outcome] = Field(min_length=1)
    bilaterals: list[Bilateral] = Field(min_length=1)
    desks: list[Desk] = Field(min_length=1)
    documents: list[Document] = Field(default_factory=list)
    # The release's own one-line account of what the bilaterals covered, and how it introduces the
    # outcome points (its summary of their main contents, not the texts themselves).
    bilaterals_overview: Text | None = None
    outcomes_intro: Text | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> Release:
        for what, ids in (
            ("outcomes", [o.id for o in self.outcomes]),
            ("bilaterals", [b.id for b in self.bilaterals]),
            ("desks", [d.id for d in self.desks]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{what}: ids must be unique, got {ids}")
        return self

    def desk(self, desk_id: str) -> Desk:
        return next(d for d in self.desks if d.id == desk_id)
