"""What a command answers, before it becomes Block Kit: a title, sections, a footer, buttons and a citation."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(_Model):
    """A block of mrkdwn text (already escaped) with optional two-column fields."""

    text: str = ""
    fields: list[str] = Field(default_factory=list)


class Button(_Model):
    action_id: str
    text: str
    value: str
    style: Literal["primary", "danger"] | None = None


class Citation(_Model):
    """Where a reply's facts come from: mrkdwn elements (escaped) for one context block, and the lines cited."""

    elements: list[str] = Field(min_length=1, max_length=10)
    source: str = ""
    lines: list[int] = Field(default_factory=list)


class Reply(_Model):
    """A whole answer. `title` and all texts are mrkdwn-safe: user input in them is escaped."""

    title: str
    sections: list[Section] = Field(default_factory=list)
    footer: list[str] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    block_id: str | None = None
    # A classification label set by an admin (「取扱注意」), escaped: the first line under the title.
    label: str | None = None
    # Shown last, after the footer: a reply stating facts of a release ends with where they come from.
    citation: Citation | None = None
