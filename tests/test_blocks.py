"""bot.blocks: Reply -> Block Kit within Slack's limits, a plain-text fallback, and terminal rendering."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.blocks import (
    MAX_BLOCKS,
    MAX_FALLBACK,
    MAX_FIELD_TEXT,
    MAX_HEADER,
    MAX_SECTION_TEXT,
    build_blocks,
    build_message,
    render_message,
)
from bot.commands import answer
from bot.release.lookup import ReleaseLookup
from bot.reply import Button, Reply, Section
from tests.conftest import NOW


def texts(message: dict[str, Any]) -> list[str]:
    """Every text in a message's section blocks, in order."""
    out = []
    for block in message["blocks"]:
        if block["type"] == "section":
            if "text" in block:
                out.append(block["text"]["text"])
            out.extend(f["text"] for f in block.get("fields", []))
    return out


def test_message_has_text_fallback_and_blocks() -> None:
    reply = Reply(
        title="Title",
        sections=[Section(text="*One* &amp; two"), Section(text="Three", fields=["*A*\n1", "*B*\n2"])],
        footer=["Source: METI"],
    )
    message = build_message(reply)

    assert set(message) == {"text", "blocks"}
    assert message["text"].splitlines() == [
        "Title",
        "*One* &amp; two",
        "Three",
        "*A*",
        "1",
        "*B*",
        "2",
        "Source: METI",
    ]
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds == ["header", "section", "divider", "section", "section", "context"]
    assert message["blocks"][0]["text"] == {"type": "plain_text", "text": "Title"}
    assert message["blocks"][1]["text"] == {"type": "mrkdwn", "text": "*One* &amp; two"}
    assert [f["text"] for f in message["blocks"][4]["fields"]] == ["*A*\n1", "*B*\n2"]
    assert message["blocks"][-1]["elements"] == [{"type": "mrkdwn", "text": "Source: METI"}]
    json.dumps(message)


def test_header_is_plain_text_and_clipped() -> None:
    message = build_message(Reply(title="*Bold* &amp; " + "x" * 400))
    header = message["blocks"][0]["text"]["text"]
    assert header.startswith("Bold & x")
    assert len(header) == MAX_HEADER
    assert header.endswith("…")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("word " * 1500, id="no-line-breaks"),
        pytest.param("\n".join(f"line {i} " + "y" * 60 for i in range(200)), id="many-lines"),
        pytest.param("z" * 9001, id="one-long-word"),
    ],
)
def test_long_section_text_is_split_into_sections(text: str) -> None:
    message = build_message(Reply(title="Long", sections=[Section(text=text)]))
    pieces = texts(message)

    assert len(pieces) > 1
    assert all(0 < len(p) <= MAX_SECTION_TEXT for p in pieces)
    # Nothing is lost but the line breaks (or spaces) where the text was cut.
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_split_prefers_line_breaks() -> None:
    lines = [f"{i:04d} " + "w" * 95 for i in range(60)]  # 100 characters each, 6,059 in all
    pieces = texts(build_message(Reply(title="T", sections=[Section(text="\n".join(lines))])))
    assert [line for p in pieces for line in p.split("\n")] == lines


def test_fields_are_clipped_and_grouped_by_ten() -> None:
    fields = [f"*F{i}*\n" + "v" * (3000 if i == 0 else 5) for i in range(13)]
    message = build_message(Reply(title="T", sections=[Section(fields=fields)]))
    groups = [b["fields"] for b in message["blocks"] if b["type"] == "section"]

    assert [len(g) for g in groups] == [10, 3]
    assert len(groups[0][0]["text"]) == MAX_FIELD_TEXT
    assert groups[0][0]["text"].endswith("…")


@pytest.mark.parametrize("footer", [[], ["Footer"]], ids=["no-footer", "footer"])
@pytest.mark.parametrize("buttons", [[], [Button(action_id="done", text="Done", value="1")]], ids=["", "buttons"])
def test_more_than_fifty_blocks_are_cut_to_fifty_with_a_note(footer: list[str], buttons: list[Button]) -> None:
    reply = Reply(
        title="Many",
        sections=[Section(text=f"section {i}") for i in range(80)],
        footer=footer,
        buttons=buttons,
        block_id="b1" if buttons else None,
    )
    blocks = build_message(reply)["blocks"]

    assert len(blocks) == MAX_BLOCKS
    assert blocks[0]["type"] == "header"
    tail = len(footer) + len(buttons[:1])
    note = blocks[MAX_BLOCKS - tail - 1]
    assert note == {"type": "context", "elements": [{"type": "mrkdwn", "text": "…"}]}
    if footer:
        assert blocks[-1]["elements"] == [{"type": "mrkdwn", "text": "Footer"}]
    if buttons:
        assert blocks[-1 - len(footer)]["type"] == "actions"
    # The first sections survive in order.
    assert [t for t in texts({"blocks": blocks})][:3] == ["section 0", "section 1", "section 2"]


