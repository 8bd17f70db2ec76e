"""The audit record: one entry per change, written with the change, never updated or deleted (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.audit import Change
from bot.audit.log import AuditLog
from bot.commands.admin_audit import PAGE_SIZE
from bot.schedule.store import Store
from bot.startup import Started
from tests.followup_app import (
    ADMIN,
    BACKENDS,
    PRESSED_AT,
    PRESSER,
    TOKYO_CHANNEL,
    ask,
    blocks_of,
    data_folder,
    dispatch,
    post_reminder,
    press_body,
    started_bot,
)
from tests.helpers import set_clock
from tests.postgres import postgres_url
from tests.slack_standin import SlackStandIn

NOW = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
RELEASE = "meti-2025-12-10-g7-idt"


def _change(action: str, user: str = "U1", surface: str = "button", commitment: str = "c1") -> Change:
    return Change.model_validate(
        {"actor": user, "surface": surface, "action": action, "release_id": RELEASE, "commitment_id": commitment}
    )


def test_done_snooze_and_reopen_each_write_one_entry_with_before_and_after(store: Store) -> None:
    until = NOW + dt.timedelta(days=1)
    assert store.snooze("c1", release_id=RELEASE, until=until, by="U1", now=NOW, audit=_change("snooze"))
    later = NOW + dt.timedelta(days=2)
    assert store.set_done("c1", release_id=RELEASE, by="U2", now=later, audit=_change("done", "U2"))
    last = NOW + dt.timedelta(days=3)
    assert store.reopen("c1", release_id=RELEASE, by="admin:U3", now=last, audit=_change("reopen", "admin:U3", "slash"))
    entries = list(AuditLog(store))
    assert [(e.action, e.actor, e.surface, e.at) for e in entries] == [
        ("snooze", "U1", "button", NOW),
        ("done", "U2", "button", later),
        ("reopen", "admin:U3", "slash", last),
    ]
    assert entries[0].before is None  # nobody had touched it: the data file's state
    assert entries[0].after == {"status": "open", "snoozed_until": until.isoformat()}
    assert entries[1].before == entries[0].after
    assert entries[1].after == {"status": "done", "snoozed_until": None}
    assert entries[2].before == {"status": "done", "snoozed_until": None}
    assert entries[2].after == {"status": "open", "snoozed_until": None}
    assert {(e.release_id, e.commitment_id) for e in entries} == {(RELEASE, "c1")}
    assert store.state("c1", release_id=RELEASE).status == "open"


def test_a_press_that_loses_the_compare_and_set_writes_nothing(store: Store) -> None:
    assert store.set_done("c1", release_id=RELEASE, by="U1", now=NOW, audit=_change("done"))
    assert not store.set_done("c1", release_id=RELEASE, by="U2", now=NOW, audit=_change("done", "U2"))
    snooze_until = NOW + dt.timedelta(days=1)
    assert not store.snooze("c1", release_id=RELEASE, until=snooze_until, by="U2", now=NOW, audit=_change("snooze"))
    assert store.reopen("c1", release_id=RELEASE, by="U3", now=NOW, audit=_change("reopen", "U3"))
    assert not store.reopen("c1", release_id=RELEASE, by="U4", now=NOW, audit=_change("reopen", "U4"))
    assert [(e.action, e.actor) for e in AuditLog(store)] == [("done", "U1"), ("reopen", "U3")]


def test_a_state_change_without_an_audit_note_records_nothing(store: Store) -> None:
    # Callers that are not a person's action (the migrations' tests, for one) keep the old calls.
    assert store.set_done("c1", release_id=RELEASE, by="U1", now=NOW)
    assert AuditLog(store).count() == 0


def test_presses_at_once_on_two_instances_write_one_entry(store_url: str) -> None:
    with Store(store_url) as a, Store(store_url) as b:
        stores = [a, b] * 4
        start = threading.Barrier(len(stores))
        results: list[bool] = []
        lock = threading.Lock()

        def press(i: int, s: Store) -> None:
            start.wait()
            won = s.set_done("c1", release_id=RELEASE, by=f"U{i}", now=NOW, audit=_change("done", f"U{i}"))
            with lock:
                results.append(won)

        threads = [threading.Thread(target=press, args=(i, s)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == [False] * (len(stores) - 1) + [True]
        entries = list(AuditLog(a))
        assert len(entries) == 1
        assert entries[0].actor == a.state("c1", release_id=RELEASE).updated_by
        assert entries[0].before is None and entries[0].after == {"status": "done", "snoozed_until": None}


def test_snooze_and_done_at_once_are_both_recorded_with_the_true_before(store_url: str) -> None:
    # Both may win (a snooze does not stop a Done): whichever ran second saw the other's state as its before.
    with Store(store_url) as a, Store(store_url) as b:
        until = NOW + dt.timedelta(days=1)
        start = threading.Barrier(2)

        def snooze() -> None:
            start.wait()
            a.snooze("c1", release_id=RELEASE, until=until, by="U1", now=NOW, audit=_change("snooze", "U1"))

        def done() -> None:
            start.wait()
            b.set_done("c1", release_id=RELEASE, by="U2", now=NOW, audit=_change("done", "U2"))

        threads = [threading.Thread(target=snooze), threading.Thread(target=done)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        entries = list(AuditLog(a))
        assert entries, "the Done always wins"
        # The chain is unbroken: every entry's before is the previous entry's after.
        assert entries[0].before is None
        for previous, entry in itertools.pairwise(entries):
            assert entry.before == previous.after
        state = a.state("c1", release_id=RELEASE)
        assert entries[-1].after == {
            "status": state.status,
            "snoozed_until": state.snoozed_until.isoformat() if state.snoozed_until else None,
        }


def test_the_log_reads_newest_first_per_commitment_and_counts(store: Store) -> None:
    log = AuditLog(store)
    for i in range(5):
        log.record(_change("done", f"U{i}", commitment="c1" if i % 2 else "c2"), at=NOW + dt.timedelta(minutes=i))
    assert [e.actor for e in log.entries(limit=3)] == ["U4", "U3", "U2"]
    assert [e.actor for e in log.entries(limit=3, offset=3)] == ["U1", "U0"]
    assert [e.actor for e in log.entries(commitment_id="c1")] == ["U3", "U1"]
    assert (log.count(), log.count(commitment_id="c2")) == (5, 3)


def test_the_log_has_no_way_to_change_or_remove_an_entry(store: Store) -> None:
    public = {name for name in dir(AuditLog) if not name.startswith("_")}
    assert public == {"record", "entries", "count"}


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_remove_an_entry(store: Store, statement: str) -> None:
    AuditLog(store).record(_change("done"), at=NOW)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert [(e.actor, e.action) for e in AuditLog(store)] == [("U1", "done")]


@pytest.mark.postgres
def test_postgres_refuses_to_truncate_the_log() -> None:
    with postgres_url() as url, Store(url) as store:
        AuditLog(store).record(_change("done"), at=NOW)
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
        assert AuditLog(store).count() == 1


def test_an_entry_needs_an_actor_a_known_surface_and_action() -> None:
    with pytest.raises(ValueError, match="surface"):
        Change.model_validate({"actor": "U1", "surface": "email", "action": "done"})
    with pytest.raises(ValueError, match="action"):
        Change.model_validate({"actor": "U1", "surface": "slash", "action": "delete"})
    with pytest.raises(ValueError, match="actor"):
        Change.model_validate({"actor": "", "surface": "slash", "action": "done"})


# ---- through the bot: buttons, /g7 admin audit, reopen, reload and digest-now ---------------------------------

SCHEDULE = f"""
timezone: Asia/Tokyo
digests:
  - id: tokyo-weekly
    channel: {TOKYO_CHANNEL}
    cron: "0 9 * * MON"
    lang: ja
