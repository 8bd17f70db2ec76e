"""Pydantic models of a press release: the meeting, outcomes, bilateral meetings, desks, documents."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Bounds that keep every detail within one Slack message: a label fits a header block (150 characters),
# a text leaves room in a 3000-character section for the label and framing around it.
LABEL_MAX = 150
TEXT_MAX = 1500
LIST_MAX = 20
ID_MAX = 48
# Dates outside these years are typing mistakes, and date arithmetic on them (reminder offsets) overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _plausible_date(value: dt.date) -> dt.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"expected a date between {FIRST_YEAR} and {LAST_YEAR}, got {value.isoformat()}")
    return value


def _not_a_number(value: object) -> object:
    # pydantic reads a number as seconds since 1970: `due: 20261211` would quietly become 1970-08-23.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"expected a date such as 2026-12-11, got the number {value}")
    return value


Day = Annotated[dt.date, BeforeValidator(_not_a_number), AfterValidator(_plausible_date)]
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=ID_MAX)]
Word = Annotated[str, Field(min_length=1, max_length=64)]


class Text(_Model):
    """One piece of wording in both languages: Japanese as in the release, English ours."""

    ja: str = Field(min_length=1, max_length=TEXT_MAX)
    en: str = Field(min_length=1, max_length=TEXT_MAX)
    # False for a field `g7bot import` left for a person, its English still the Japanese: Release puts an
    # UntranslatedText (UntranslatedLabel) there. A class attribute, not a private one: a library holds
    # a hundred thousand texts, and a private attribute costs each one a dict.
    translated: ClassVar[bool] = True

    def __call__(self, lang: Lang) -> str:
        if lang == "ja":
            return self.ja
        return self.en if self.translated else untranslated_mark(self.ja)


class Label(Text):
    """A name, title or heading: short enough for a Slack header block."""

    ja: str = Field(min_length=1, max_length=LABEL_MAX)
    en: str = Field(min_length=1, max_length=LABEL_MAX)


class UntranslatedText(Text):
    """A Text whose English is still the Japanese: English replies show the Japanese, marked."""

    translated: ClassVar[bool] = False


class UntranslatedLabel(Label):
    """A Label whose English is still the Japanese."""

    translated: ClassVar[bool] = False


_UNTRANSLATED: dict[type[Text], type[Text]] = {Text: UntranslatedText, Label: UntranslatedLabel}


def untranslated_mark(ja: str) -> str:
    """The Japanese of a field with no English yet, marked so in English replies."""
    from bot.messages import msg  # messages imports Lang from here

    return msg("untranslated", "en", text=ja)


_KATAKANA = re.compile(r"[\u30a0-\u30ff]")


class Person(_Model):
    """Somebody named in the release: `name` in both scripts, `title` their post."""

    name: Label
    title: Label
    # A Japanese official's ministry and rank (e.g. 副大臣) as that ministry renders them in English,
    # and where that rendering comes from: tests/test_english_usage.py holds every title to it.
    ministry: Text | None = None
    rank: Text | None = None
    title_en_source: str | None = Field(None, max_length=TEXT_MAX)

    def named(self, lang: Lang) -> str:
        """Name and title without nested parentheses: 井野経済産業副大臣, "Ino (井野), State Minister of …"."""
        if lang == "en":
            if not (self.name.translated or self.title.translated):
                return untranslated_mark(self.named("ja"))
            return f"{self.name(lang)}, {self.title(lang)}"
        # The release separates the two with a space only where katakana would otherwise run together.
        ja_gap = " " if _KATAKANA.fullmatch(self.name.ja[-1]) and _KATAKANA.fullmatch(self.title.ja[0]) else ""
        return f"{self.name.ja}{ja_gap}{self.title.ja}"


class Meeting(_Model):
    """The ministerial meeting itself and the trip around it."""

    name: Label
    start: Day
    end: Day
    city: Label
    country: Label
    presidency: Label
    trip_start: Day
    trip_end: Day
    delegation: list[Person] = Field(min_length=1, max_length=LIST_MAX)
    topics: list[Label] = Field(min_length=1, max_length=LIST_MAX)
    japan_said: list[Text] = Field(min_length=1, max_length=LIST_MAX)
    # Who made the statements in `japan_said` (the release: 井野副大臣からは…).
    said_by: Label | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Meeting:
        if not (self.trip_start <= self.start <= self.end <= self.trip_end):
            raise ValueError("expected trip_start <= start <= end <= trip_end")
        return self


class Trip(_Model):
    """A visit without a ministerial meeting of its own (bilateral talks abroad): when, where, who went."""

    start: Day
    end: Day
    city: Label | None = None
    country: Label | None = None
    delegation: list[Person] = Field(default_factory=list, max_length=LIST_MAX)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Trip:
        if self.start > self.end:
            raise ValueError("expected start <= end")
        return self


class Outcome(_Model):
    """An adopted text (the declaration, the SME AI-adoption blueprint statement) and its points."""

    id: Id
    title: Label
    points: list[Text] = Field(min_length=1, max_length=LIST_MAX)


class Bilateral(_Model):
    """One bilateral meeting: whom Japan met, who sat on Japan's side, and what was discussed."""

    id: Id
    number: int = Field(ge=1, le=999)
    counterpart: Person
    organisation: Label
    code: str = Field(min_length=2, max_length=12, description="ISO 3166 alpha-2 code or the organisation's acronym")
    aliases: list[Word] = Field(
        default_factory=list, max_length=LIST_MAX * 2, description="extra names and codes users may type"
    )
    japan_participants: list[Label] = Field(min_length=1, max_length=LIST_MAX)
    topics: list[Label] = Field(min_length=1, max_length=LIST_MAX)
    summary: Text
    note: Text | None = None


