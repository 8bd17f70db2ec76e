"""The digest's classification label (issue 9 item 7): one line set by an admin in data/schedule.yml, shown at
the top of every digest in both languages; a digest's own `label` overrides the schedule's."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.blocks import build_message
from bot.errors import ConfigError
from bot.release.models import Lang, Release
from bot.schedule.content import build_digest_reply
from bot.schedule.due import DigestItems
from bot.schedule.models import CLASSIFICATION_MAX, ScheduleFile, load_schedule
from bot.schedule.occurrence import Occurrence
from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from tests.helpers import SettableClock
from tests.slack_standin import SlackStandIn

NOW = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
SCHEDULE = """
timezone: Asia/Tokyo
label: 取扱注意
digests:
  - id: tokyo-weekly
    channel: C0TOKYO001
    cron: "0 9 * * MON"
    lang: ja
  - id: paris-weekly
    channel: C0PARIS001
    cron: "0 9 * * MON"
    timezone: Europe/Paris
    lang: en
    label: "Internal use only: not for partners"
  - id: plain
    channel: C0PLAIN001
    cron: "0 9 * * MON"
    lang: en
"""


@pytest.fixture
def started(tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[Started]:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    (folder / "schedule.yml").write_text(SCHEDULE, encoding="utf-8")
    monkeypatch.setenv("G7BOT_DATA_DIR", str(folder))
    monkeypatch.setenv("G7BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'g7bot.sqlite3'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    poster = Poster(build_post_client("xoxb-test", slack.api_url))
    yield start(load_settings(), poster=poster, clock=SettableClock())


def _digest(started: Started, digest_id: str, lang: Lang) -> dict[str, Any]:
    schedule = started.service.schedule()
    digest = next(d for d in schedule.digests if d.id == digest_id)
    occ = Occurrence(
        kind="digest",
        key=f"digest:{digest_id}",
        channel=digest.channel,
        at=NOW,
        lang=lang,
        timezone=str(schedule.digest_timezone(digest)),
        digest_id=digest_id,
    )
    return started.service.render(occ, NOW)


def _pure_digest(digest_id: str, lang: Lang, release: Release) -> dict[str, Any]:
    """The digest as the service builds it, from the schedule's label and nothing else (no commitments)."""
    schedule = ScheduleFile.model_validate(yaml.safe_load(SCHEDULE))
    digest = next(d for d in schedule.digests if d.id == digest_id)
    tz = schedule.digest_timezone(digest)
    items = DigestItems(today=NOW.astimezone(tz).date(), lookahead_days=14, recent_days=7)
    reply = build_digest_reply(items, lang=lang, now=NOW, tz=tz, release=release, label=schedule.digest_label(digest))
    return build_message(reply)


LABELLED = pytest.mark.parametrize(
    ("digest_id", "label"),
    [("tokyo-weekly", "取扱注意"), ("paris-weekly", "Internal use only: not for partners")],
    ids=["schedule-label", "own-label-overrides"],
)


@pytest.mark.parametrize("lang", ["ja", "en"])
@LABELLED
def test_the_digest_opens_with_its_label(release: Release, digest_id: str, label: str, lang: Lang) -> None:
    _assert_opens_with(_pure_digest(digest_id, lang, release), label)


@pytest.mark.parametrize("lang", ["ja", "en"])
@LABELLED
def test_the_service_renders_each_digest_with_its_label(
    started: Started, digest_id: str, label: str, lang: Lang
) -> None:
    _assert_opens_with(_digest(started, digest_id, lang), label)


def _assert_opens_with(message: dict[str, Any], label: str) -> None:
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    # The first block is the label alone, one line, above the title; the notification text starts with it.
    first = blocks[0]
    assert first["type"] == "context" and [e["text"] for e in first["elements"]] == [label]
    assert blocks[1]["type"] == "header"
    assert str(message["text"]).split("\n", 1)[0] == label
    # Shown once, and the other digest's label nowhere.
    other = "取扱注意" if label != "取扱注意" else "Internal use only"
    assert str(message["text"]).count(label) == 1 and other not in str(message["text"])


def test_without_a_label_the_digest_opens_with_its_title() -> None:
    schedule = ScheduleFile.model_validate({"digests": [{"id": "a", "channel": "C0AAAAAAA1", "cron": "0 9 * * MON"}]})
    assert schedule.digest_label(schedule.digests[0]) is None
    assert schedule.digest_label(None) is None


def test_a_digest_without_its_own_label_takes_the_schedules(started: Started) -> None:
    schedule = started.service.schedule()
    labels = {d.id: schedule.digest_label(d) for d in schedule.digests}
    assert labels == {
        "tokyo-weekly": "取扱注意",
        "paris-weekly": "Internal use only: not for partners",
        "plain": "取扱注意",
    }


def test_the_label_is_escaped(release: Release) -> None:
    # An admin's text, echoed in a channel: no <!channel> through it.
    items = DigestItems(today=NOW.date(), lookahead_days=14, recent_days=7)
    reply = build_digest_reply(items, lang="en", now=NOW, tz=ZoneInfo("UTC"), release=release, label="<!channel> & co")
    message = build_message(reply)
    assert str(message["text"]).startswith("&lt;!channel&gt; &amp; co")
    assert message["blocks"][0]["elements"][0]["text"] == "&lt;!channel&gt; &amp; co"


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("top", "", "label"),
        ("top", "   ", "label"),
        ("top", "line one\nline two", "label"),
        ("top", "x" * (CLASSIFICATION_MAX + 1), "label"),
        ("digest", "tab\there", "digests.0.label"),
        ("digest", "y" * (CLASSIFICATION_MAX + 1), "digests.0.label"),
    ],
    ids=["empty", "blank", "two-lines", "too-long", "digest-control-char", "digest-too-long"],
)
def test_a_bad_label_names_the_file_and_the_field(tmp_path: Path, where: str, value: str, field: str) -> None:
    digest: dict[str, object] = {"id": "a", "channel": "C0AAAAAAA1", "cron": "0 9 * * MON"}
    data: dict[str, object] = {"digests": [digest]}
    (digest if where == "digest" else data)["label"] = value
    path = tmp_path / "schedule.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_schedule(path)
    text = str(caught.value)
    assert "schedule.yml" in text and field in text and str(CLASSIFICATION_MAX) in text


@pytest.mark.parametrize("value", ["取扱注意", "Internal use only", "z" * CLASSIFICATION_MAX])
def test_a_good_label_loads(tmp_path: Path, value: str) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text(f'label: "{value}"\ndigests: []\n', encoding="utf-8")
    assert load_schedule(path).label == value
