"""`admin reload`: validated as at start-up, and removals (a file cut short) held until confirmed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.release.loader import COMMITMENTS_FILE
from bot.release.models import Release
from bot.schedule.changes import Changes, diff, reminder_channels
from bot.schedule.models import CommitmentsFile, ScheduleFile, load_commitments
from bot.schedule.owners import OwnersFile
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from tests.helpers import RELEASE_IN_DATA

ADMIN = "U0ADMIN01"
RELEASE_ID = "meti-2025-12-10-g7-idt"

SCHEDULE = """
timezone: Asia/Tokyo
digests:
  - id: tokyo-weekly
    channel: C0TOKYO001
    cron: "0 9 * * MON"
  - id: paris-weekly
    channel: C0PARIS001
    cron: "0 9 * * MON"
    timezone: Europe/Paris
    lang: en
reminders:
  channel: C0TOKYO001
"""


# --- the diff, a pure function ----------------------------------------------------------------------


def _schedule(*digests: tuple[str, str], reminders: str | None = "C0TOKYO001") -> ScheduleFile:
    return ScheduleFile.model_validate(
        {
            "digests": [{"id": i, "channel": c, "cron": "0 9 * * MON"} for i, c in digests],
            "reminders": {"channel": reminders} if reminders else None,
        }
    )


@pytest.fixture(scope="module")
def commitments(release: Release) -> CommitmentsFile:
    return load_commitments(COMMITMENTS_FILE, release=release)


def _without(commitments: CommitmentsFile, *ids: str) -> CommitmentsFile:
    return CommitmentsFile(commitments=[c for c in commitments.commitments if c.id not in ids])


def test_no_change_is_an_empty_diff(commitments: CommitmentsFile) -> None:
    schedule = _schedule(("a", "C0TOKYO001"))
    found = diff(old_schedule=schedule, old_commitments=commitments, new_schedule=schedule, new_commitments=commitments)
    assert found == Changes()
    assert not found
    assert not found.removes


def test_added_removed_and_changed_are_told_apart(commitments: CommitmentsFile) -> None:
    old = _schedule(("a", "C0TOKYO001"), ("b", "C0TOKYO001"))
    new = _schedule(("a", "C0PARIS001"), ("c", "C0TOKYO001"))
    first = commitments.commitments[0].id
    found = diff(
        old_schedule=old,
        old_commitments=commitments,
        new_schedule=new,
        new_commitments=_without(commitments, first),
    )
    assert found.added == (("digest", "c"),)
    assert found.changed == (("digest", "a"),)
    # The first shipped commitment posts its reminders to its own channel: dropping it drops that channel.
    assert found.removed == (
        ("digest", "b"),
        ("reminder-channel", "C0123456790"),
        ("commitment", first),
    )
    assert found.removes


def test_additions_alone_do_not_remove(commitments: CommitmentsFile) -> None:
    old = _schedule(("a", "C0TOKYO001"), reminders=None)
    new = _schedule(("a", "C0TOKYO001"), ("b", "C0PARIS001"))
    found = diff(
        old_schedule=old,
        old_commitments=_without(commitments, "quantum-wg"),
        new_schedule=new,
        new_commitments=commitments,
    )
    assert found.added == (("digest", "b"), ("reminder-channel", "C0TOKYO001"), ("commitment", "quantum-wg"))
    assert found.removed == ()
    assert not found.removes


def test_reminder_channels_are_the_schedules_and_the_commitments_own(commitments: CommitmentsFile) -> None:
    assert reminder_channels(_schedule(reminders="C0TOKYO001"), commitments) == {"C0TOKYO001", "C0123456790"}
    assert reminder_channels(_schedule(reminders=None), CommitmentsFile()) == set()


# --- through the admin command ----------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    (folder / "schedule.yml").write_text(SCHEDULE, encoding="utf-8")
    return folder


@pytest.fixture
def started(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Started]:
    monkeypatch.chdir(tmp_path)  # the console's delivery log goes to ./var: keep it out of the checkout
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_ADMIN_USERS", ADMIN)
    started = start(load_settings(), local=True)
    yield started
    started.service.store.close()


def reload(started: Started, text: str = "admin reload en") -> str:
    message: dict[str, Any] = asyncio.run(started.ask(text, user_id=ADMIN))
    return str(message["text"])


def digest_ids(started: Started) -> list[str]:
    return [d.id for d in started.service.schedule().digests]


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        pytest.param(SCHEDULE.replace('"0 9 * * MON"', '"61 9 * * MON"', 1).encode(), "digests.0.cron", id="bad-cron"),
        pytest.param(SCHEDULE.replace('"0 9 * * MON"', '"0 9 30 2 *"', 1).encode(), "digests.0.cron", id="never-fires"),
        pytest.param(b"", "(file)", id="empty-file"),
        pytest.param(b"# digests moved elsewhere\n", "(file)", id="only-comments"),
        pytest.param(SCHEDULE.replace("  - id: paris", "\t- id: paris").encode(), "line 7, column 1", id="tab"),
        pytest.param(SCHEDULE.encode().replace(b"Paris", b"Par\xefs"), "line 10", id="not-utf8"),
        pytest.param(SCHEDULE.replace("lang: en", "lang: fr").encode(), "digests.1.lang", id="bad-lang"),
    ],
)
def test_a_reload_that_start_up_would_refuse_is_refused(
    started: Started, data_dir: Path, broken: bytes, field: str
) -> None:
    path = data_dir / "schedule.yml"
    path.write_bytes(broken)
    text = reload(started)
    assert "keeps serving the previous" in text
    assert f"{path}: {field}" in text
    assert digest_ids(started) == ["tokyo-weekly", "paris-weekly"]


def test_a_schedule_cut_at_a_line_boundary_is_held_until_confirmed(started: Started, data_dir: Path) -> None:
    path = data_dir / "schedule.yml"
    # Still valid YAML: the Paris digest and the reminders are simply gone.
    path.write_text(SCHEDULE[: SCHEDULE.index("  - id: paris-weekly")], encoding="utf-8")
    text = reload(started)
    assert "Nothing applied" in text
    assert "admin reload confirm" in text
    assert "digest `paris-weekly`" in text
    assert "reminder channel <#C0TOKYO001>" in text
    assert digest_ids(started) == ["tokyo-weekly", "paris-weekly"]
    assert started.service.schedule().reminder_channel == "C0TOKYO001"

    text = reload(started, "admin reload confirm en")
    assert "reloaded" in text
    assert "Removed" in text
    assert digest_ids(started) == ["tokyo-weekly"]
    assert started.service.schedule().reminder_channel is None


def test_commitments_removed_are_held_too(started: Started, data_dir: Path) -> None:
    path = data_dir / RELEASE_IN_DATA / "commitments.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("  - id: quantum-wg")], encoding="utf-8")
    before = len(started.service.commitments().commitments)
    reply = reload(started)
    assert "Nothing applied" in reply
    assert "commitment `quantum-wg`" in reply
    assert len(started.service.commitments().commitments) == before
    assert len(started.service.commitments().commitments) > 1


def test_additions_alone_apply_at_once(started: Started, data_dir: Path) -> None:
    path = data_dir / "schedule.yml"
    path.write_text(
        SCHEDULE.replace("reminders:", '  - id: ottawa\n    channel: C0OTTAWA01\n    cron: "0 9 * * FRI"\nreminders:'),
        encoding="utf-8",
    )
    text = reload(started)
    assert "Data and schedule reloaded." in text
    assert "digest `ottawa`" in text
    assert digest_ids(started) == ["tokyo-weekly", "paris-weekly", "ottawa"]


def test_an_unchanged_reload_says_so(started: Started) -> None:
    assert "nothing changed" in reload(started)


def test_the_service_reports_what_it_held(started: Started, data_dir: Path) -> None:
    (data_dir / "schedule.yml").write_text(SCHEDULE.replace("tokyo-weekly", "tokyo-monday"), encoding="utf-8")
    result = started.service.reload()
    assert result.needs_confirmation
    assert not result.applied
    assert result.changes.added == (("digest", "tokyo-monday"),)
    assert result.changes.removed == (("digest", "tokyo-weekly"),)
    confirmed = started.service.reload(confirm=True)
    assert confirmed.applied
    assert not confirmed.needs_confirmation
    assert digest_ids(started) == ["tokyo-monday", "paris-weekly"]


@pytest.mark.parametrize("text", ["admin reload confirm", "管理 再読込 確認", "admin reload CONFIRM en"])
def test_confirm_in_either_language(started: Started, data_dir: Path, text: str) -> None:
    (data_dir / "schedule.yml").write_text(SCHEDULE[: SCHEDULE.index("  - id: paris-weekly")], encoding="utf-8")
    reload(started, text)
    assert digest_ids(started) == ["tokyo-weekly"]


def test_the_held_reply_in_japanese(started: Started, data_dir: Path) -> None:
    (data_dir / "schedule.yml").write_text(SCHEDULE[: SCHEDULE.index("  - id: paris-weekly")], encoding="utf-8")
    text = reload(started, "admin reload ja")
    assert "何も適用していません" in text
    assert "ダイジェスト `paris-weekly`" in text
    assert "/g7 admin reload confirm" in text


# --- data/owners.yml: desks whose owners were added, removed or changed ------------------------------------


def _owners(*entries: dict[str, Any]) -> OwnersFile:
    return OwnersFile.model_validate({"owners": list(entries)})


TRADE = {"bureau": "通商政策局", "office": "国際経済部"}
DIGITAL = {"release": RELEASE_ID, "desk": "ai-digital"}
OFFICE = {"bureau": "商務情報政策局", "office": "国際室"}


def test_owners_are_compared_by_the_desk_each_entry_names(commitments: CommitmentsFile) -> None:
    schedule = _schedule(("a", "C0TOKYO001"))
    old = _owners({**TRADE, "users": ["U0AAA0001"]}, {**DIGITAL, "users": ["U0AAA0002"]}, {**OFFICE, "users": ["U0X"]})
    new = _owners(
        {**TRADE, "users": ["U0AAA0001", "U0AAA0003"]},  # one more person
        {**OFFICE, "users": ["U0X"], "notify": "dm"},  # the same people, reached otherwise
        {"release": RELEASE_ID, "desk": "general", "usergroups": ["S0GRP0001"]},
    )
    found = diff(
        old_schedule=schedule,
        old_commitments=commitments,
        new_schedule=schedule,
        new_commitments=commitments,
        old_owners=old,
        new_owners=new,
    )
    assert found.added == (("owners", f"{RELEASE_ID}/general"),)
    assert found.removed == (("owners", f"{RELEASE_ID}/ai-digital"),)
    assert found.changed == (("owners", "商務情報政策局 国際室"), ("owners", "通商政策局 国際経済部"))
    assert found.removes, "owners dropped (an owners.yml cut short) are held like any removal"
    same = diff(
        old_schedule=schedule,
        old_commitments=commitments,
        new_schedule=schedule,
        new_commitments=commitments,
        old_owners=old,
        new_owners=OwnersFile(owners=tuple(reversed(old.owners))),  # the same entries in another order
    )
    assert not same


def test_admin_reload_lists_the_desks_whose_owners_changed(started: Started, data_dir: Path) -> None:
    path = data_dir / "owners.yml"
    shipped = path.read_text(encoding="utf-8")
    path.write_text(shipped.replace("[U0123456791]", "[U0123456791, U0123456792]"), encoding="utf-8")
    text = reload(started)
    assert "Data and schedule reloaded." in text
    assert f"Changed*\n• desk owners (data/owners.yml) `{RELEASE_ID}/ai-digital`" in text
    digital = next(e for e in started.runtime.library.current.owners.owners if e.desk == "ai-digital")
    assert digital.users == ("U0123456791", "U0123456792")

    # The trade desk's entry dropped: held until confirmed, as a file cut short would be.
    start, end = shipped.index("  - bureau: 通商政策局"), shipped.index(f"  - release: {RELEASE_ID}")
    path.write_text(shipped[:start] + shipped[end:], encoding="utf-8")
    held = reload(started, "admin reload ja")
    assert "何も適用していません" in held and "窓口の担当者(data/owners.yml) `通商政策局 国際経済部`" in held
    assert len(started.runtime.library.current.owners.owners) == 2
    assert "Removed" in reload(started, "admin reload confirm en")
    assert len(started.runtime.library.current.owners.owners) == 1
