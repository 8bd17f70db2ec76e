""" "I'll take it" and admin dates in the store (compare and set, audited), and the date in force everywhere (pure)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.audit import Change
from bot.audit.log import AuditLog
from bot.export.csv import followup_row
from bot.schedule import due
from bot.schedule.content import ACTION_TAKE, build_followups_reply, build_reminder_reply
from bot.schedule.effective import effective
from bot.schedule.models import Commitment, ScheduleFile
from bot.schedule.occurrence import CommitmentState, Occurrence
from bot.schedule.store import Store
from tests.helpers import text_of

UTC = dt.UTC
TOKYO = ZoneInfo("Asia/Tokyo")
CHANNEL = "C0123456789"
RELEASE = "meti-2025-12-10-g7-idt"
NOW = dt.datetime(2026, 11, 20, 0, 5, tzinfo=UTC)
SCHEDULE = ScheduleFile.model_validate({"timezone": "Asia/Tokyo", "reminders": {"channel": CHANNEL}})


def commitment(cid: str = "ca-steel", due_on: str = "2026-11-27", **values: Any) -> Commitment:
    data: dict[str, Any] = {
        "id": cid,
        "title": {"ja": f"{cid} の件", "en": f"Item {cid}"},
        "detail": {"ja": "議論を行いました。", "en": "Discussed."},
        "source": {"kind": "bilateral", "ref": "fr"},
        "owner_desk": "ai-digital",
        "due": due_on,
        "due_is_assumption": True,
        "assumption_note": {"ja": "仮の期日", "en": "Date assumed"},
        "release_id": RELEASE,
        **values,
    }
    return Commitment.model_validate(data)


def change(action: str, actor: str, commitment_id: str = "ca-steel") -> Change:
    return Change.model_validate(
        {"actor": actor, "surface": "button", "action": action, "release_id": RELEASE, "commitment_id": commitment_id}
    )


def overridden(day: str | None, confirmed: bool | None, **more: Any) -> CommitmentState:
    return CommitmentState(
        commitment_id="ca-steel",
        due_override=dt.date.fromisoformat(day) if day else None,
        due_confirmed=confirmed,
        **more,
    )


# ---- the store: assign -----------------------------------------------------------------------------


def test_the_first_press_takes_it_and_the_audit_says_before_and_after(store: Store) -> None:
    assert store.assign("ca-steel", release_id=RELEASE, assignee="U0FIRST", now=NOW, audit=change("assign", "U0FIRST"))
    later = NOW + dt.timedelta(minutes=1)
    assert not store.assign(
        "ca-steel", release_id=RELEASE, assignee="U0SECOND", now=later, audit=change("assign", "U0SECOND")
    )
    state = store.state("ca-steel", release_id=RELEASE)
    assert (state.assignee, state.assigned_at, state.status) == ("U0FIRST", NOW, "open")
    # Taking it is not acting on it: Done's bookkeeping (who, when) is untouched.
    assert (state.updated_by, state.updated_at) == (None, None)
    (entry,) = list(AuditLog(store))
    assert (entry.action, entry.actor, entry.before) == ("assign", "U0FIRST", None)
    assert entry.after == {"assignee": "U0FIRST", "assigned_at": NOW.isoformat()}


def test_assign_keeps_done_and_snooze_and_they_keep_it(store: Store) -> None:
    until = NOW + dt.timedelta(days=1)
    assert store.snooze("ca-steel", release_id=RELEASE, until=until, by="U0S", now=NOW, audit=change("snooze", "U0S"))
    assert store.assign("ca-steel", release_id=RELEASE, assignee="U0T", now=NOW, audit=change("assign", "U0T"))
    later = NOW + dt.timedelta(hours=1)
    assert store.set_done("ca-steel", release_id=RELEASE, by="U0D", now=later, audit=change("done", "U0D"))
    state = store.state("ca-steel", release_id=RELEASE)
    assert (state.status, state.assignee, state.updated_by) == ("done", "U0T", "U0D")
    snooze, assign, done = AuditLog(store)
    # Each entry shows the columns its change is about.
    assert assign.before == {"assignee": None, "assigned_at": None}
    assert done.before == {"status": "open", "snoozed_until": until.isoformat()}
    assert done.after == {"status": "done", "snoozed_until": None}
    assert snooze.after == {"status": "open", "snoozed_until": until.isoformat()}


def test_two_presses_at_once_on_two_instances_one_wins(store_url: str) -> None:
    with Store(store_url) as a, Store(store_url) as b:
        stores = [a, b] * 4
        start = threading.Barrier(len(stores))
        won: dict[str, bool] = {}
        lock = threading.Lock()

        def take(i: int, s: Store) -> None:
            user = f"U0PRESS{i}"
            start.wait()
            result = s.assign("ca-steel", release_id=RELEASE, assignee=user, now=NOW, audit=change("assign", user))
            with lock:
                won[user] = result

        threads = [threading.Thread(target=take, args=(i, s)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        winners = [user for user, result in won.items() if result]
        assert len(won) == len(stores) and len(winners) == 1
        assert a.state("ca-steel", release_id=RELEASE).assignee == winners[0]
        assert b.state("ca-steel", release_id=RELEASE).assignee == winners[0]
        entries = list(AuditLog(a))
        assert [(e.action, e.actor, e.before) for e in entries] == [("assign", winners[0], None)]


# ---- the store: admin dates -------------------------------------------------------------------------


def test_set_due_writes_once_and_clearing_goes_back_to_the_file(store: Store) -> None:
    day = dt.date(2026, 12, 4)
    audit = change("due_confirm", "admin:U0ADMIN")
    assert store.set_due("ca-steel", release_id=RELEASE, due=day, confirmed=True, now=NOW, audit=audit)
    assert not store.set_due("ca-steel", release_id=RELEASE, due=day, confirmed=True, now=NOW, audit=audit)
    assert store.set_due("ca-steel", release_id=RELEASE, due=day, confirmed=False, now=NOW, audit=audit)
    assert store.set_due("ca-steel", release_id=RELEASE, due=None, confirmed=None, now=NOW, audit=audit)
    state = store.state("ca-steel", release_id=RELEASE)
    assert (state.due_override, state.due_confirmed, state.status) == (None, None, "open")
    assert [(e.before, e.after) for e in AuditLog(store)] == [
        (None, {"due_override": "2026-12-04", "due_confirmed": True}),
        ({"due_override": "2026-12-04", "due_confirmed": True}, {"due_override": "2026-12-04", "due_confirmed": False}),
        ({"due_override": "2026-12-04", "due_confirmed": False}, {"due_override": None, "due_confirmed": None}),
    ]


def test_an_admin_date_leaves_done_and_the_assignee_alone(store: Store) -> None:
    assert store.assign("ca-steel", release_id=RELEASE, assignee="U0T", now=NOW)
    assert store.set_done("ca-steel", release_id=RELEASE, by="U0D", now=NOW)
    assert store.set_due("ca-steel", release_id=RELEASE, due=dt.date(2026, 12, 4), confirmed=True, now=NOW)
    state = store.state("ca-steel", release_id=RELEASE)
    assert (state.status, state.assignee, state.updated_by, state.due_override) == (
        "done",
        "U0T",
        "U0D",
        dt.date(2026, 12, 4),
    )


# ---- the date in force (pure) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(None, ("2026-11-27", True), id="no-state"),
        pytest.param(overridden(None, None), ("2026-11-27", True), id="nothing-set"),
        pytest.param(overridden("2026-12-04", True), ("2026-12-04", False), id="moved-and-confirmed"),
        pytest.param(overridden("2026-12-04", False), ("2026-12-04", True), id="moved-still-assumed"),
        pytest.param(overridden(None, True), ("2026-11-27", False), id="the-file-date-confirmed"),
    ],
)
def test_effective_takes_the_admin_date_and_its_confirmation(
    state: CommitmentState | None, expected: tuple[str, bool]
) -> None:
    c = effective(commitment(), state)
    assert (c.due.isoformat(), c.due_is_assumption) == expected
    assert c.title == commitment().title and c.release_id == RELEASE


def test_effective_drops_a_window_that_would_end_before_it_starts() -> None:
    c = commitment(window_start="2026-11-20")
    assert effective(c, overridden("2026-11-10", True)).window_start is None
    assert effective(c, overridden("2026-12-10", True)).window_start == dt.date(2026, 11, 20)


def _reminder_keys(c: Commitment, state: CommitmentState | None) -> list[tuple[str, dt.datetime]]:
    found = due.occurrences(
        SCHEDULE, [c], {c.id: state} if state else {}, NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=60)
    )
    return [(o.key, o.at) for o in found]


def test_reminder_offsets_count_back_from_the_admin_date() -> None:
    c = commitment(reminders=[7, 1, 0])
    nine = dt.time(0, 0)
    before = _reminder_keys(c, None)
    assert before == [
        ("reminder:ca-steel:d7", dt.datetime.combine(dt.date(2026, 11, 20), nine, UTC)),
        ("reminder:ca-steel:d1", dt.datetime.combine(dt.date(2026, 11, 26), nine, UTC)),
        ("reminder:ca-steel:d0", dt.datetime.combine(dt.date(2026, 11, 27), nine, UTC)),
    ]
    # Moved a week on (assumed still: no overdue re-reminders): the same keys at the new instants.
    after = _reminder_keys(c, overridden("2026-12-04", False))
    assert after == [
        ("reminder:ca-steel:d7", dt.datetime.combine(dt.date(2026, 11, 27), nine, UTC)),
        ("reminder:ca-steel:d1", dt.datetime.combine(dt.date(2026, 12, 3), nine, UTC)),
        ("reminder:ca-steel:d0", dt.datetime.combine(dt.date(2026, 12, 4), nine, UTC)),
    ]
    # No identity of the old date comes back: what was sent for it is never planned again.
    assert not set(before) & set(after)


@pytest.mark.parametrize(
    ("state", "section"),
    [
        pytest.param(None, "to_confirm", id="assumed-and-past"),
        pytest.param(overridden(None, True), "overdue", id="the-same-date-confirmed"),
        pytest.param(overridden("2026-12-10", True), "upcoming", id="moved-later"),
        pytest.param(overridden("2026-12-10", False), "upcoming", id="moved-later-still-assumed"),
        pytest.param(overridden("2027-03-01", True), None, id="beyond-the-lookahead"),
    ],
)
def test_the_digest_lists_it_where_the_date_in_force_puts_it(
    state: CommitmentState | None, section: str | None
) -> None:
    now = dt.datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
    items = due.digest_items(
        [commitment()], {"ca-steel": state} if state else {}, now, tz=TOKYO, lookahead_days=14, recent_days=7
    )
    found = {name: [c.id for c in getattr(items, name)] for name in ("overdue", "to_confirm", "upcoming")}
    assert found == {name: (["ca-steel"] if name == section else []) for name in found}
    if section is not None and state is not None and state.due_override is not None:
        (listed,) = getattr(items, section)
        assert listed.due == state.due_override


def test_reminders_followups_and_the_export_show_the_admin_date(release: Any) -> None:
    c = commitment("fr-presidency", "2026-12-11")
    state = CommitmentState(
        commitment_id="fr-presidency", due_override=dt.date(2026, 12, 18), due_confirmed=True, assignee="U0TAKER"
    )
    occ = Occurrence(
        kind="reminder",
        key="reminder:fr-presidency:d7",
        channel=CHANNEL,
        at=dt.datetime(2026, 12, 11, tzinfo=UTC),
        timezone="Asia/Tokyo",
        commitment_id="fr-presidency",
    )
    reminder = build_reminder_reply(c, occ, lang="en", release=release, state=state)
    text = text_of(reminder)
    assert "18 December 2026" in text and "11 December 2026" not in text
    assert "Due in 7 days" in text and "(assumed)" not in text
    assert "Taken by <@U0TAKER>" in text
    assert ACTION_TAKE not in [b.action_id for b in reminder.buttons], "once taken, the button is gone"
    assert ACTION_TAKE in [
        b.action_id for b in build_reminder_reply(c, occ, lang="en", release=release, state=None).buttons
    ]
    listing = text_of(
        build_followups_reply([c], {"fr-presidency": state}, occ.at, lang="en", tz=TOKYO, release=release)
    )
    assert "18 December 2026" in listing and "11 December 2026" not in listing
    row = followup_row(release, c, state, tz=TOKYO)
    assert (row["due_date"], row["due_is_assumption"], row["assignee"]) == ("2026-12-18", "false", "U0TAKER")
