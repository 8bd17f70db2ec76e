"""Answers that depend only on text, language and data are built once; new data clears them."""

from __future__ import annotations

import pytest

from bot.listeners.commands import reply_message
from bot.release.loader import load_release
from bot.settings import load_settings
from bot.startup import Started, start


@pytest.fixture
def started() -> Started:
    return start(load_settings(), local=True)


def test_a_static_answer_is_built_once(started: Started, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = started.runtime
    first = reply_message(runtime, "bilateral france", lang="en", user_id="U1")
    assert len(runtime.replies) == 1
    monkeypatch.setattr("bot.listeners.commands.answer", lambda *a, **k: pytest.fail("rebuilt"))
    assert reply_message(runtime, "bilateral france", lang="en", user_id="U1") is first


@pytest.mark.parametrize("text", ["followups", "admin schedule"], ids=["followups", "admin"])
def test_time_dependent_answers_are_never_cached(started: Started, text: str) -> None:
    started.runtime.settings = started.runtime.settings.model_copy(update={"admin_users": frozenset({"U1"})})
    reply_message(started.runtime, text, lang="en", user_id="U1")
    assert len(started.runtime.replies) == 0


def test_language_and_admin_are_part_of_the_key(started: Started) -> None:
    runtime = started.runtime
    ja = reply_message(runtime, "summary", lang="ja", user_id="U1")
    en = reply_message(runtime, "summary", lang="en", user_id="U1")
    assert ja["text"] != en["text"]
    runtime.settings = runtime.settings.model_copy(update={"admin_users": frozenset({"UADMIN"})})
    admin_help = reply_message(runtime, "help en", lang="en", user_id="UADMIN")
    user_help = reply_message(runtime, "help en", lang="en", user_id="U1")
    assert "admin schedule" in admin_help["text"]
    assert "admin schedule" not in user_help["text"]


def test_new_data_clears_the_cache(started: Started) -> None:
    runtime = started.runtime
    reply_message(runtime, "docs", lang="en", user_id="U1")
    runtime.set_release(load_release())
    assert len(runtime.replies) == 0
