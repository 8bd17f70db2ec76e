"""Answers that depend only on text, language and data are built once per library snapshot; a new one starts empty."""

from __future__ import annotations

import gc

import pytest

from bot.library.loader import load_library
from bot.listeners.commands import reply_message
from bot.settings import load_settings
from bot.startup import Started, start


@pytest.fixture
def started() -> Started:
    return start(load_settings(admin_users="UADMIN"), local=True)


def test_a_static_answer_is_built_once(started: Started, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = started.runtime
    first = reply_message(runtime, "bilateral france", lang="en", user_id="U1")
    assert len(runtime.replies) == 1
    monkeypatch.setattr("bot.listeners.commands.answer", lambda *a, **k: pytest.fail("rebuilt"))
    assert reply_message(runtime, "bilateral france", lang="en", user_id="U1") is first


@pytest.mark.parametrize("text", ["followups", "admin schedule"], ids=["followups", "admin"])
def test_time_dependent_answers_are_never_cached(started: Started, text: str) -> None:
    reply_message(started.runtime, text, lang="en", user_id="UADMIN")
    assert len(started.runtime.replies) == 0


def test_language_and_admin_are_part_of_the_key(started: Started) -> None:
    runtime = started.runtime
    ja = reply_message(runtime, "summary", lang="ja", user_id="U1")
    en = reply_message(runtime, "summary", lang="en", user_id="U1")
    assert ja["text"] != en["text"]
    admin_help = reply_message(runtime, "help en", lang="en", user_id="UADMIN")
    user_help = reply_message(runtime, "help en", lang="en", user_id="U1")
    assert "admin schedule" in admin_help["text"]
    assert "admin schedule" not in user_help["text"]


def test_a_new_snapshot_has_its_own_answers_and_the_old_ones_go_with_it(started: Started) -> None:
    runtime = started.runtime
    old = reply_message(runtime, "docs", lang="en", user_id="U1")
    assert len(runtime.replies) == 1
    runtime.library.swap(load_library(runtime.settings))
    new = reply_message(runtime, "docs", lang="en", user_id="U1")
    assert new is not old, "the new snapshot's answer is built from the new data"
    del old
    gc.collect()
    assert len(runtime.replies) == 1, "nothing cleared by hand: the old snapshot's entries died with it"