reminders:
  channel: {TOKYO_CHANNEL}
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return data_folder(tmp_path / "data", SCHEDULE)


@pytest.fixture(params=BACKENDS)
def started(
    request: pytest.FixtureRequest, data_dir: Path, tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Started]:
    with started_bot(request.param, data_dir=data_dir, tmp_path=tmp_path, slack=slack, monkeypatch=monkeypatch) as bot:
        yield bot


def slash(started: Started, text: str, *, user: str = ADMIN) -> dict[str, Any]:
    return ask(started, text, user=user)


def press(started: Started, action_id: str, *, ts: str, value: str = "fr-presidency", user: str = PRESSER) -> None:
    dispatch(started, press_body(action_id, ts=ts, user=user, value=value, user_team=False))


def test_done_then_the_reopen_button_are_both_in_the_audit(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started)
    press(started, "g7_followup_done", ts=ts)
    resolved = blocks_of(slack.calls_to("chat.update")[-1].args)
    assert "g7_followup_reopen" in resolved and "g7_followup_done" not in resolved

    set_clock(started, lambda: PRESSED_AT + dt.timedelta(hours=1))
    press(started, "g7_followup_reopen", ts=ts, user="U0SECOND")
    assert started.service.states()["fr-presidency"].status == "open"
    reopened = blocks_of(slack.calls_to("chat.update")[-1].args)
    assert "g7_followup_done" in reopened, "the reminder has its buttons back"
    assert "Reopened by <@U0SECOND>" in reopened

    entries = list(started.service.audit)
    assert [(e.action, e.actor, e.surface, e.commitment_id) for e in entries] == [
        ("done", PRESSER, "button", "fr-presidency"),
        ("reopen", "U0SECOND", "button", "fr-presidency"),
    ]
    assert entries[0].release_id == entries[1].release_id == "meti-2025-12-10-g7-idt"

    text = slash(started, "admin audit fr-presidency en")["text"]
    lines = [line for line in text.splitlines() if line.startswith("•")]
    assert len(lines) == 2
    assert "<@U0SECOND>" in lines[0] and "reopen" in lines[0] and "done → open" in lines[0]
    assert "<@U0PRESSER>" in lines[1] and "as in the data file → done" in lines[1]
    assert "2026-12-04 10:00 JST" in lines[0] and "2026-12-04 09:00 JST" in lines[1]
    assert "(button)" in lines[0]


