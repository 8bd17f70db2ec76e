"""Kill `serve` mid fan-out and start it again on the same SQLite file: every channel gets one post, once."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.schedule.store import Store
from tests.schedule.serve_helpers import (
    CHANNELS,
    DONE_WITHIN,
    READY_WITHIN,
    STOP_WITHIN,
    Launcher,
    PostWatch,
    Serve,
    Victim,
    all_delivered,
    assert_each_channel_posted_once,
    assert_no_traceback,
    delay_posts,
    kill_sender,
    last_minute,
    wait_until,
    write_data_dir,
)
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.timeout(90)

# The poster has at most 16 posts in flight, so 40 channels go out in three rounds of this each.
POST_DELAY = 0.5


@pytest.fixture
def launcher(tmp_path: Path, slack: SlackStandIn) -> Iterator[Launcher]:
    with Launcher(tmp_path, slack) as launcher:
        yield launcher


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_data_dir(tmp_path / "data", due_at=last_minute(dt.datetime.now(dt.UTC)))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'g7bot.sqlite3'}"


def posted_but_not_recorded(slack: SlackStandIn, database_url: str) -> set[str]:
    """Channels Slack has a post for whose delivery the log does not have as sent."""
    posted = {str(c.args["channel"]) for c in slack.posts()}
    with Store(database_url) as store:
        sent = {d.channel for d in store.deliveries(status="sent")}
    assert sent != set(CHANNELS), "killed after the fan-out had finished"
    return posted - sent


def restart_and_check(
    launcher: Launcher, slack: SlackStandIn, *, first: Serve, data_dir: Path, database_url: str, unrecorded: set[str]
) -> None:
    """Start a second process on the same log; it finishes the fan-out, finding (not reposting) `unrecorded`."""
    second = launcher.start("second", data_dir=data_dir, database_url=database_url)
    with Store(database_url) as store:
        wait_until(
            all_delivered(slack, store),
            within=DONE_WITHIN,
            what=f"every one of {len(CHANNELS)} channels posted and its delivery sent",
            alive=[second],
        )
        launcher.stop_all()
        assert_each_channel_posted_once(slack, store)
    for channel in unrecorded:
        # Its post reached Slack but not the log: the restart looked in the channel and recorded it.
        looked = [
            c
            for c in slack.calls_to("conversations.history")
            if c.token == second.token and c.args.get("channel") == channel
        ]
        assert looked, f"{channel}: the restarted process never looked for the post already there"
    assert all(c.token == first.token for c in slack.posts() if c.args["channel"] in unrecorded)
    assert_no_traceback(first, second)


@pytest.mark.parametrize(
    ("stop_signal", "posts_before_stop"),
    [
        pytest.param(signal.SIGKILL, 1, id="sigkill-in-round-1"),
        pytest.param(signal.SIGKILL, 20, id="sigkill-in-round-2"),
        pytest.param(signal.SIGKILL, 35, id="sigkill-in-round-3"),
        # A deploy's stop: uvicorn stops serving, then re-raises SIGTERM, which ends the fan-out mid-way.
        pytest.param(signal.SIGTERM, 20, id="sigterm-in-round-2"),
    ],
)
def test_stopped_mid_fanout_then_restarted_posts_each_channel_once(
    slack: SlackStandIn,
    launcher: Launcher,
    data_dir: Path,
    database_url: str,
    stop_signal: signal.Signals,
    posts_before_stop: int,
) -> None:
    delay_posts(slack, POST_DELAY)
    watch = PostWatch()
    slack.on_call = watch
    first = launcher.start("first", data_dir=data_dir, database_url=database_url)

    arrived = watch.wait_for(posts_before_stop, within=READY_WITHIN, alive=[first])
    first.process.send_signal(stop_signal)
    code = first.process.wait(timeout=STOP_WITHIN)
    assert arrived, f"{watch.count} posts arrived, not {posts_before_stop}:\n{first.log_text()}"
    assert code == -stop_signal, f"first exited with {code}:\n{first.log_text()}"

    unrecorded = posted_but_not_recorded(slack, database_url)
    if stop_signal == signal.SIGKILL:
        # Killed with posts in flight: Slack answers them after the process is gone.
        assert unrecorded
    restart_and_check(launcher, slack, first=first, data_dir=data_dir, database_url=database_url, unrecorded=unrecorded)


@pytest.mark.parametrize(
    "kill_at",
    [
        pytest.param(1, id="kill-at-post-1"),
        pytest.param(17, id="kill-at-post-17"),
        pytest.param(40, id="kill-at-post-40"),
    ],
)
def test_sigkill_between_slack_ok_and_mark_sent_is_recovered_from_history(
    slack: SlackStandIn, launcher: Launcher, data_dir: Path, database_url: str, kill_at: int
) -> None:
    # No delay: Slack records the post and answers ok at once, but the process dies as the post arrives,
    # before it can read the answer and mark the delivery sent.
    watch = PostWatch()
    victim = Victim()
    watch.at(kill_at, kill_sender(launcher, victim))
    slack.on_call = watch
    first = launcher.start("first", data_dir=data_dir, database_url=database_url)

    arrived = watch.wait_for(kill_at, within=READY_WITHIN, alive=[first])
    assert arrived, f"{watch.count} posts arrived, not {kill_at}:\n{first.log_text()}"
    assert victim.killed.wait(STOP_WITHIN)
    first.process.wait(timeout=STOP_WITHIN)
    assert victim.call is not None

    unrecorded = posted_but_not_recorded(slack, database_url)
    assert victim.call.args["channel"] in unrecorded
    restart_and_check(launcher, slack, first=first, data_dir=data_dir, database_url=database_url, unrecorded=unrecorded)
