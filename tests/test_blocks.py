"""bot.blocks: Reply -> Block Kit within Slack's limits, a plain-text fallback, and terminal rendering."""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.blocks import (
    MAX_BLOCKS,
    MAX_CONTEXT_ELEMENTS,
    MAX_FALLBACK,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_SECTION_TEXT,
    _chunks,
    _clip,
    build_blocks,
    build_message,
    render_message,
)
from bot.commands import answer
from bot.release.loader import COMMITMENTS_FILE
from bot.release.lookup import ReleaseLookup
from bot.release.models import Lang, Release
from bot.reply import Button, Reply, Section
from bot.schedule.content import build_followups_reply
from bot.schedule.models import load_commitments
from tests.conftest import NOW

# Escapes, mentions, specials and links: what a cut must never fall inside.
ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")
ATOMS = [
    "&amp;",
    "&lt;",
    "&gt;",
    "<@U0123ABCD>",
    "<@U0123ABCD|sato>",
    "<#C0123456789|g7-followups>",
    "<!here>",
    "<!channel>",
    "<!subteam^S0123|@desk team>",
    "<!date^1765324800^{date_short}|10 Dec 2025>",
    "<https://www.meti.go.jp/press/2025/12/20251210001/20251210001.html|the release &amp; annex>",
    "<mailto:desk@example.invalid|desk@example.invalid>",
]
WORDS = ["R", "D", "G7", "AI", "digital", "議論", "フランス", "*bold*", "`code`", "x" * 40]


