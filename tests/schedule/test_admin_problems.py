"""`admin schedule` shows admins what needs them: posts Slack refused for good, held posts, and retries."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import set_clock
from tests.schedule.test_service import PARIS_CHANNEL, Started, data_dir, slash, started
from tests.slack_standin import SlackStandIn, posts_by_channel

__all__ = ["data_dir", "started"]  # fixtures, used by name

NOW = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)


def test_a_post_refused_for_good_is_listed_with_what_to_fix(started: Started, slack: SlackStandIn) -> None:
    slack.channel_errors[PARIS_CHANNEL] = "not_in_channel"
    set_clock(started, lambda: NOW)
    slash(started, f"admin digest-now {PARIS_CHANNEL} en")
    assert started.service.store.counts()["failed"] == 1
    text = slash(started, "admin schedule en")["text"]
    assert "refused for good" in text
    assert "not_in_channel" in text and "/invite" in text
    assert PARIS_CHANNEL in text
    assert len(posts_by_channel(slack.posts())[PARIS_CHANNEL]) == 1, "a permanent refusal is not retried"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_held_post_is_listed_as_held(started: Started, slack: SlackStandIn, lang: str) -> None:
    store = started.service.store
    from bot.schedule.occurrence import Occurrence

    d = store.claim(
        Occurrence(kind="digest", key="digest:held", channel=PARIS_CHANNEL, at=NOW),
        now=NOW,
        owner="x",
        lease=dt.timedelta(minutes=2),
        late=False,
    )
    assert d is not None
    assert store.finish(d.id, status="held", reason="conversations.history: missing_scope", now=NOW, owner="x")
    text = slash(started, f"admin schedule {lang}")["text"]
    assert "digest:held" in text and "missing_scope" in text
    assert ("held" in text) if lang == "en" else ("保留" in text)
