"""A release's commitments.yml and data/schedule.yml load; a bad file is a ConfigError naming the file and field."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.errors import ConfigError
from bot.release.loader import COMMITMENTS_FILE, DATA_DIR, RELEASE_DIR
from bot.release.models import Release
from bot.schedule.models import (
    CommitmentsFile,
    check_against_release,
    load_commitments,
    load_schedule,
    placeholder_channels,
)

SCHEDULE_FILE = DATA_DIR / "schedule.yml"
# The day the shipped commitments.yml was curated: its dates are a mix of past and future relative to it.
CURATED_ON = dt.date(2026, 11, 28)


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _norm(text: str) -> str:
    return " ".join(text.split())


# --- the shipped data files -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def commitments(release: Release) -> CommitmentsFile:
    return load_commitments(COMMITMENTS_FILE, release=release)


def test_schedule_file_loads_with_the_documented_shape() -> None:
    schedule = load_schedule(SCHEDULE_FILE)
    assert schedule.timezone == "Asia/Tokyo"
    tokyo, paris = schedule.digests
    assert (tokyo.cron, tokyo.lang, schedule.digest_timezone(tokyo).key) == (
        "0 9 * * MON",
        "ja",
        "Asia/Tokyo",
    )
    assert (paris.cron, paris.lang, schedule.digest_timezone(paris).key) == (
        "0 9 * * MON",
        "en",
        "Europe/Paris",
    )
    assert schedule.reminders is not None
    assert schedule.reminder_timezone() == ZoneInfo("Asia/Tokyo")
    assert schedule.grace_minutes is None


def test_commitments_file_loads_and_matches_the_release(commitments: CommitmentsFile, release: Release) -> None:
    assert check_against_release(commitments, release) == []
    assert len(commitments.commitments) >= 12


@pytest.mark.parametrize(
    ("commitment_id", "kind", "ref", "desk"),
    [
        pytest.param("fr-presidency", "bilateral", "fr", "ai-digital", id="france-presidency"),
        pytest.param("quantum-wg", "outcome", "declaration", None, id="quantum-working-group"),
        pytest.param("sme-blueprint", "outcome", "sme-ai-blueprint", "ai-digital", id="sme-blueprint"),
        pytest.param("ca-steel", "bilateral", "ca-joly", "general", id="canada-steel"),
        pytest.param("us-minerals-ai", "bilateral", "us", None, id="us-minerals-ai"),
        pytest.param("de-rare-earths", "bilateral", "de", None, id="germany-rare-earths"),
        pytest.param("eu-quantum-semis", "bilateral", "eu", None, id="eu-quantum-semis"),
        pytest.param("uk-ai-policy", "bilateral", "uk", None, id="uk-ai"),
        pytest.param("ca-ai", "bilateral", "ca-solomon", None, id="canada-ai"),
        pytest.param("oecd-ai-quantum", "bilateral", "oecd", None, id="oecd"),
        pytest.param("semis-poc", "outcome", "declaration", None, id="semiconductor-poc"),
        pytest.param("iot-security", "outcome", "declaration", None, id="iot-security"),
    ],
)
def test_the_release_follow_ups_are_curated(
    commitments: CommitmentsFile, commitment_id: str, kind: str, ref: str, desk: str | None
) -> None:
    c = commitments.get(commitment_id)
    assert c is not None
    assert (c.source.kind, c.source.ref) == (kind, ref)
    if desk is not None:
        assert c.owner_desk == desk


def test_every_due_date_is_a_documented_assumption(commitments: CommitmentsFile) -> None:
    """The release states no dates, so each one must say it is assumed and why."""
    for c in commitments.commitments:
        assert c.due_is_assumption, c.id
        assert c.assumption_note is not None, c.id


def test_header_tells_admins_the_dates_are_assumptions() -> None:
    header = COMMITMENTS_FILE.read_text(encoding="utf-8").split("commitments:", 1)[0]
    assert "NO DUE DATES" in header
    assert "assumption" in header


def test_japanese_detail_is_quoted_from_the_release(commitments: CommitmentsFile, release: Release) -> None:
    original = _norm((RELEASE_DIR / release.source_file).read_text(encoding="utf-8"))
    for c in commitments.commitments:
        assert _norm(c.detail.ja) in original, c.id


def test_all_open_with_dates_overdue_and_upcoming(commitments: CommitmentsFile) -> None:
    """The release reports nothing as done, so all start open; dates mix past due and upcoming."""
    assert all(c.status == "open" for c in commitments.commitments)
    assert any(c.due < CURATED_ON for c in commitments.commitments)
    assert any(c.due >= CURATED_ON for c in commitments.commitments)
    assert all(c.due.year in {2026, 2027} for c in commitments.commitments)


# --- bad schedule files ---------------------------------------------------------------------------

SCHEDULE: dict[str, Any] = {
    "timezone": "Asia/Tokyo",
    "digests": [{"id": "tokyo", "channel": "C0123456789", "cron": "0 9 * * MON", "lang": "ja"}],
    "reminders": {"channel": "C0123456789"},
}


def _schedule(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(SCHEDULE)
    change(data)
    return data


def _digest(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["digests"][0].update(values)


BAD_SCHEDULES: list[Any] = [
    pytest.param(
        _digest(cron="0 9 * *"),
        "digests.0.cron",
        'expected a 5-field crontab such as "0 9 * * MON"',
        id="cron-four-fields",
    ),
    pytest.param(
        _digest(cron="61 9 * * MON"),
        "digests.0.cron",
        'expected a 5-field crontab such as "0 9 * * MON"',
        id="cron-minute-out-of-range",
    ),
    pytest.param(_digest(cron="0 9 * * 1"), "digests.0.cron", "day names such as MON", id="cron-numeric-weekday"),
    pytest.param(_digest(cron="0 9 30 2 *"), "digests.0.cron", "never comes", id="cron-30-february"),
    pytest.param(_digest(cron="0 9 31 4 *"), "digests.0.cron", "never comes", id="cron-31-april"),
    pytest.param(_digest(cron="0 9 1 * MON"), "digests.0.cron", "not both", id="cron-day-of-month-and-week"),
    pytest.param(lambda d: d.update(timezone="Tokyo"), "timezone", "expected an IANA time zone", id="unknown-tz"),
    pytest.param(
        _digest(timezone="Europe/Atlantis"),
        "digests.0.timezone",
        "expected an IANA time zone",
        id="unknown-digest-tz",
    ),
    pytest.param(
        lambda d: d["reminders"].update(timezone="../etc/passwd"),
        "reminders.timezone",
        "expected an IANA time zone",
        id="path-as-tz",
    ),
    pytest.param(
        _digest(channel="#g7-followups"),
        "digests.0.channel",
        "expected a Slack channel id",
        id="channel-name-not-id",
    ),
    pytest.param(
        _digest(channel="c0123456789"),
        "digests.0.channel",
        "expected a Slack channel id",
        id="channel-lower-case",
    ),
    pytest.param(
        lambda d: d["reminders"].pop("channel"),
        "reminders.channel",
        "Field required",
        id="missing-reminders-channel",
    ),
    pytest.param(
        lambda d: d.update(digest=[]),
        "digest",
        "unknown key (did you mean digests?): expected one of timezone, digests, reminders, grace_minutes",
        id="unknown-key",
    ),
    pytest.param(
        _digest(when="mondays"),
        "digests.0.when",
        "unknown key: expected one of id, channel, cron, timezone, lang,",
        id="unknown-digest-key",
    ),
    pytest.param(_digest(lang="fr"), "digests.0.lang", "'ja' or 'en'", id="unknown-lang"),
    pytest.param(
        _digest(lookahead_days=-1),
        "digests.0.lookahead_days",
        "greater than or equal",
        id="negative-lookahead",
    ),
    pytest.param(
        lambda d: d["digests"].append(copy.deepcopy(d["digests"][0])),
        "digests",
        "expected unique digest ids",
        id="duplicate-digest-ids",
    ),
    pytest.param(lambda d: d.update(grace_minutes=-5), "grace_minutes", "greater than or equal", id="negative-grace"),
    pytest.param(lambda d: d.update(grace_minutes=float("inf")), "grace_minutes", "less than", id="infinite-grace"),
    pytest.param(
        lambda d: d.update(digests=[{**d["digests"][0], "id": f"d-{n}"} for n in range(101)]),
        "digests",
        "at most 100",
        id="too-many-digests",
    ),
]


@pytest.mark.parametrize(("change", "field", "expected"), BAD_SCHEDULES)
def test_bad_schedule_names_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str, expected: str
) -> None:
    path = _write(tmp_path / "schedule.yml", _schedule(change))
    with pytest.raises(ConfigError) as info:
        load_schedule(path)
    error = info.value
    assert error.file == str(path)
    assert [f for f, _ in error.problems] == [field]
    assert expected in error.problems[0][1]
    assert str(error).startswith(f"{path}: {field}: ")


def test_minimal_schedule_and_default_digest_ids(tmp_path: Path) -> None:
    data = _schedule(lambda d: d["digests"].append({"channel": "G0123456789", "cron": "30 8 * * MON-FRI"}))
    del data["digests"][0]["id"]
    schedule = load_schedule(_write(tmp_path / "schedule.yml", data))
    assert [d.id for d in schedule.digests] == ["digest-1", "digest-2"]
    assert schedule.digests[1].lookahead_days == 14
    assert schedule.digests[1].recent_days == 7
    assert schedule.digests[1].lang == "ja"


def test_an_empty_schedule_file_is_refused(tmp_path: Path) -> None:
    """A file saved blank or cut after its comments would silently stop every post."""
    path = tmp_path / "schedule.yml"
    path.write_text("# nothing scheduled yet\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_schedule(path)
    assert info.value.problems == [
        ("(file)", "the file is empty (only comments or blank lines): expected timezone, digests and reminders")
    ]


def test_an_empty_commitments_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "commitments.yml"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"commitments\.yml: \(file\): the file is empty"):
        load_commitments(path)


def test_nothing_scheduled_on_purpose_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text("digests: []\n", encoding="utf-8")
    schedule = load_schedule(path)
    assert schedule.digests == []
    assert schedule.reminders is None
    assert schedule.reminder_timezone() == ZoneInfo("Asia/Tokyo")


def test_time_zones_fall_back_to_the_file_time_zone(tmp_path: Path) -> None:
    data = _schedule(lambda d: d.update(timezone="Europe/Paris"))
    data["reminders"]["timezone"] = "America/Toronto"
    schedule = load_schedule(_write(tmp_path / "schedule.yml", data))
    assert schedule.digest_timezone(schedule.digests[0]) == ZoneInfo("Europe/Paris")
    assert schedule.reminder_timezone() == ZoneInfo("America/Toronto")


def test_cron_whitespace_is_normalised(tmp_path: Path) -> None:
    schedule = load_schedule(_write(tmp_path / "s.yml", _schedule(_digest(cron="  0  9 * *   MON "))))
    assert schedule.digests[0].cron == "0 9 * * MON"


def test_missing_schedule_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"schedule\.yml: \(file\): file not found"):
        load_schedule(tmp_path / "schedule.yml")


# --- bad commitments ------------------------------------------------------------------------------


def _text(ja: str, en: str) -> dict[str, str]:
    return {"ja": ja, "en": en}


COMMITMENT: dict[str, Any] = {
    "id": "fr-presidency",
    "title": _text("フランスとの連携", "Cooperation with France"),
    "detail": _text("議論を行いました。", "Discussed."),
    "source": {"kind": "bilateral", "ref": "fr"},
    "owner_desk": "ai-digital",
    "due": "2026-12-11",
    "due_is_assumption": True,
    "assumption_note": _text("仮の期日", "Date assumed"),
}


def _commitments(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(COMMITMENT)
    change(data)
    return {"commitments": [data]}


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.update(values)


BAD_COMMITMENTS: list[Any] = [
    pytest.param(lambda d: d.pop("assumption_note"), "commitments.0", "assumption_note", id="assumed-without-note"),
    pytest.param(_set(status="done"), "commitments.0", "done_on", id="done-without-date"),
    pytest.param(
        _set(done_on="2026-12-01"),
        "commitments.0",
        "no done_on while status is open",
        id="open-with-done-date",
    ),
    pytest.param(_set(status="closed"), "commitments.0.status", "'open' or 'done'", id="unknown-status"),
    pytest.param(_set(reminders=[7, -1]), "commitments.0.reminders", "each from 0 to 366", id="negative-offset"),
    # Far beyond a year the reminder date would leave the calendar (OverflowError at the first tick).
    pytest.param(_set(reminders=[10**9]), "commitments.0.reminders", "each from 0 to 366", id="huge-offset"),
    pytest.param(_set(due="0001-01-01"), "commitments.0.due", "between 2000 and 2100", id="year-1"),
    pytest.param(_set(due="2026-02-30"), "commitments.0.due", "day value is outside expected range", id="feb-30"),
    pytest.param(_set(due=20261211), "commitments.0.due", "got the number 20261211", id="number-as-date"),
    pytest.param(_set(title={"ja": "題" * 151, "en": "T"}), "commitments.0.title.ja", "at most 150", id="long-title"),
    pytest.param(
        _set(detail={"ja": "説明", "en": "x" * 1501}), "commitments.0.detail.en", "at most 1500", id="long-detail"
    ),
    pytest.param(_set(reminders=list(range(21))), "commitments.0.reminders", "at most 20", id="many-offsets"),
    pytest.param(_set(owner_desk="d" * 49), "commitments.0.owner_desk", "at most 48", id="long-desk"),
    pytest.param(_set(reminders=[7, 7]), "commitments.0.reminders", "each offset once", id="repeated-offset"),
    pytest.param(
        _set(remind_at=630),
        "commitments.0.remind_at",
        'quoted local time such as "09:00"',
        id="unquoted-time-read-as-number",
    ),
    pytest.param(_set(window_start="2027-01-01"), "commitments.0", "window_start", id="window-after-due"),
    pytest.param(_set(id="FR Presidency"), "commitments.0.id", "short id", id="bad-slug"),
    pytest.param(_set(channel="general"), "commitments.0.channel", "Slack channel id", id="bad-channel"),
    pytest.param(
        _set(source={"kind": "meeting", "ref": "fr"}),
        "commitments.0.source",
        "ref: meeting",
        id="meeting-ref",
    ),
    pytest.param(
        _set(source={"kind": "press", "ref": "fr"}),
        "commitments.0.source.kind",
        "'bilateral'",
        id="unknown-source-kind",
    ),
    pytest.param(
        _set(owner="ai-digital"), "commitments.0.owner", "unknown key (did you mean owner_desk?)", id="unknown-key"
    ),
]


@pytest.mark.parametrize(("change", "field", "expected"), BAD_COMMITMENTS)
def test_bad_commitment_names_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str, expected: str
) -> None:
    path = _write(tmp_path / "commitments.yml", _commitments(change))
    with pytest.raises(ConfigError) as info:
        load_commitments(path)
    error = info.value
    assert error.file == str(path)
    assert [f for f, _ in error.problems] == [field]
    assert expected in error.problems[0][1]


def test_commitment_defaults(tmp_path: Path) -> None:
    file = load_commitments(_write(tmp_path / "c.yml", _commitments(lambda d: None)))
    c = file.commitments[0]
    assert c.reminders == [30, 7, 1, 0]
    assert c.remind_at == dt.time(9, 0)
    assert (c.status, c.done_on, c.channel, c.window_start) == ("open", None, None, None)


def test_duplicate_commitment_ids(tmp_path: Path) -> None:
    data = _commitments(lambda d: None)
    data["commitments"].append(copy.deepcopy(data["commitments"][0]))
    with pytest.raises(ConfigError) as info:
        load_commitments(_write(tmp_path / "c.yml", data))
    assert info.value.problems == [("commitments", "expected unique ids, got fr-presidency more than once")]


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        pytest.param(
            _set(source={"kind": "bilateral", "ref": "it"}),
            "commitments.0.source.ref",
            "unknown bilateral 'it'; expected one of us, de, eu",
            id="missing-bilateral",
        ),
        pytest.param(
            _set(source={"kind": "outcome", "ref": "summit"}),
            "commitments.0.source.ref",
            "unknown outcome 'summit'; expected one of declaration, sme-ai-blueprint",
            id="missing-outcome",
        ),
        pytest.param(
            _set(owner_desk="quantum"),
            "commitments.0.owner_desk",
            "unknown desk 'quantum'; expected one of general, ai-digital",
            id="missing-desk",
        ),
    ],
)
def test_references_missing_from_the_release_are_reported(
    tmp_path: Path, release: Release, change: Callable[[dict[str, Any]], None], field: str, expected: str
) -> None:
    path = _write(tmp_path / "commitments.yml", _commitments(change))
    file = load_commitments(path)  # valid on its own
    problems = check_against_release(file, release)
    assert [f for f, _ in problems] == [field]
    assert expected in problems[0][1]
    with pytest.raises(ConfigError) as info:
        load_commitments(path, release=release)
    assert info.value.file == str(path)
    assert info.value.problems == problems


def test_every_bad_reference_is_reported(release: Release) -> None:
    data = _commitments(_set(source={"kind": "bilateral", "ref": "it"}, owner_desk="quantum"))
    problems = check_against_release(CommitmentsFile.model_validate(data), release)
    assert [f for f, _ in problems] == ["commitments.0.source.ref", "commitments.0.owner_desk"]


def test_too_many_commitments_for_one_digest(tmp_path: Path) -> None:
    many = [{**COMMITMENT, "id": f"item-{n}"} for n in range(101)]
    path = _write(tmp_path / "commitments.yml", {"commitments": many})
    with pytest.raises(ConfigError) as info:
        load_commitments(path)
    assert [f for f, _ in info.value.problems] == ["commitments"]
    assert "at most 100" in info.value.problems[0][1]


def test_placeholder_channels_are_found_in_both_files(release: Release) -> None:
    schedule = load_schedule(SCHEDULE_FILE)
    commitments = load_commitments(COMMITMENTS_FILE, release=release)
    assert placeholder_channels(schedule, commitments) == [
        ("digests.0.channel", "C0123456789"),
        ("digests.1.channel", "C0123456790"),
        ("reminders.channel", "C0123456789"),
        ("commitments.0.channel", "C0123456790"),
    ]
    real = schedule.model_copy(update={"reminders": None, "digests": []})
    assert placeholder_channels(real, None) == []