def rejoin(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Where each piece lies in `text`, asserting that only whitespace lies between them (the cuts)."""
    spans, pos = [], 0
    for piece in pieces:
        found = text.find(piece, pos)
        assert found >= 0 and not text[pos:found].strip(), (piece, text[pos:found])
        spans.append((found, found + len(piece)))
        pos = found + len(piece)
    assert not text[pos:].strip()
    return spans


def broken_atoms(piece: str) -> str:
    """What is left of `piece` once whole atoms are taken out: any & < > there is part of a cut one."""
    return "".join(ch for ch in ATOM.sub("", piece) if ch in "&<>")


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    """The Block Kit limits: some slack_sdk checks in to_dict(), some only Slack does on posting."""
    blocks = message["blocks"]
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert 0 < len(message["text"]) <= MAX_FALLBACK <= 40_000
    assert broken_atoms(message["text"]) == ""
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= MAX_HEADER
        elif kind == "section":
            texts_here = [f["text"] for f in block.get("fields", [])]
            assert len(texts_here) <= MAX_FIELDS
            assert all(0 < len(t) <= MAX_FIELD_TEXT for t in texts_here)
            if "text" in block:
                assert 0 < len(block["text"]["text"].strip()) <= len(block["text"]["text"]) <= MAX_SECTION_TEXT
                texts_here.append(block["text"]["text"])
            assert texts_here, block
            for text in texts_here:
                assert broken_atoms(text) == "", text
        elif kind == "context":
            assert 0 < len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
            assert all(len(e["text"]) <= MAX_SECTION_TEXT for e in block["elements"])
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
        else:
            assert kind == "divider", kind


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
    rejoin(text, pieces)  # nothing is lost but the line break (or space) where the text was cut


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


# --- escapes, mentions and links survive splitting ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        # The fault seen in Slack: `R&a` | `mp;D`.
        pytest.param("R&amp;D", 5, ["R", "&amp;", "D"], id="escape-not-cut"),
        pytest.param("xxxxR&amp;D", 8, ["xxxxR", "&amp;D"], id="escape-moves-to-the-next-piece"),
        pytest.param("see <@U0123ABCD> now", 12, ["see", "<@U0123ABCD>", "now"], id="mention-not-cut"),
        pytest.param(
            "a <https://x.example/a|two words> bb",
            31,
            ["a", "<https://x.example/a|two words>", "bb"],
            id="space-inside-a-link-is-no-cut",
        ),
        pytest.param("one two\nthree four", 14, ["one two", "three four"], id="newline-before-space"),
        pytest.param("one two three", 10, ["one two", "three"], id="space-before-anywhere"),
        pytest.param("abcdefghij", 4, ["abcd", "efgh", "ij"], id="one-long-word-anywhere"),
        pytest.param(
            "<!subteam^S1|longer-than-limit>", 8, ["<!subtea", "m^S1|lon", "ger-than", "-limit>"], id="atom-over-limit"
        ),
        pytest.param("a\n\n\n\nb", 3, ["a", "b"], id="blank-lines-at-a-cut-dropped"),
        pytest.param("a    \n  b", 4, ["a", "  b"], id="trailing-blanks-dropped-indent-kept"),
        pytest.param("a\n    \nb", 3, ["a", "b"], id="blank-pieces-dropped"),
    ],
)
def test_chunks_examples(text: str, limit: int, expected: list[str]) -> None:
    assert _chunks(text, limit) == expected


pieces_of_text = st.lists(
    st.one_of(
        st.sampled_from(ATOMS),
        st.sampled_from(WORDS),
        st.sampled_from([" ", " ", "\n", "\n\n", "  "]),
        st.text(alphabet="abcあい ", max_size=12),
    ),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=pieces_of_text, limit=st.integers(min_value=100, max_value=400))
def test_chunks_never_cut_an_escape_mention_or_link(text: str, limit: int) -> None:
    pieces = _chunks(text, limit)
    assert all(0 < len(p) <= limit and p.strip() for p in pieces)
    spans = rejoin(text, pieces)
    cuts = [end for _, end in spans[:-1]]
    for atom in ATOM.finditer(text):
        assert not any(atom.start() < cut < atom.end() for cut in cuts), atom.group()
    assert all(broken_atoms(p) == "" for p in pieces)


@settings(max_examples=300, deadline=None)
@given(text=pieces_of_text, limit=st.integers(min_value=100, max_value=400))
def test_clip_never_cuts_an_escape_mention_or_link(text: str, limit: int) -> None:
    clipped = _clip(text, limit)
    assert len(clipped) <= limit
    if clipped != text:
        assert clipped.endswith("…")
        assert text.startswith(clipped[:-1])
        assert broken_atoms(clipped[:-1]) == ""


@settings(max_examples=40, deadline=None)
@given(
    text=st.lists(st.sampled_from([*ATOMS, *WORDS, " ", "\n"]), min_size=900, max_size=2500).map("".join),
    fields=st.lists(st.lists(st.sampled_from([*ATOMS, *WORDS, " "]), max_size=600).map("".join), max_size=14),
)
def test_messages_at_slacks_limits_keep_every_atom_whole(text: str, fields: list[str]) -> None:
    title = "R&amp;D " * 40
    reply = Reply(title=title, sections=[Section(text=text, fields=fields)], footer=["&lt;" * 900])
    message = build_message(reply)
    assert_within_slack_limits(message)
    section_texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]
    rejoin(text, section_texts)


# --- the longest replies, checked against every Block Kit limit -----------------------------------


LONG_COMMANDS = [
    "bilateral",
    "bilateral canada",
    "summary",
    "docs",
    "outcomes",
    "contact",
    "help",
    "nonsense words here",
]


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("text", LONG_COMMANDS)
def test_longest_command_replies_within_every_block_kit_limit(lookup: ReleaseLookup, text: str, lang: Lang) -> None:
    assert_within_slack_limits(build_message(answer(text, lookup=lookup, lang=lang, now=NOW, is_admin=True)))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_followup_within_every_block_kit_limit(release: Release, lang: Lang) -> None:
    commitments = load_commitments(COMMITMENTS_FILE)
    reply = build_followups_reply(commitments, {}, NOW, lang=lang, tz=ZoneInfo("Asia/Tokyo"), release=release)
    assert_within_slack_limits(build_message(reply))


def test_a_reply_past_every_limit_is_brought_within_them() -> None:
    reply = Reply(
        title="&lt;" * 200,
        sections=[
            Section(text="\n".join(f"• R&amp;D <@U0123ABCD> item {i} " + "w" * 80 for i in range(400))),
            Section(fields=[f"*F{i}* &amp; " + "&gt;" * 700 for i in range(25)]),
            *[Section(text=f"s{i} <!here>") for i in range(60)],
        ],
        footer=[f"<https://x.example/{i}|source {i}>" for i in range(14)],
        buttons=[Button(action_id="done", text="Done", value="1")],
        block_id="b",
    )
    message = build_message(reply)
    assert_within_slack_limits(message)
    assert len(message["blocks"]) == MAX_BLOCKS
    header = message["blocks"][0]["text"]["text"]
    assert header == "<" * (MAX_HEADER - 1) + "…"