@pytest.fixture
def london_schedule(data_dir: Path) -> None:
    """The schedule's zone is London (requested before `started`, so the bot starts with it)."""
    path = data_dir / "schedule.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("Asia/Tokyo", "Europe/London"), encoding="utf-8")


def _audit_lines(started: Started) -> tuple[list[str], str]:
    text = slash(started, "admin audit fr-presidency en")["text"]
    return [line for line in text.splitlines() if line.startswith("•")], text


def test_admin_audit_shows_times_in_the_requester_time_zone(
    london_schedule: None, started: Started, slack: SlackStandIn
) -> None:
    slack.timezones[ADMIN] = "America/New_York"
    press(started, "g7_followup_done", ts=post_reminder(started))
    (line,), text = _audit_lines(started)
    # 00:00 UTC on 4 December: the evening before in New York, whatever the schedule's or the ministry's zone.
    assert "2026-12-03 19:00 EST" in line, line
    assert "times in America/New_York" in text
    assert any(c.args.get("user") == ADMIN for c in slack.calls_to("users.info"))


def test_admin_audit_without_the_requester_zone_uses_the_schedule_zone(
    london_schedule: None, started: Started, slack: SlackStandIn
) -> None:
    slack.timezones[ADMIN] = None  # users.info gives no tz
    press(started, "g7_followup_done", ts=post_reminder(started))
    (line,), text = _audit_lines(started)
    assert "2026-12-04 00:00 GMT" in line, line
    assert "times in Europe/London" in text


def test_a_second_reopen_and_a_press_on_another_message_write_nothing(started: Started, slack: SlackStandIn) -> None:
    ts = post_reminder(started)
    press(started, "g7_followup_done", ts=ts)
    press(started, "g7_followup_done", ts=ts, user="U0LATE")  # already done
    press(started, "g7_followup_reopen", ts=ts)
    press(started, "g7_followup_reopen", ts=ts, user="U0LATE")  # already open
    press(started, "g7_followup_done", ts="1.000001")  # a message the bot never posted
    assert [(e.action, e.actor) for e in started.service.audit] == [("done", PRESSER), ("reopen", PRESSER)]


