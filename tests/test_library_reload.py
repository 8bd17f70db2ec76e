"""`/g7 admin reload` swaps the whole library: a new release answers at once, a broken one changes nothing, and a
request that began before the swap finishes on the snapshot it started with."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.library import Library
from bot.listeners.commands import reply_message
from bot.reply import Reply, Section
from bot.settings import load_settings
from bot.startup import Started, start
from tests.helpers import copy_data_dir, write_release

ADMIN = "U0ADMIN01"
NEW_ID = "meti-2026-02-20-g7-digital"
NEW_TITLE = ("G7デジタル大臣会合(パリ)に出席しました", "Attended the G7 Digital Ministers' Meeting in Paris")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return copy_data_dir(tmp_path / "data")


@pytest.fixture
def started(data_dir: Path) -> Iterator[Started]:
    started = start(load_settings(data_dir=data_dir, admin_users=ADMIN), local=True)
    yield started
    started.service.store.close()


def ask(started: Started, text: str, *, user: str = ADMIN) -> str:
    message: dict[str, Any] = asyncio.run(started.ask(text, user_id=user))
    return str(message["text"])


def test_a_release_folder_added_is_answerable_after_reload(started: Started, data_dir: Path) -> None:
    before = started.runtime.library.current
    write_release(
        data_dir / "releases" / NEW_ID, NEW_ID, published="2026-02-20", title=NEW_TITLE, commitment_prefix="paris-"
    )
    assert NEW_TITLE[1] not in ask(started, f"summary @{NEW_ID} en"), "nothing changes before a reload"

    assert "reloaded" in ask(started, "admin reload en")
    after = started.runtime.library.current
    assert after is not before
    assert [e.id for e in after] == [NEW_ID, "meti-2025-12-10-g7-idt"]
    assert NEW_TITLE[1] in ask(started, f"summary @{NEW_ID} en")
    assert NEW_TITLE[1] in ask(started, "summary en"), "the newest release is the default"
    # Its follow-ups joined the schedule's: the reload diff spans every release's commitments.
    assert "paris-fr-presidency" in {c.id for c in started.service.commitments().commitments}


def test_a_broken_release_keeps_the_old_snapshot_and_names_file_and_field(started: Started, data_dir: Path) -> None:
    before = started.runtime.library.current
    folder = write_release(data_dir / "releases" / NEW_ID, NEW_ID, commitment_prefix=None)
    path = folder / "release.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("  code: FR\n", "  code: [FR]\n", 1), encoding="utf-8")
    broken = path.read_text(encoding="utf-8")
    assert "code: [FR]" in broken

    reply = ask(started, "admin reload en")
    assert "reloaded" not in reply
    assert f"{path}: bilaterals.7.code" in reply
    assert started.runtime.library.current is before
    assert len(started.runtime.library.current) == 1
    assert "Le Hénanff" in ask(started, "bilateral france en"), "the old data keeps serving"


def test_a_request_begun_before_the_swap_finishes_on_its_snapshot(
    started: Started, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_release(data_dir / "releases" / NEW_ID, NEW_ID, published="2026-02-20", commitment_prefix=None)
    before = started.runtime.library.current
    seen: list[Library] = []

    def answer_during_a_reload(text: str, *, library: Library, **_: object) -> Reply:
        # The reload lands while this request is being answered.
        assert started.service.reload().applied
        seen.append(library)
        seen.append(started.runtime.library.current)
        return Reply(title="g7bot", sections=[Section(text=f"{len(library)} release(s)")])

    monkeypatch.setattr("bot.listeners.commands.answer", answer_during_a_reload)
    message = reply_message(started.runtime, "summary", lang="en", user_id="U1")
    answered_on, current = seen
    assert answered_on is before, "the request keeps the snapshot it read at its start"
    assert current is not before and len(current) == 2
    assert "1 release(s)" in str(message["text"])
    assert started.runtime.library.current is current
