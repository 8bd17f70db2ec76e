"""Reply -> Slack message: Block Kit built with slack_sdk's models, within Slack's limits, plus text."""

from __future__ import annotations

import re
from typing import Any

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

from bot.reply import Reply, Section

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK = 4000


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line breaks where possible so each piece fits in one section."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_section_blocks(section: Section) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=piece)) for piece in _chunks(section.text, MAX_SECTION_TEXT)
    ]
    fields = [MarkdownTextObject(text=_clip(f, MAX_FIELD_TEXT)) for f in section.fields]
    for start in range(0, len(fields), MAX_FIELDS):
        blocks.append(SectionBlock(fields=fields[start : start + MAX_FIELDS]))
    return blocks


def build_blocks(reply: Reply) -> list[Block]:
    """The reply's blocks, never more than Slack's 50: overflow is cut with a note."""
    head: list[Block] = [HeaderBlock(text=PlainTextObject(text=_clip(plain(reply.title), MAX_HEADER)))]
    body: list[Block] = []
    for index, section in enumerate(reply.sections):
        if index:
            body.append(DividerBlock())
        body.extend(build_section_blocks(section))
    tail: list[Block] = []
    if reply.buttons:
        tail.append(
            ActionsBlock(
                block_id=reply.block_id,
                elements=[
                    ButtonElement(text=b.text, action_id=b.action_id, value=b.value, style=b.style)
                    for b in reply.buttons
                ],
            )
        )
    if reply.footer:
        tail.append(ContextBlock(elements=[MarkdownTextObject(text=f) for f in reply.footer[:MAX_CONTEXT_ELEMENTS]]))
    room = MAX_BLOCKS - len(head) - len(tail)
    if len(body) > room:
        body = body[: room - 1]
        body.append(ContextBlock(elements=[MarkdownTextObject(text="…")]))
    return head + body + tail


_MRKDWN_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


def plain(text: str) -> str:
    """mrkdwn -> readable plain text: links show their label, escapes are undone, * and ` dropped."""
    text = _MRKDWN_LINK.sub(r"\2", text)
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text)
    text = re.sub(r"`([^`\n]+)`", r"\1", text)
    return re.sub(r"&(lt|gt|amp);", lambda m: _ENTITIES[m.group(0)], text)


def build_fallback(reply: Reply) -> str:
    """The plain-text `text` Slack shows in notifications and where blocks cannot be shown.

    Kept in Slack's escaped form: it is what the message's `text` field carries.
    """
    parts = [reply.title]
    for section in reply.sections:
        if section.text:
            parts.append(section.text)
        parts.extend(section.fields)
    parts.extend(reply.footer)
    return _clip("\n".join(parts), MAX_FALLBACK)


def build_message(reply: Reply) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage, chat.update or a slash command's ack.

    The one place that calls to_dict(), so slack_sdk's own limit checks run in our tests first.
    """
    return {"text": build_fallback(reply), "blocks": [b.to_dict() for b in build_blocks(reply)]}


def render_message(message: dict[str, Any]) -> str:
    """A Slack message (text and blocks) as a person reads it in a terminal."""
    blocks = message.get("blocks") or []
    if not blocks:
        return plain(str(message.get("text", ""))).rstrip() + "\n"
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = plain(block["text"]["text"])
            lines += [title, "=" * min(60, max(8, len(title) * 2))]
        elif kind == "section":
            if "text" in block:
                lines.append(plain(block["text"]["text"]))
            lines.extend(plain(f["text"]) for f in block.get("fields", []))
        elif kind == "divider":
            lines.append("")
        elif kind == "context":
            lines.extend(plain(e.get("text", "")) for e in block.get("elements", []))
        elif kind == "actions":
            lines.append("  ".join(f"[{plain(e['text']['text'])}]" for e in block.get("elements", [])))
    return "\n".join(lines).rstrip() + "\n"