def test_exactly_fifty_blocks_are_not_cut() -> None:
    # header + 25 sections + 24 dividers = 50
    blocks = build_blocks(Reply(title="T", sections=[Section(text=f"s{i}") for i in range(25)]))
    assert len(blocks) == MAX_BLOCKS
    assert all(b.to_dict() != {"type": "context", "elements": [{"type": "mrkdwn", "text": "…"}]} for b in blocks)


def test_footer_is_limited_to_ten_context_elements() -> None:
    message = build_message(Reply(title="T", footer=[f"f{i}" for i in range(14)]))
    assert len(message["blocks"][-1]["elements"]) == 10


def test_fallback_text_is_clipped() -> None:
    message = build_message(Reply(title="T", sections=[Section(text="a" * 2500), Section(text="b" * 2500)]))
    assert len(message["text"]) == MAX_FALLBACK
    assert message["text"].endswith("…")


def test_buttons_become_an_actions_block() -> None:
    reply = Reply(
        title="Reminder",
        sections=[Section(text="Due")],
        buttons=[
            Button(action_id="done", text="Done", value="c1", style="primary"),
            Button(action_id="snooze", text="Snooze", value="c1"),
        ],
        block_id="commitment:c1",
    )
    actions = [b for b in build_message(reply)["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1
    assert actions[0]["block_id"] == "commitment:c1"
    assert [(e["action_id"], e["text"]["text"], e.get("style")) for e in actions[0]["elements"]] == [
        ("done", "Done", "primary"),
        ("snooze", "Snooze", None),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "summary",
        "summary en",
        "bilateral",
        "bilateral canada",
        "bilateral france en",
        "contact",
        "contact zzz en",
        "outcomes",
        "outcomes en",
        "docs",
        "docs en",
        "help",
        "help en",
        "nonsense",
    ],
)
def test_every_command_reply_builds_within_slack_limits(lookup: ReleaseLookup, text: str) -> None:
    reply = answer(text, lookup=lookup, lang="ja", now=NOW)
    blocks: list[Block] = build_blocks(reply)
    for block in blocks:
        block.validate_json()  # slack_sdk's own limit checks; raises SlackObjectFormationError
    message = build_message(reply)
    assert message["text"]
    assert 1 < len(message["blocks"]) <= MAX_BLOCKS
    json.dumps(message, ensure_ascii=False)


def test_render_message_is_readable() -> None:
    reply = Reply(
        title="Bilateral (8): France",
        sections=[
            Section(text="*Japan*: Ino\nSee <https://example.invalid/x|the release> &amp; `/g7 docs` &lt;ok&gt;"),
            Section(fields=["*Phone*\n03-3501-1511"]),
        ],
        footer=["Source: METI"],
        buttons=[Button(action_id="done", text="Done", value="1")],
        block_id="b",
    )
    out = render_message(build_message(reply))

    assert out.endswith("\n")
    lines = out.splitlines()
    assert lines[0] == "Bilateral (8): France"
    assert set(lines[1]) == {"="}
    assert "Japan: Ino" in lines
    assert "See the release & /g7 docs <ok>" in lines
    assert "Phone" in lines
    assert "03-3501-1511" in lines
    assert "[Done]" in lines
    assert lines[-1] == "Source: METI"
    assert "*" not in out
    assert "&amp;" not in out


def test_render_message_without_blocks_uses_text() -> None:
    assert render_message({"text": "*hi* &lt;there&gt;"}) == "hi <there>\n"
    assert render_message({}) == "\n"


def test_render_message_of_a_real_reply(lookup: ReleaseLookup) -> None:
    out = render_message(build_message(answer("contact ai en", lookup=lookup, lang="ja", now=NOW)))
    desk = lookup.release.desk("ai-digital")
    assert desk.email in out.splitlines()
    assert "E-mail" in out.splitlines()
