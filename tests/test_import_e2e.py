"""A METI release nobody has seen, end to end: `g7bot import` into a copy of data/, `g7bot check`, then the running
bot answers it after `/g7 admin reload`, in Japanese at once and in English with what is left marked, every answer
cited."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.blocks import CITATION_BLOCK_ID, render_message
from bot.messages import msg
from bot.startup import Started
from tests.helpers import ROOT, child_env, copy_data_dir
from tests.importer.helpers import FIXTURES
from tests.signed_app import SCHEDULE, dispatch, slash_body, start_http_mode
from tests.slack_standin import SlackStandIn

FIXTURE = FIXTURES / "visit_gulf_reiwa.txt"
URL = "https://www.meti.go.jp/press/2024/01/20250117001/20250117001.html"
TITLE = "松田経済産業大臣がサウジアラビア王国及びアラブ首長国連邦を訪問しました"
SHIPPED = "meti-2025-12-10-g7-idt"


def marked(ja: str) -> str:
    return msg("untranslated", "en", text=ja)


def g7bot(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed CLI, as an admin runs it, on the data folder `data` (G7BOT_DATA_DIR)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=data.parent,
        env=child_env(G7BOT_DATA_DIR=str(data), G7BOT_DATABASE_URL=f"sqlite:///{data.parent / 'cli.sqlite3'}"),
        timeout=120,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = copy_data_dir(tmp_path / "data")
    (folder / "schedule.yml").write_text(SCHEDULE, encoding="utf-8")
    return folder


@pytest.fixture
def started(tmp_path: Path, data: Path, slack: SlackStandIn) -> Iterator[Started]:
    # The bot `serve` runs in HTTP mode on that data folder (start_http_mode keeps a folder already there).
    started = start_http_mode(tmp_path, slack.api_url)
    assert started.settings.data_dir == data
    yield started
    started.service.store.close()


_TRIGGERS = itertools.count(1)


def message_of(started: Started, text: str) -> dict[str, Any]:
    """What Slack shows the admin for `/g7 text` (the ephemeral reply in the HTTP response)."""
    # A new trigger_id each time, as Slack's: the same body signed in the same second would be taken for a retry.
    payload = dict(parse_qsl(slash_body(text)), trigger_id=f"e2e.{next(_TRIGGERS)}")
    response = asyncio.run(dispatch(started, urlencode(payload)))
    assert response.status == 200, response.body
    message: dict[str, Any] = json.loads(response.body)
    return message


def ask(started: Started, text: str) -> str:
    return render_message(message_of(started, text)).replace("\u200b", "").replace("*", "")


def citation_of(message: dict[str, Any]) -> list[str]:
    """The citation block's elements (mrkdwn: the release link in Slack's <url|title> form)."""
    (block,) = [b for b in message["blocks"] if b.get("block_id") == CITATION_BLOCK_ID]
    return [str(e["text"]) for e in block["elements"]]


def assert_cited(message: dict[str, Any], *, release_id: str, lang: str, lines: set[int]) -> None:
    """The reply ends with the visit's citation: its date and title linked to its page, its own source lines."""
    assert message["blocks"][-1].get("block_id") == CITATION_BLOCK_ID
    elements = " ".join(citation_of(message))
    assert ("2025年1月17日" if lang == "ja" else "17 January 2025") in elements
    title = TITLE if lang == "ja" else marked(TITLE)
    assert f"<{URL}|{title}>" in elements, elements
    assert f"data/releases/{release_id}/source.txt" in elements
    cited = {int(n) for n in re.findall(r"\d+", elements.split("source.txt", 1)[1])}
    assert lines <= cited, (lines, elements)


