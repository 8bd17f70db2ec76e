"""data/owners.yml: loading and its errors (file and field), owners_of / desks_of, mentions in reminders,
digests and /g7 followups, `g7bot check`, and reload swapping the owners with the library."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.check import run_check
from bot.errors import ConfigError
from bot.library import Library
from bot.library.loader import load_library
from bot.messages import msg
from bot.release.models import Lang, Release
from bot.schedule.content import build_digest_reply, build_followups_reply, build_reminder_reply
from bot.schedule.due import digest_items, occurrences
from bot.schedule.models import Commitment
from bot.schedule.occurrence import Occurrence
from bot.schedule.owners import EMPTY, OwnersFile, check_owners, load_owners
from bot.settings import ROOT, load_settings
from bot.startup import start
from tests.helpers import copy_data_dir, write_release
from tests.schedule.test_due_calendar import CHANNEL, commitment, schedule, tokyo

LANGS: tuple[Lang, ...] = ("ja", "en")
RELEASE_ID = "meti-2025-12-10-g7-idt"
OTHER_ID = "meti-2026-02-20-g7-digital"
TOKYO = "Asia/Tokyo"
ZONE = ZoneInfo(TOKYO)
NOW = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)

OWNERS = f"""
owners:
  - bureau: 通商政策局
    office: 国際経済部
    users: [U0AAA0001, U0AAA0002]
    usergroups: [S0GRP0001]
  - release: {RELEASE_ID}
    desk: ai-digital
    users: [W0BBB0001]
    notify: dm
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "owners.yml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(exc: ConfigError) -> dict[str, str]:
    return dict(exc.problems)


def two_releases(tmp_path: Path) -> Library:
    data = copy_data_dir(tmp_path / "data")
    write_release(data / "releases" / OTHER_ID, OTHER_ID, published="2026-02-20", commitment_prefix="paris-")
    (data / "owners.yml").write_text(OWNERS, encoding="utf-8")
    return load_library(load_settings(data_dir=data))


# --- loading ----------------------------------------------------------------------------------------


def test_the_shipped_owners_file_loads_and_names_desks_of_the_library() -> None:
    settings = load_settings()
    assert settings.owners_path == ROOT / "data" / "owners.yml"
    library = load_library(settings)
    assert library.owners.owners  # the shipped file: placeholders, checked against the shipped release
    check_owners(library.owners, settings.owners_path, library)


def test_a_missing_file_is_no_owners(tmp_path: Path) -> None:
    assert load_owners(tmp_path / "owners.yml") == EMPTY
    data = copy_data_dir(tmp_path / "data")
    (data / "owners.yml").unlink()
    assert load_library(load_settings(data_dir=data)).owners == EMPTY


