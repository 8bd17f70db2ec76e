"""Two `serve` processes on one PostgreSQL delivery log: every channel gets one post, even when one dies."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.schedule.store import Store
from tests.postgres import postgres_url
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
    wait_healthy,
    wait_until,
    write_data_dir,
)
from tests.slack_standin import Call, SlackStandIn

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]

# Slow enough that the two instances' ticks overlap the fan-out, short enough that one instance's
# share (at most three rounds of 16) is posted well within the 3 s lease.
POST_DELAY = 0.3
# The 10th post: the first round of 16 is in flight.
KILL_AT = 10


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_url() as url:
        yield url


@pytest.fixture
def launcher(tmp_path: Path, slack: SlackStandIn) -> Iterator[Launcher]:
    with Launcher(tmp_path, slack) as launcher:
        yield launcher


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_data_dir(tmp_path / "data", due_at=last_minute(dt.datetime.now(dt.UTC)))


@contextmanager
def deliveries_locked(database_url: str) -> Iterator[Callable[[], int]]:
    """Hold the delivery log locked; yields how many sessions wait for it. Unlocks both at once on exit.

    Started while it is held, both instances block in their first tick's first query, and then race for
    the same 40 claims instead of the first to start taking them all before the other looks.
    """
    Store(database_url).close()  # the tables, as the instances would create them
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE"))

            def waiting() -> int:
                with engine.connect() as probe:
                    query = "SELECT count(*) FROM pg_locks WHERE relation = 'deliveries'::regclass AND NOT granted"
                    return int(probe.execute(text(query)).scalar_one())

            yield waiting
    finally:
        engine.dispose()


def start_racing(launcher: Launcher, *, data_dir: Path, database_url: str) -> list[Serve]:
    """Start instances a and b and release them together on the delivery log."""
    with deliveries_locked(database_url) as waiting:
        serves = [launcher.start(name, data_dir=data_dir, database_url=database_url) for name in ("a", "b")]
        wait_until(lambda: waiting() >= 2, within=READY_WITHIN, what="both instances waiting for the log", alive=serves)
    return serves


def test_two_instances_post_each_channel_once(
    slack: SlackStandIn, launcher: Launcher, data_dir: Path, database_url: str
) -> None:
    delay_posts(slack, POST_DELAY)
    a, b = start_racing(launcher, data_dir=data_dir, database_url=database_url)
    wait_healthy(a, b)
    with Store(database_url) as store:
        wait_until(
            all_delivered(slack, store),
            within=DONE_WITHIN,
            what=f"every one of {len(CHANNELS)} channels posted and its delivery sent",
            alive=[a, b],
        )
        launcher.stop_all()
        assert_each_channel_posted_once(slack, store)
    assert_no_traceback(a, b)


def test_survivor_finishes_the_fanout_of_an_instance_killed_mid_way(
    slack: SlackStandIn, launcher: Launcher, data_dir: Path, database_url: str
) -> None:
    delay_posts(slack, POST_DELAY)
    watch = PostWatch()
    victim = Victim()
    # Whichever instance sends the 10th post dies as Slack receives it.
    watch.at(KILL_AT, kill_sender(launcher, victim))
    slack.on_call = watch
    start_racing(launcher, data_dir=data_dir, database_url=database_url)

    arrived = watch.wait_for(KILL_AT, within=READY_WITHIN, alive=launcher.started)
    assert arrived, f"{watch.count} posts arrived, not {KILL_AT}:\n" + "\n".join(
        f"--- {s.name}:\n{s.log_text()}" for s in launcher.started
    )
    assert victim.killed.wait(STOP_WITHIN)
    assert victim.serve is not None
    victim.serve.process.wait(timeout=STOP_WITHIN)
    [survivor] = [s for s in launcher.started if s is not victim.serve]
    wait_healthy(survivor)

    with Store(database_url) as store:
        wait_until(
            all_delivered(slack, store),
            within=DONE_WITHIN,
            what=f"the survivor to finish all {len(CHANNELS)} channels",
            alive=[survivor],
        )
        launcher.stop_all()
        assert_each_channel_posted_once(slack, store)
    # The post the victim died sending reached Slack: the survivor took the claim over, looked in the
    # channel and recorded it instead of posting again.
    assert victim.call is not None
    channel = victim.call.args["channel"]
    assert any(
        c.token == survivor.token and c.args.get("channel") == channel for c in slack.calls_to("conversations.history")
    ), f"the survivor never looked in {channel} for the post already there"
    assert_no_traceback(survivor, victim.serve)


# Frozen this long: past its 3 s lease and the 2 s settle delay, so the survivor takes its claims over.
FREEZE_FOR = 8.0


def freeze_sender(launcher: Launcher, victim: Victim) -> Callable[[Call], None]:
    """A PostWatch action: SIGSTOP whichever process sent this post; Slack has it, the answer waits."""

    def action(call: Call) -> None:
        serve = next(s for s in launcher.started if s.token == call.token)
        os.kill(serve.process.pid, signal.SIGSTOP)
        victim.serve, victim.call = serve, call
        victim.killed.set()

    return action


def test_an_instance_frozen_past_its_lease_and_continued_posts_nothing_twice(
    slack: SlackStandIn, launcher: Launcher, data_dir: Path, database_url: str
) -> None:
    # The fault from the issue: an instance frozen (SIGSTOP) with posts in flight and claims waiting for
    # their turn, past its lease; the other takes over; then the frozen one is continued (SIGCONT).
    delay_posts(slack, POST_DELAY)
    watch = PostWatch()
    frozen = Victim()
    watch.at(KILL_AT, freeze_sender(launcher, frozen))
    slack.on_call = watch
    start_racing(launcher, data_dir=data_dir, database_url=database_url)
    assert watch.wait_for(KILL_AT, within=READY_WITHIN, alive=launcher.started)
    assert frozen.killed.wait(STOP_WITHIN) and frozen.serve is not None
    stopped_at = time.monotonic()
    [survivor] = [s for s in launcher.started if s is not frozen.serve]
    try:
        with Store(database_url) as store:
            wait_until(
                all_delivered(slack, store),
                within=DONE_WITHIN,
                what=f"the survivor to finish all {len(CHANNELS)} channels while the other is frozen",
                alive=[survivor],
            )
            posts_while_frozen = len(slack.posts())
            # Frozen past its lease and the settle delay, whatever the survivor took.
            wait_until(lambda: time.monotonic() - stopped_at >= FREEZE_FOR, within=FREEZE_FOR + 1, what="the freeze")
    finally:
        os.kill(frozen.serve.process.pid, signal.SIGCONT)
    woken = frozen.serve
    # It wakes with answers to read and claims to post: every one of them is refused by the fence or
    # recorded as the post the survivor found, never sent again.
    wait_until(woken.healthy, within=READY_WITHIN, what="the continued instance answering", alive=[woken])
    wait_until(
        lambda: any(
            marker in woken.log_text()
            for marker in ("no longer ours", "too long since the fence", "already recorded", "not recorded")
        ),
        within=DONE_WITHIN,
        what="the continued instance to meet its lost claims",
        alive=[woken],
    )
    with Store(database_url) as store:
        launcher.stop_all()
        assert len(slack.posts()) == posts_while_frozen, "the continued instance posted again"
        assert_each_channel_posted_once(slack, store)
    assert frozen.call is not None
    channel = frozen.call.args["channel"]
    assert any(
        c.token == survivor.token and c.args.get("channel") == channel for c in slack.calls_to("conversations.history")
    ), f"the survivor never looked in {channel} for the post the frozen one had sent"