def test_a_new_release_imported_checked_reloaded_and_answered(data: Path, started: Started) -> None:
    source = FIXTURE.read_text(encoding="utf-8").splitlines()
    assert "松田" not in ask(started, "summary ja"), "nothing of the visit before it is imported"

    # 1. g7bot import FILE --url URL, into G7BOT_DATA_DIR's releases/
    done = g7bot(data, "import", str(FIXTURE), "--url", URL)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    written = re.search(r"^Written to (.+)\.$", done.stdout, flags=re.M)
    assert written is not None, done.stdout
    folder = Path(written[1])
    assert folder.parent == data / "releases"
    release_id = folder.name
    assert sorted(p.name for p in folder.iterdir()) == ["import-report.txt", "release.yml", "source.txt"]
    assert sorted(p.name for p in (ROOT / "data" / "releases").iterdir()) == [SHIPPED], "the checkout is untouched"
    report = done.stdout
    for found in (
        "found: line 7: 2025-01-17",  # 令和7年1月17日
        "found: line 8: updated 2025-01-20",  # 【2025年1月20日更新】
        "a visit, 2025-01-12 to 2025-01-15",
        "(1) サウジアラビア王国 ファーレフ 投資大臣, 2025-01-13 [heading, line 12]",
        "(2) アラブ首長国連邦 ザイユーディ 対外貿易担当国務大臣 [heading, line 14]",
        "本出張全般について: 資源エネルギー庁 国際課長 中島",
        "重要鉱物について: 製造産業局 鉱物資源課長 木村",
        "日・サウジアラビア共同声明 (英文) PDF 412 KB",
        "会談の概要 (no language stated) PDF 1536 KB",
        "Source lines not used: 0",
    ):
        assert found in report, found
    assert "bilaterals.0.counterpart.title: 投資大臣" in report  # left for a person, and said so

    # 2. g7bot check: passes, warning of each field left untranslated; --strict fails naming them.
    checked = g7bot(data, "check")
    assert checked.returncode == 0, checked.stderr
    release_yml = folder / "release.yml"
    assert f"{release_yml}: bilaterals.0.counterpart.title: warning: not yet translated" in checked.stderr
    assert f"{release_yml}: trip.city: warning: not yet translated" in checked.stderr
    assert f"ok  {release_yml}  {release_id}  2025-01-17  {TITLE}" in checked.stdout
    strict = g7bot(data, "check", "--strict")
    assert strict.returncode != 0
    assert f"{release_yml}: bilaterals.0.counterpart.title: error: not yet translated" in strict.stderr
    assert f"{release_yml}: title: error: not yet translated" in strict.stderr

    # 3. The running bot: nothing changes before the reload, then an admin reloads.
    assert "松田" not in ask(started, f"summary @{release_id} ja")
    assert "reloaded" in ask(started, "admin reload en")
    assert [e.id for e in started.runtime.library.current] == [SHIPPED, release_id]

    # 4. Japanese at once: summary, bilateral, search, each cited with the visit's own lines.
    summary = message_of(started, f"summary @{release_id} ja")
    shown = render_message(summary)
    people = ("松田経済産業大臣", "ファーレフ投資大臣", "ザイユーディ対外貿易担当国務大臣")
    for ja in (TITLE, "2025年1月12日", "リヤド", *people):
        assert ja in shown, ja
    assert "(未翻訳)" not in shown and "not yet translated" not in shown
    assert_cited(summary, release_id=release_id, lang="ja", lines={10, 12, 14})

    bilateral = message_of(started, f"bilateral サウジアラビア @{release_id} ja")
    shown = render_message(bilateral)
    assert "ファーレフ投資大臣" in shown and source[12] in shown  # line 13: what was discussed
    assert_cited(bilateral, release_id=release_id, lang="ja", lines={12, 13})

    found = message_of(started, "search 水素 ja")
    shown = render_message(found).replace("\u200b", "").replace("*", "")
    assert source[12] in shown and "13行目" in shown
    assert_cited(found, release_id=release_id, lang="ja", lines={13})

    # 5. English as far as the gazetteer goes; the rest in Japanese, marked, and still cited.
    summary = message_of(started, f"summary @{release_id} en")
    shown = render_message(summary)
    assert "12–15 January 2025" in shown
    assert "Saudi Arabia" in shown and "United Arab Emirates" in shown  # from the gazetteer
    assert "Minister of Economy, Trade and Industry" in shown
    for ja in (TITLE, "リヤド", "ファーレフ投資大臣", "ザイユーディ対外貿易担当国務大臣"):
        assert marked(ja) in shown, ja
    assert_cited(summary, release_id=release_id, lang="en", lines={10, 12, 14})

    bilateral = message_of(started, "bilateral saudi arabia en")
    shown = render_message(bilateral)
    # The default release (the shipped one, newer) has no meeting with Saudi Arabia: the visit's is "also met".
    assert marked("ファーレフ投資大臣") in shown
    assert_cited(bilateral, release_id=release_id, lang="en", lines={12})
    selected = message_of(started, f"bilateral saudi arabia @{release_id} en")
    shown = render_message(selected)
    assert marked(source[12]) in shown  # what was discussed, not yet translated
    assert marked("水素") in shown
    assert_cited(selected, release_id=release_id, lang="en", lines={12, 13})

    found = message_of(started, "search 水素 en")
    shown = render_message(found).replace("\u200b", "").replace("*", "")
    assert marked(source[12]) in shown and "line 13" in shown
    assert "Saudi Arabia" in shown
    assert_cited(found, release_id=release_id, lang="en", lines={13})

    # The shipped release answers as before.
    assert "Le Hénanff" in ask(started, "bilateral france en")