def test_snooze_is_recorded_with_the_time_it_snoozes_until(started: Started) -> None:
    ts = post_reminder(started)
    press(started, "g7_followup_snooze_1w", ts=ts)
    (entry,) = list(started.service.audit)
    assert (entry.action, entry.before) == ("snooze", None)
    assert entry.after is not None and entry.after["status"] == "open"
    assert dt.datetime.fromisoformat(entry.after["snoozed_until"]) > PRESSED_AT
    assert "snoozed until 2026-12-1" in slash(started, "admin audit en")["text"]


def test_admin_reopen_undoes_done_and_says_why_when_it_cannot(started: Started) -> None:
    ts = post_reminder(started)
    assert "is not marked done" in slash(started, "admin reopen fr-presidency en")["text"]
    press(started, "g7_followup_done", ts=ts)
    assert "is open again" in slash(started, "admin reopen fr-presidency en")["text"]
    assert started.service.states()["fr-presidency"].status == "open"
    assert "There is no follow-up “nothing-here”" in slash(started, "admin reopen nothing-here en")["text"]
    assert "Name the follow-up" in slash(started, "admin reopen en")["text"]
    assert "administrators only" in slash(started, "admin reopen fr-presidency en", user=PRESSER)["text"]
    assert [(e.action, e.actor, e.surface) for e in started.service.audit] == [
        ("done", PRESSER, "button"),
        ("reopen", f"admin:{ADMIN}", "slash"),
    ]
    text = slash(started, "admin audit ja")["text"]
    assert "完了取り消し" in text and "コマンド" in text and "(admin)" in text


def test_reload_applied_or_refused_and_digest_now_are_recorded(started: Started, data_dir: Path) -> None:
    (data_dir / "schedule.yml").write_text(SCHEDULE.replace('"0 9 * * MON"', '"every monday"'), encoding="utf-8")
    slash(started, "admin reload en")
    (data_dir / "schedule.yml").write_text(SCHEDULE.replace("lang: ja", "lang: en", 1), encoding="utf-8")
    slash(started, "admin reload en")
    slash(started, f"admin digest-now {TOKYO_CHANNEL} en")
    entries = list(started.service.audit)
    assert [(e.action, e.actor, e.surface) for e in entries] == [
        ("reload", f"admin:{ADMIN}", "slash"),
        ("reload", f"admin:{ADMIN}", "slash"),
        ("digest_now", f"admin:{ADMIN}", "slash"),
    ]
    refused, applied, digest = (e.after or {} for e in entries)
    assert not refused["applied"] and any("digests.0.cron" in p for p in refused["problems"])
    assert applied["applied"] and applied["changed"] == [["digest", "tokyo-weekly"]]
    assert digest["channels"] == [TOKYO_CHANNEL]
    lines = [line for line in slash(started, "admin audit en")["text"].splitlines() if line.startswith("•")]
    assert "digest now" in lines[0] and TOKYO_CHANNEL in lines[0]
    assert "applied (0 added, 0 removed, 1 changed)" in lines[1]
    assert "refused (1 problem(s))" in lines[2]


def test_admin_audit_is_bounded_and_says_how_to_see_more(started: Started) -> None:
    log = started.service.audit
    for i in range(PAGE_SIZE + 3):
        log.record(_change("done", f"U{i:04d}XYZ"), at=PRESSED_AT + dt.timedelta(minutes=i))
    first = slash(started, "admin audit en")["text"]
    assert first.count("\n•") + first.startswith("•") == PAGE_SIZE
    assert f"<@U{PAGE_SIZE + 2:04d}XYZ>" in first and "<@U0000XYZ>" not in first
    assert f"Entries 1–{PAGE_SIZE} of {PAGE_SIZE + 3}" in first
    assert "/g7 admin audit page 2" in first
    second = slash(started, "admin audit page 2 en")["text"]
    assert "<@U0000XYZ>" in second and f"<@U{PAGE_SIZE:04d}XYZ>" not in second
    assert "page 3" not in second
    assert "There is no follow-up “nope”" in slash(started, "admin audit nope en")["text"]
    assert "Nothing is recorded yet" in slash(started, "admin audit quantum-wg en")["text"]