class Desk(_Model):
    """A contact desk named at the foot of the release."""

    id: Id
    topic: Label
    bureau: Label
    office: Label
    lead: Label
    staff: list[Label] = Field(min_length=1, max_length=LIST_MAX)
    # The main number and its extension (内線); a desk may publish only a direct line (直通) instead.
    phone: str | None = Field(None, pattern=r"^[0-9-]+$", max_length=20)
    extension: str | None = Field(None, pattern=r"^[0-9]+$", max_length=10)
    email_as_published: str = Field(pattern=r"^[^@\s]+★[^@\s]+$", max_length=254)
    direct: str | None = Field(None, pattern=r"^[0-9-]+$", max_length=20)
    fax: str | None = Field(None, pattern=r"^[0-9-]+$", max_length=20)
    keywords: list[Word] = Field(min_length=1, max_length=LIST_MAX * 2)

    @model_validator(mode="after")
    def _a_number_to_call(self) -> Desk:
        if self.phone is None and self.direct is None:
            raise ValueError("expected a phone number with its extension, or a direct line (direct)")
        if self.extension is not None and self.phone is None:
            raise ValueError("expected the phone number the extension belongs to")
        return self

    def unit(self, lang: Lang) -> str:
        """Bureau and office as each language writes them: 通商政策局 国際経済部; "…Department, Trade Policy Bureau"."""
        if lang == "en":
            if not (self.office.translated or self.bureau.translated):
                return untranslated_mark(self.unit("ja"))
            return f"{self.office(lang)}, {self.bureau(lang)}"
        return f"{self.bureau.ja} {self.office.ja}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def email(self) -> str:
        """The address made usable: the release asks readers to replace ★ with @."""
        return self.email_as_published.replace("★", "@")


class Document(_Model):
    """A related document listed in the release."""

    title: Label
    # 原文, 仮訳, 英文: None where the release states none (never its format in its place).
    language: Label | None = None
    format: str | None = Field(None, min_length=1, max_length=20)
    size_kb: int | None = Field(default=None, ge=1, le=10**9)


