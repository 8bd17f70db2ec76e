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

from bot.reply import Citation, Reply, Section

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
# Slack cuts `text` at 40,000 characters; a fallback beside blocks is for notifications, so far less.
MAX_FALLBACK = 4000
MAX_TEXT_OBJECT = 3000
# A citation's elements stay within 2,000 characters each, a margin under Slack's text-object limit.
MAX_CITATION_TEXT = 2000
CITATION_BLOCK_ID = "g7_citation"


# What must never be cut: an escape (&amp; &lt; &gt;), or a mention, special or link (<@U1>, <#C1|x>,
# <!here>, <https://x|label>). A cut inside one shows as garbage (`R&a` | `mp;D`) or a broken link.
_ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")


def _atoms(text: str, end: int) -> list[tuple[int, int]]:
    """The (start, end) of every atom that starts before `end`."""
    spans: list[tuple[int, int]] = []
    for m in _ATOM.finditer(text):
        if m.start() >= end:
            break
        spans.append(m.span())
    return spans


def _safe_end(text: str, end: int) -> int:
    """The largest cut <= `end` that is not inside an atom (0 if an atom spans text[0:end])."""
    for start, stop in _atoms(text, end):
        if start < end < stop:
            return start
    return end


def _cut(text: str, limit: int) -> tuple[int, int]:
    """Where to split `text` (longer than `limit`): the piece is text[:cut], the rest text[resume:].

    A newline is the best place, then a space (the one character there is dropped), then anywhere
    outside an atom; a line or a word must fill at least half the piece, or it is wasted space.
    """
    spans = _atoms(text, limit + 1)

    def inside(cut: int) -> bool:
        return any(start < cut < stop for start, stop in spans)

    for floor in (limit // 2, 1):
        for sep in ("\n", " "):
            cut = text.rfind(sep, 0, limit + 1)
            while cut >= floor and inside(cut):
                cut = text.rfind(sep, 0, cut)
            if cut >= floor:
                return cut, cut + 1
    cut = _safe_end(text, limit)
    # An atom longer than the limit itself cannot be kept whole; Slack would refuse the block otherwise.
    return (cut, cut) if cut > 0 else (limit, limit)


def _chunks(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, never inside an escape, mention or link."""
    pieces: list[str] = []
    while len(text) > limit:
        cut, resume = _cut(text, limit)
        # Blanks at a cut would show as an empty line at the end or the start of a section.
        pieces.append(text[:cut].rstrip())
        text = text[resume:].lstrip("\n")
    pieces.append(text)
    # A section of nothing but blanks is refused by Slack, and shows nothing anyway.
    return [p for p in pieces if p.strip()]


def _clip(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters with an ellipsis, never inside an escape, mention or link."""
    if len(text) <= limit:
        return text
    cut = _safe_end(text, limit - 1)
    return text[: cut if cut > 0 else limit - 1] + "…"


def clip(text: str, limit: int) -> str:
    """`text` within `limit` characters (an ellipsis if cut), never cut inside an escape, mention or link."""
    return _clip(text, limit)


def build_section_blocks(section: Section) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=piece)) for piece in _chunks(section.text, MAX_SECTION_TEXT)
    ]
    # Slack refuses an empty text object, so a blank field is left out rather than failing the message.
    fields = [MarkdownTextObject(text=_clip(f, MAX_FIELD_TEXT)) for f in section.fields if f.strip()]
    for start in range(0, len(fields), MAX_FIELDS):
        blocks.append(SectionBlock(fields=fields[start : start + MAX_FIELDS]))
    return blocks


def build_citation_block(citation: Citation) -> ContextBlock:
    elements = citation.elements[:MAX_CONTEXT_ELEMENTS]
    return ContextBlock(
        block_id=CITATION_BLOCK_ID, elements=[MarkdownTextObject(text=_clip(e, MAX_CITATION_TEXT)) for e in elements]
    )


def build_blocks(reply: Reply) -> list[Block]:
    """The reply's blocks, never more than Slack's 50: overflow is cut with a note."""
    head: list[Block] = []
    if reply.label:
        # A classification marking leads, above the title, as on a paper document.
        head.append(ContextBlock(elements=[MarkdownTextObject(text=_clip(reply.label, MAX_TEXT_OBJECT))]))
    head.append(HeaderBlock(text=PlainTextObject(text=_clip(plain(reply.title), MAX_HEADER))))
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
        footer = reply.footer[:MAX_CONTEXT_ELEMENTS]
        tail.append(ContextBlock(elements=[MarkdownTextObject(text=_clip(f, MAX_TEXT_OBJECT)) for f in footer]))
    if reply.citation is not None:
        # Last, in small print: where the facts above come from.
        tail.append(build_citation_block(reply.citation))
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
    # The label first: it is what a notification shows before anything else.
    parts = [*([reply.label] if reply.label else []), reply.title]
    for section in reply.sections:
        if section.text:
            parts.append(section.text)
        parts.extend(section.fields)
    parts.extend(reply.footer)
    if reply.citation is None:
        return _clip("\n".join(parts), MAX_FALLBACK)
    # The citation is kept whole at the end; the body gives way to it.
    cite = _clip("\n".join(_clip(e, MAX_CITATION_TEXT) for e in reply.citation.elements), MAX_FALLBACK // 2)
    return _clip("\n".join(parts), MAX_FALLBACK - len(cite) - 1) + "\n" + cite


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