def test_g7bot_owners_points_to_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = write(tmp_path, OWNERS)
    monkeypatch.setenv("G7BOT_OWNERS", str(other))
    settings = load_settings()
    assert settings.owners_path == other
    assert load_library(settings).owners.owners[1].users == ("W0BBB0001",)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        pytest.param(
            "owners:\n  - {bureau: 通商政策局, office: 国際経済部, users: [tanaka]}\n",
            "owners.0.users.0",
            "expected a Slack user id",
            id="user-name-not-id",
        ),
        pytest.param(
            "owners:\n  - {bureau: 通商政策局, office: 国際経済部, usergroups: [U0AAA0001]}\n",
            "owners.0.usergroups.0",
            "expected a Slack user group id",
            id="user-as-group",
        ),
        pytest.param(
            "owners:\n  - {bureau: 通商政策局, office: 国際経済部}\n",
            "owners.0",
            "expected users, usergroups or both",
            id="nobody",
        ),
        pytest.param(
            "owners:\n  - {bureau: 通商政策局, users: [U0AAA0001]}\n",
            "owners.0",
            "expected both bureau and office",
            id="bureau-without-office",
        ),
        pytest.param(
            "owners:\n  - {release: x, users: [U0AAA0001]}\n",
            "owners.0",
            "expected both release",
            id="release-without-desk",
        ),
        pytest.param(
            "owners:\n  - {bureau: a, office: b, release: x, desk: y, users: [U0AAA0001]}\n",
            "owners.0",
            "not both",
            id="both-keys",
        ),
        pytest.param(
            "owners:\n  - {users: [U0AAA0001]}\n",
            "owners.0",
            "expected the desk",
            id="no-desk",
        ),
        pytest.param(
            "owners:\n  - {bureau: 通商政策局, office: 国際経済部, users: [U0AAA0001], notify: email}\n",
            "owners.0.notify",
            "'channel' or 'dm'",
            id="notify",
        ),
        pytest.param(
            "owners:\n  - {bureau: 通商政策局, office: 国際経済部, user: [U0AAA0001]}\n",
            "owners.0.user",
            "did you mean users?",
            id="typo",
        ),
        pytest.param(
            "owners:\n  - {bureau: a, office: b, users: [U0AAA0001]}\n  - {bureau: a, office: b, users: [U0AAA0002]}\n",
            "owners",
            "one entry per desk",
            id="twice",
        ),
    ],
)
def test_a_bad_entry_names_the_file_and_the_field(tmp_path: Path, text: str, field: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_owners(path)
    assert caught.value.file == str(path)
    assert field in problems(caught.value), caught.value.describe()
    assert reason in problems(caught.value)[field]
    assert f"{path}: {field}: " in caught.value.describe()


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        pytest.param(
            "{release: meti-1999-01-01-x, desk: general}", "owners.0.release", "unknown release", id="release"
        ),
        pytest.param(f"{{release: {RELEASE_ID}, desk: trade}}", "owners.0.desk", "unknown desk 'trade'", id="desk"),
        pytest.param(
            "{bureau: 製造産業局, office: 国際経済部}", "owners.0.bureau", "no desk of the library", id="bureau"
        ),
        pytest.param("{bureau: 通商政策局, office: 国際室}", "owners.0.office", "no desk of 通商政策局", id="office"),
    ],
)
def test_an_entry_matching_no_desk_is_an_error_at_start_and_in_check(
    tmp_path: Path, entry: str, field: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = copy_data_dir(tmp_path / "data")
    path = data / "owners.yml"
    path.write_text(f"owners:\n  - {entry[:-1]}, users: [U0AAA0001]}}\n", encoding="utf-8")
    settings = load_settings(data_dir=data)
    with pytest.raises(ConfigError) as caught:
        load_library(settings)
    assert caught.value.file == str(path) and reason in problems(caught.value)[field]
    with pytest.raises(ConfigError):
        start(settings, local=True)
    assert run_check(settings) != 0
    err = capsys.readouterr().err
    assert f"{path}: {field}: {reason}" in err


def test_check_warns_of_the_placeholder_ids(capsys: pytest.CaptureFixture[str]) -> None:
    run_check(load_settings())
    err = capsys.readouterr().err
    assert "owners.yml: owners.0.users.0: warning: U0123456789 is a placeholder" in err


def test_serve_warns_of_the_placeholder_ids_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        started = start(load_settings(database_url=f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"))
    started.service.store.close()
    assert any(
        "owners.yml: owners.1.users.0: warning: U0123456791 is a placeholder" in r.getMessage() for r in caplog.records
    )


# --- owners_of and desks_of -----------------------------------------------------------------------


def test_a_bureau_and_office_entry_applies_in_every_release_and_a_release_entry_wins(tmp_path: Path) -> None:
    library = two_releases(tmp_path)
    owners = library.owners
    for release_id in (RELEASE_ID, OTHER_ID):
        general = library.get(release_id).release.desk("general")  # type: ignore[union-attr]
        found = owners.owners_of(release_id, general)
        assert found is not None and found.users == ("U0AAA0001", "U0AAA0002") and found.notify == "channel"
    ai = library.get(RELEASE_ID).release.desk("ai-digital")  # type: ignore[union-attr]
    assert owners.owners_of(RELEASE_ID, ai) == owners.owners[1].owners()
    # The release + desk entry names one release only.
    assert owners.owners_of(OTHER_ID, ai) is None
    assert owners.owners_of_desk(library.get(RELEASE_ID).release, "ai-digital").notify == "dm"  # type: ignore[union-attr]
    assert owners.owners_of_desk(library.get(RELEASE_ID).release, "no-such-desk") is None  # type: ignore[union-attr]


def test_the_more_specific_entry_replaces_the_bureau_one(release: Release) -> None:
    general = release.desk("general")
    file = OwnersFile.model_validate(
        {
            "owners": [
                {"bureau": general.bureau.ja, "office": general.office.ja, "users": ["U0AAA0001"]},
                {"release": release.id, "desk": "general", "usergroups": ["S0GRP0009"], "notify": "dm"},
            ]
        }
    )
    found = file.owners_of(release.id, general)
    assert found is not None and found.users == () and found.usergroups == ("S0GRP0009",) and found.notify == "dm"


def test_desks_of_a_user_directly_and_through_a_user_group(tmp_path: Path) -> None:
    library = two_releases(tmp_path)
    owners = library.owners
    assert owners.desks_of("U0AAA0002", library) == {(RELEASE_ID, "general"), (OTHER_ID, "general")}
    assert owners.desks_of("W0BBB0001", library) == {(RELEASE_ID, "ai-digital")}
    assert owners.desks_of("U0ZZZ0001", library) == set()
    assert owners.desks_of("U0ZZZ0001", library, ["S0GRP0001"]) == {(RELEASE_ID, "general"), (OTHER_ID, "general")}
    assert owners.desks_of("U0ZZZ0001", library, ["S0OTHER01"]) == set()


def test_recipients_are_the_users_then_the_groups_members_each_once() -> None:
    file = OwnersFile.model_validate(
        {"owners": [{"bureau": "b", "office": "o", "users": ["U1AA", "U2BB"], "usergroups": ["S1AA", "S2BB"]}]}
    )
    owners = file.owners[0].owners()
    members = {"S1AA": ("U2BB", "U3CC"), "S2BB": ("U3CC", "U4DD")}
    assert owners.recipients(members) == ("U1AA", "U2BB", "U3CC", "U4DD")
    assert owners.recipients({}) == ("U1AA", "U2BB")  # groups never read add nobody
    assert owners.mentions() == ["<@U1AA>", "<@U2BB>", "<!subteam^S1AA>", "<!subteam^S2BB>"]


# --- shown as the desk and its people -------------------------------------------------------------


def _commitment(release: Release, **changes: Any) -> Commitment:
    c = next(c for c in load_library(load_settings()).commitments if c.owner_desk == "general")
    return c.model_copy(update={"due_is_assumption": False, "due": dt.date(2026, 12, 4), **changes})


@pytest.mark.parametrize("lang", LANGS)
def test_a_reminder_mentions_its_owners_and_shows_the_desk_not_its_topic(lang: Lang, release: Release) -> None:
    c = _commitment(release)
    owners = OwnersFile.model_validate(
        {
            "owners": [
                {"bureau": "通商政策局", "office": "国際経済部", "users": ["U0AAA0001"], "usergroups": ["S0GRP0001"]}
            ]
        }
    )
    found = owners.owners_of_desk(release, "general")
    occ = Occurrence(
        kind="reminder", key=f"reminder:{c.id}:d7", channel="C0TOKYO001", at=NOW, timezone=TOKYO, commitment_id=c.id
    )
    reply = build_reminder_reply(c, occ, lang=lang, release=release, state=None, owners=found)
    lead = reply.sections[0].text
    assert lead.startswith("<@U0AAA0001> <!subteam^S0GRP0001> ")
    owner_field = next(f for f in reply.sections[1].fields if msg("reminder.owner", lang) in f)
    desk = release.desk("general")
    assert desk.unit(lang) in owner_field and "<@U0AAA0001> <!subteam^S0GRP0001>" in owner_field
    assert desk.topic(lang) not in owner_field
    # Without owners: no mention at all, the desk still shown.
    plain = build_reminder_reply(c, occ, lang=lang, release=release, state=None)
    assert "<@" not in plain.sections[0].text and "<!subteam" not in str(plain.sections)


@pytest.mark.parametrize("lang", LANGS)
def test_digests_and_followups_show_the_desk_and_its_people(lang: Lang, release: Release) -> None:
    c = _commitment(release, due=dt.date(2026, 11, 20))  # overdue at NOW
    owners = OwnersFile.model_validate(
        {"owners": [{"bureau": "通商政策局", "office": "国際経済部", "users": ["U0AAA0001"]}]}
    )
    desk = release.desk("general")
    expected = msg("followups.owner_people", lang, desk=desk.unit(lang), people="<@U0AAA0001>")
    of = lambda commitment: owners.owners_of_desk(release, commitment.owner_desk)  # noqa: E731
    items = digest_items([c], {}, NOW, tz=ZONE, lookahead_days=14, recent_days=7)
    digest = build_digest_reply(items, lang=lang, now=NOW, tz=ZONE, release=release, owners=of)
    listing = build_followups_reply([c], {}, NOW, lang=lang, tz=ZONE, release=release, owners=of)
    for reply in (digest, listing):
        text = "\n".join(s.text for s in reply.sections)
        assert msg("followups.owner", lang, desk=expected) in text
        assert desk.topic(lang) not in text
    # Nobody named: the desk and the release's lead.
    bare = build_followups_reply([c], {}, NOW, lang=lang, tz=ZONE, release=release)
    lead = msg("followups.owner_people", lang, desk=desk.unit(lang), people=desk.lead(lang))
    assert lead in "\n".join(s.text for s in bare.sections)


def test_followups_command_mentions_the_owners_of_the_library(tmp_path: Path) -> None:
    data = copy_data_dir(tmp_path / "data")
    (data / "owners.yml").write_text(OWNERS, encoding="utf-8")
    started = start(load_settings(data_dir=data), local=True)
    try:
        message: dict[str, Any] = asyncio.run(started.ask("followups en", user_id="U0ASKER01"))
    finally:
        started.service.store.close()
    shown = str(message["blocks"])
    assert "<@U0AAA0001> <@U0AAA0002> <!subteam^S0GRP0001>" in shown and "<@W0BBB0001>" in shown


# --- reload --------------------------------------------------------------------------------------


def test_reload_swaps_the_owners_and_a_bad_file_keeps_the_old_ones(tmp_path: Path) -> None:
    data = copy_data_dir(tmp_path / "data")
    path = data / "owners.yml"
    path.write_text(OWNERS, encoding="utf-8")
    started = start(load_settings(data_dir=data, admin_users="U0ADMIN01"), local=True)
    try:
        before = started.runtime.library.current.owners
        path.write_text(OWNERS.replace("W0BBB0001", "W0CCC0001"), encoding="utf-8")
        assert started.service.reload().applied
        after = started.runtime.library.current.owners
        assert after.owners[1].users == ("W0CCC0001",) and after is not before
        path.write_text(OWNERS.replace("desk: ai-digital", "desk: no-such-desk"), encoding="utf-8")
        result = started.service.reload()
        assert not result.applied
        assert any(f"{path}: owners.1.desk: unknown desk 'no-such-desk'" in p for p in result.problems)
        assert started.runtime.library.current.owners is after
    finally:
        started.service.store.close()


# --- what is due, given the owners (pure) ----------------------------------------------------------


def test_a_dm_desk_s_reminders_are_one_occurrence_per_owner_at_the_channel_s_instant() -> None:
    c = commitment(due="2026-12-11", reminders=[1, 0])
    s = schedule(reminders={"channel": CHANNEL, "lang": "en", "overdue_every_business_day_limit": 1})
    window = (tokyo(2026, 12, 1), tokyo(2026, 12, 31))
    in_channel = occurrences(s, [c], {}, *window)
    by_dm = occurrences(s, [c], {}, *window, recipients=lambda _c: ("U0AAA0002", "U0AAA0001", "U0AAA0002"))
    assert [(o.key, o.channel) for o in in_channel] == [
        ("reminder:fr-presidency:d1", CHANNEL),
        ("reminder:fr-presidency:d0", CHANNEL),
        ("reminder:fr-presidency:overdue:1", CHANNEL),
    ]
    # Each owner once (a user named twice is one DM), at the same instants, in the channel's zone and language.
    assert [(o.key, o.channel, o.at) for o in by_dm] == [
        (o.key, user, o.at) for o in in_channel for user in ("U0AAA0001", "U0AAA0002")
    ]
    assert {(o.timezone, o.lang) for o in by_dm} == {(o.timezone, o.lang) for o in in_channel}
    # Nobody to DM (None or empty): the channel.
    assert occurrences(s, [c], {}, *window, recipients=lambda _c: None) == in_channel
    assert occurrences(s, [c], {}, *window, recipients=lambda _c: ()) == in_channel


def test_check_says_when_there_is_no_owners_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = copy_data_dir(tmp_path / "data")
    (data / "owners.yml").unlink()
    assert run_check(load_settings(data_dir=data)) == 0
    out = capsys.readouterr().out
    assert f"--  {data / 'owners.yml'}: none (optional)" in out and f"ok  {data / 'owners.yml'}" not in out