class Release(_Model):
    """A whole press release, as stored under data/."""

    id: str = Field(min_length=1, max_length=ID_MAX)
    publisher: Label
    published: Day
    title: Label
    source_file: str = Field(min_length=1, max_length=255)
    # The release page, only when the original text itself gives it (replies link to it); never guessed.
    url: str | None = Field(None, pattern=r"^https?://[^\s<>|]+$", max_length=500)
    # The ministerial meeting, with its trip; a bilateral visit has none, only its `trip` and bilaterals.
    meeting: Meeting | None = None
    trip: Trip | None = None
    # What the meeting adopted (none without a meeting, or when it adopted nothing).
    outcomes: list[Outcome] = Field(default_factory=list, max_length=LIST_MAX)
    # One section per meeting when all are listed: a message holds at most 50 blocks.
    bilaterals: list[Bilateral] = Field(default_factory=list, max_length=40)
    desks: list[Desk] = Field(min_length=1, max_length=LIST_MAX)
    documents: list[Document] = Field(default_factory=list, max_length=LIST_MAX)
    # The release's own one-line account of what the bilaterals covered, and how it introduces the
    # outcome points (its summary of their main contents, not the texts themselves).
    bilaterals_overview: Text | None = None
    outcomes_intro: Text | None = None
    # Fields (dotted paths, e.g. "bilaterals.0.counterpart.name") whose English is still the Japanese,
    # left for a person by `g7bot import`: shown in Japanese, marked as not yet translated.
    untranslated: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _meeting_or_visit(self) -> Release:
        if self.meeting is None and not self.bilaterals:
            raise ValueError("expected a meeting, or at least one bilateral meeting (a visit)")
        if self.meeting is not None and self.trip is not None:
            raise ValueError("trip: only for a release without a meeting (the meeting holds its own trip dates)")
        if self.meeting is None and (self.outcomes or self.outcomes_intro is not None):
            raise ValueError("outcomes: only a meeting adopts outcomes, and this release has no meeting")
        return self

    @model_validator(mode="after")
    def _mark_untranslated(self) -> Release:
        # Each listed field still holding the Japanese is replaced by a marked copy (the copies along its path
        # too: a Text may be shared with another release built in memory, which must stay as it is).
        for dotted in self.untranslated:
            parts = dotted.split(".")
            if parts[0] not in type(self).model_fields or parts[0] == "untranslated":
                raise ValueError(f"untranslated: {dotted!r} names no field of the release")
            object.__setattr__(self, parts[0], _marked(getattr(self, parts[0]), parts[1:], dotted))
        return self

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

    # What every release has, with or without a meeting (selectors, listings, search read these).
    @property
    def dates(self) -> tuple[dt.date, dt.date] | None:
        """The meeting's first and last day, or the visit's; None for a visit the release gives no dates for."""
        if self.meeting is not None:
            return self.meeting.start, self.meeting.end
        return (self.trip.start, self.trip.end) if self.trip is not None else None

    @property
    def places(self) -> list[Label]:
        """City and country of the meeting, or of the visit (as far as the release names them)."""
        if self.meeting is not None:
            return [self.meeting.city, self.meeting.country]
        t = self.trip
        return [x for x in (t.city, t.country) if x is not None] if t is not None else []

    @property
    def name(self) -> Label:
        """The meeting's name, or (a visit) the release's title."""
        return self.meeting.name if self.meeting is not None else self.title


def _marked(node: object, parts: list[str], dotted: str) -> object:
    """`node` with the Text at `parts` below it marked untranslated (when its English is the Japanese)."""
    if not parts:
        if not isinstance(node, Text):
            raise ValueError(f"untranslated: {dotted!r} is not a text with ja and en")
        if node.en != node.ja:
            return node  # translated since the import: the English is shown
        if not node.translated:
            return node
        return _UNTRANSLATED[type(node)](ja=node.ja, en=node.en)
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        if not head.isdigit() or int(head) >= len(node):
            raise ValueError(f"untranslated: {dotted!r}: no item {head} in a list of {len(node)}")
        items = list(node)
        items[int(head)] = _marked(items[int(head)], rest, dotted)
        return items
    if isinstance(node, BaseModel) and head in type(node).model_fields and getattr(node, head) is not None:
        return node.model_copy(update={head: _marked(getattr(node, head), rest, dotted)})
    raise ValueError(f"untranslated: {dotted!r}: no field {head!r} there")


def _resolve(node: object, parts: list[str]) -> object:
    for part in parts:
        node = node[int(part)] if isinstance(node, list) else getattr(node, part)
    return node


def untranslated_texts(release: Release) -> list[Text]:
    """The texts of the fields still shown in Japanese in English replies (search marks the sentences holding them)."""
    nodes = (_resolve(release, dotted.split(".")) for dotted in release.untranslated)
    return [node for node in nodes if isinstance(node, Text) and not node.translated]


def untranslated_fields(release: Release) -> list[str]:
    """The fields (dotted paths) still shown in Japanese in English replies: `g7bot check` warns of them."""
    out = []
    for dotted in release.untranslated:
        node = _resolve(release, dotted.split("."))
        if isinstance(node, Text) and not node.translated:
            out.append(dotted)
    return out
