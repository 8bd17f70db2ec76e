"""The Home tab as a Block Kit view (`views.publish`): a person's follow-ups by section, each with its buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import MAX_HEADER, MAX_SECTION_TEXT, MAX_TEXT_OBJECT, clip, plain
from bot.home.select import HomeSelection
from bot.library import Library
from bot.messages import join, msg
from bot.release.models import Lang, Release
from bot.schedule.content import (
    assumptions_note,
    block_id,
    followup_buttons,
    format_when,
    listed_line,
    take_button,
    taken_by,
)
from bot.schedule.models import Commitment
from bot.schedule.occurrence import CommitmentState
from bot.text import escape

# Slack's limit for a Home tab (a message allows 50).
MAX_VIEW_BLOCKS = 100

SectionName = Literal["overdue", "to_confirm", "upcoming", "done"]


@dataclass(frozen=True)
class _Item:
    commitment: Commitment
    section: SectionName
    done_on: dt.date | None = None


def _release_of(library: Library, commitment: Commitment) -> Release:
    entry = library.get(commitment.release_id) if commitment.release_id is not None else None
    return (entry or library.default).release


def _desk_names(selection: HomeSelection, library: Library, lang: Lang) -> list[str]:
    """The person's desks as people know them: the office and bureau (the desk id if the release has none)."""
    names: list[str] = []
    for release_id, desk_id in sorted(selection.desks):
        entry = library.get(release_id)
        desk = next((d for d in entry.release.desks if d.id == desk_id), None) if entry is not None else None
        name = desk.unit(lang) if desk is not None else desk_id
        if name not in names:
            names.append(name)
    return [escape(n) for n in names]


def _scope_line(selection: HomeSelection, library: Library, *, lang: Lang, command: str) -> str:
    if selection.scope == "team":
        return msg("home.team", lang, command=command)
    desks = _desk_names(selection, library, lang)
    if not desks:
        return msg("home.own_assigned", lang)
    return msg("home.own", lang, desks=join(desks, lang))


def _item_text(
    item: _Item,
    state: CommitmentState | None,
    *,
    user_id: str,
    today: dt.date,
    now: dt.datetime,
    tz: ZoneInfo,
    lang: Lang,
    release: Release,
    several: bool,
) -> str:
    line = listed_line(
        item.commitment,
        section=item.section,
        today=today,
        lang=lang,
        release=release,
        done_on=item.done_on,
        in_release=several,
    )
    notes: list[str] = []
    assignee = state.assignee if state is not None else None
    if assignee and assignee != user_id:
        notes.append(taken_by(assignee, lang))
    until = state.snoozed_until if state is not None else None
    if item.section != "done" and until is not None:
        until = until if until.tzinfo is not None else until.replace(tzinfo=dt.UTC)
        if until > now:
            notes.append(msg("home.snoozed", lang, when=format_when(until, tz, lang)))
    if notes:
        line = f"{line}\n    _{' · '.join(notes)}_"
    return clip(line, MAX_SECTION_TEXT)


def _item_blocks(item: _Item, text: str, state: CommitmentState | None, *, lang: Lang) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    # Done in the data file: no state can undo it, so no Reopen (the admin edits the file).
    if item.section == "done" and item.commitment.status == "done":
        return blocks
    buttons = followup_buttons(item.commitment, lang=lang, done=item.section == "done")
    if item.section != "done" and (state is None or not state.assignee):
        buttons.append(take_button(item.commitment, lang))  # as on a reminder, until somebody has it
    blocks.append(
        ActionsBlock(
            block_id=block_id(item.commitment),
            elements=[ButtonElement(text=b.text, action_id=b.action_id, value=b.value, style=b.style) for b in buttons],
        )
    )
    return blocks


def build_home_view(
    selection: HomeSelection,
    states: Mapping[str, CommitmentState],
    *,
    user_id: str,
    lang: Lang,
    now: dt.datetime,
    tz: ZoneInfo,
    library: Library,
    command: str,
) -> dict[str, Any]:
    """`{"type": "home", "blocks": [...]}`: overdue, dates to confirm, upcoming and recently done, with buttons.

    At most Slack's 100 blocks: items beyond them are counted in a last line that points to `/g7 followups`.
    """
    items = selection.items
    today = items.today
    sections: list[tuple[str, str, list[_Item]]] = [
        (
            msg("followups.overdue", lang, count=len(items.overdue)),
            msg("digest.nothing_overdue", lang),
            [_Item(c, "overdue") for c in items.overdue],
        ),
        (
            msg("followups.to_confirm", lang, count=len(items.to_confirm)),
            msg("digest.nothing_to_confirm", lang),
            [_Item(c, "to_confirm") for c in items.to_confirm],
        ),
        (
            msg("home.upcoming", lang, days=items.lookahead_days, count=len(items.upcoming)),
            msg("digest.nothing_upcoming", lang),
            [_Item(c, "upcoming") for c in items.upcoming],
        ),
        (
            msg("home.recent", lang, days=items.recent_days, count=len(items.recently_done)),
            msg("digest.nothing_done", lang),
            [_Item(d.commitment, "done", d.done_on) for d in items.recently_done],
        ),
    ]
    every = [i for _, _, listed in sections for i in listed]
    several = len({_release_of(library, i.commitment).id for i in every}) > 1

    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(plain(msg("home.title", lang)), MAX_HEADER))),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=msg("home.as_of", lang, when=format_when(now, tz, lang))),
                MarkdownTextObject(
                    text=clip(_scope_line(selection, library, lang=lang, command=command), MAX_TEXT_OBJECT)
                ),
            ]
        ),
    ]
    shown_releases = {id(r): r for r in (_release_of(library, i.commitment) for i in every)}
    note = assumptions_note(shown_releases.values() or [e.release for e in library], lang)
    footer = ContextBlock(elements=[MarkdownTextObject(text=note)])
    # Headings and dividers always show; what is left is for the items, and one line for any not shown.
    fixed = len(head) + 2 * len(sections) - 1 + 1
    room = MAX_VIEW_BLOCKS - fixed - 1
    body: list[Block] = []
    shown = 0
    for index, (heading, empty, listed) in enumerate(sections):
        if index:
            body.append(DividerBlock())
        body.append(SectionBlock(text=MarkdownTextObject(text=f"*{heading}*" + ("" if listed else f"\n{empty}"))))
        for item in listed:
            state = states.get(item.commitment.id)
            text = _item_text(
                item,
                state,
                user_id=user_id,
                today=today,
                now=now,
                tz=tz,
                lang=lang,
                release=_release_of(library, item.commitment),
                several=several,
            )
            blocks = _item_blocks(item, text, state, lang=lang)
            if len(blocks) > room:
                room = 0
                break
            body.extend(blocks)
            room -= len(blocks)
            shown += 1
    tail: list[Block] = [footer]
    hidden = len(every) - shown
    if hidden:
        more = msg("home.more", lang, count=hidden, command=command)
        tail.insert(0, ContextBlock(elements=[MarkdownTextObject(text=more)]))
    view = View(type="home", blocks=[*head, *body, *tail])
    return dict(view.to_dict())
