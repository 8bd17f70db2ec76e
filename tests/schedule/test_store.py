"""The delivery log on SQLite and PostgreSQL: claims are exclusive, leases expire, nothing is lost."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import StatementError

from bot.schedule.occurrence import Occurrence
from bot.schedule.store import Store, deliveries

NOW = dt.datetime(2025, 1, 6, 0, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=2)
T = TypeVar("T")


def occ(key: str = "digest:daily", *, channel: str = "C1", at: dt.datetime = NOW) -> Occurrence:
    kind = "digest" if key.startswith("digest") else "reminder"
    return Occurrence(kind=kind, key=key, channel=channel, at=at)


def race(n: int, fn: Callable[[int], T]) -> list[T]:
    """Run fn(0..n-1) in n threads released together."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


# ---- set-up ------------------------------------------------------------------------------------


def test_sqlite_file_parent_is_created_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "log.sqlite3"
    with Store(f"sqlite:///{path}") as s:
        assert s.claim(occ(), now=NOW, owner="a", lease=LEASE, late=False) is not None
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_create_all_is_idempotent_and_survives_two_instances_starting_together(store_url: str) -> None:
    stores = race(4, lambda _: Store(store_url))
    try:
        stores[0].create_all()
        assert stores[1].claim(occ(), now=NOW, owner="a", lease=LEASE, late=False) is not None
        assert stores[2].counts() == {"pending": 1, "sent": 0, "skipped": 0, "failed": 0, "held": 0}
    finally:
        for s in stores:
            s.close()


def test_other_databases_are_refused() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="expected sqlite"):
        Store("mysql://user:secret@db/g7bot")


# ---- claim -------------------------------------------------------------------------------------


def test_claim_inserts_a_pending_row_leased_to_the_owner(store: Store) -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    at = dt.datetime(2025, 1, 6, 9, 0, 0, 123456, tzinfo=tokyo)
    d = store.claim(occ(at=at), now=NOW, owner="a", lease=LEASE, late=True)
    assert d is not None
    assert (d.status, d.lease_owner, d.attempts, d.late, d.reclaimed) == ("pending", "a", 0, True, False)
    assert d.scheduled_at == at and d.scheduled_at.tzinfo == dt.UTC
    assert d.lease_until == NOW + LEASE and d.lease_until.tzinfo == dt.UTC
    assert d.created_at == NOW
    assert d.to_occurrence() == occ(at=at)
    [again] = store.deliveries(key="digest:daily")
    assert again.scheduled_at == at and again.scheduled_at.tzinfo == dt.UTC


def test_a_live_lease_keeps_others_out_and_an_expired_one_is_taken_over(store: Store) -> None:
    first = store.claim(occ(), now=NOW, owner="a", lease=LEASE, late=False)
    assert first is not None
    assert store.claim(occ(), now=NOW, owner="b", lease=LEASE, late=False) is None
    assert store.claim(occ(), now=NOW + LEASE, owner="b", lease=LEASE, late=False) is None  # not yet <
    later = NOW + LEASE + dt.timedelta(seconds=1)
    taken = store.claim(occ(), now=later, owner="b", lease=LEASE, late=True)
    assert taken is not None
    assert (taken.id, taken.lease_owner, taken.lease_until) == (first.id, "b", later + LEASE)
    assert taken.reclaimed
    assert taken.late  # late once claimed late
    assert store.counts() == {"pending": 1, "sent": 0, "skipped": 0, "failed": 0, "held": 0}


def test_sent_and_skipped_rows_are_never_claimed_again(store: Store) -> None:
    d = store.claim(occ("digest:a"), now=NOW, owner="a", lease=LEASE, late=False)
    assert d is not None
    assert store.mark_sent(d.id, ts="1.000001", now=NOW, owner="a")
    assert store.record_skipped(occ("digest:b"), now=NOW, reason="past the grace period")
    much_later = NOW + dt.timedelta(days=1)
    for key in ("digest:a", "digest:b"):
        assert store.claim(occ(key), now=much_later, owner="b", lease=LEASE, late=False) is None
    assert store.claim_retries(now=much_later, owner="b", lease=LEASE, limit=10) == []
    sent = store.find_by_message("C1", "1.000001")
    assert sent is not None and (sent.status, sent.message_ts, sent.sent_at) == ("sent", "1.000001", NOW)
    [skipped] = store.deliveries(status="skipped")
    assert (skipped.key, skipped.last_error) == ("digest:b", "past the grace period")


def test_exactly_one_of_racing_threads_wins_each_claim(store: Store, store_url: str) -> None:
    # Each thread has its own Store (its own engine and connections), like separate processes.
    stores = [Store(store_url) for _ in range(4)]
    try:
        for i in range(10):
            o = occ(f"reminder:c{i}:d1")
            won = race(4, lambda t, o=o: stores[t].claim(o, now=NOW, owner=f"o{t}", lease=LEASE, late=False))
            assert sum(d is not None for d in won) == 1, won
    finally:
        for s in stores:
            s.close()
    assert store.counts()["pending"] == 10


def test_racing_claim_retries_share_the_rows_without_overlap(store: Store, store_url: str) -> None:
    for i in range(30):
        assert store.claim(occ(f"reminder:c{i}:d1"), now=NOW, owner="dead", lease=LEASE, late=False)
    stores = [Store(store_url) for _ in range(3)]
    later = NOW + dt.timedelta(minutes=5)
    try:
        got = race(3, lambda t: stores[t].claim_retries(now=later, owner=f"o{t}", lease=LEASE, limit=30))
    finally:
        for s in stores:
            s.close()
    ids = [d.id for batch in got for d in batch]
    assert len(ids) == len(set(ids)) == 30
    assert all(d.reclaimed and d.lease_owner == f"o{t}" for t, batch in enumerate(got) for d in batch)


# ---- failures and retries ----------------------------------------------------------------------


def test_mark_failed_keeps_the_row_pending_until_its_retry_time(store: Store) -> None:
    d = store.claim(occ(), now=NOW, owner="a", lease=LEASE, late=False)
    assert d is not None
    retry_at = NOW + dt.timedelta(seconds=30)
    assert store.mark_failed(d.id, error="DeliveryError: fatal_error", now=NOW, retry_at=retry_at, owner="a")
    failed = store.get(d.id)
    assert failed is not None
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert failed.lease_owner is failed.lease_until is None
    assert (failed.next_attempt_at, failed.last_error) == (retry_at, "DeliveryError: fatal_error")
    early = retry_at - dt.timedelta(seconds=1)
    assert store.claim_retries(now=early, owner="b", lease=LEASE, limit=10) == []
    assert store.claim(occ(), now=early, owner="b", lease=LEASE, late=False) is None
    [retry] = store.claim_retries(now=retry_at, owner="b", lease=LEASE, limit=10)
    assert (retry.id, retry.attempts, retry.lease_owner, retry.reclaimed) == (d.id, 1, "b", True)


def test_crashed_claims_come_back_once_their_lease_expires(store: Store) -> None:
    for i in range(3):
        store.claim(
            occ(f"digest:{i}", at=NOW + dt.timedelta(minutes=i)),
            now=NOW,
            owner="dead",
            lease=LEASE,
            late=False,
        )
    assert store.claim_retries(now=NOW + dt.timedelta(minutes=1), owner="b", lease=LEASE, limit=10) == []
    later = NOW + dt.timedelta(minutes=3)
    first_two = store.claim_retries(now=later, owner="b", lease=LEASE, limit=2)
    assert [d.key for d in first_two] == ["digest:0", "digest:1"]  # oldest first
    # b's own claims are b's again at once, unless b says it is still working on them.
    [last] = store.claim_retries(now=later, owner="b", lease=LEASE, limit=2, exclude={d.id for d in first_two})
    assert last.key == "digest:2"
    assert store.claim_retries(now=later, owner="c", lease=LEASE, limit=10) == []  # others wait the lease out


def test_a_lost_lease_still_records_the_post_but_not_a_failure(store: Store) -> None:
    d = store.claim(occ(), now=NOW, owner="a", lease=LEASE, late=False)
    assert d is not None
    later = NOW + dt.timedelta(minutes=3)
    assert store.claim(occ(), now=later, owner="b", lease=LEASE, late=False) is not None
    assert not store.mark_failed(d.id, error="x", now=later, retry_at=later, owner="a")
    assert store.mark_sent(d.id, ts="2.000001", now=later, owner="a")  # the post happened: keep it
    assert not store.mark_sent(d.id, ts="3.000001", now=later, owner="b")
    sent = store.get(d.id)
    assert sent is not None and (sent.status, sent.message_ts, sent.attempts) == ("sent", "2.000001", 0)


def test_record_skipped_only_inserts_what_is_absent(store: Store) -> None:
    assert store.claim(occ("digest:a"), now=NOW, owner="a", lease=LEASE, late=False)
    assert not store.record_skipped(occ("digest:a"), now=NOW, reason="late")
    assert store.record_skipped(occ("digest:b"), now=NOW, reason="late")
    assert not store.record_skipped(occ("digest:b"), now=NOW, reason="late")
    assert store.counts() == {"pending": 1, "sent": 0, "skipped": 1, "failed": 0, "held": 0}


# ---- reading -----------------------------------------------------------------------------------


def test_known_lists_identities_at_or_after_since(store: Store) -> None:
    before, at, after = (NOW + dt.timedelta(hours=h) for h in (-1, 0, 1))
    store.claim(occ("digest:a", at=before), now=NOW, owner="a", lease=LEASE, late=False)
    store.claim(occ("digest:b", at=at), now=NOW, owner="a", lease=LEASE, late=False)
    store.record_skipped(occ("digest:c", at=after, channel="C2"), now=NOW, reason="late")
    expected = {occ("digest:b", at=at).identity, occ("digest:c", at=after, channel="C2").identity}
    assert store.known(at) == expected


def test_deliveries_filters_by_column(store: Store) -> None:
    store.claim(occ("digest:a"), now=NOW, owner="a", lease=LEASE, late=False)
    store.claim(occ("digest:b", channel="C2"), now=NOW, owner="a", lease=LEASE, late=False)
    assert [d.key for d in store.deliveries(channel="C2")] == ["digest:b"]
    assert len(store.deliveries()) == 2
    with pytest.raises(TypeError, match="nope"):
        store.deliveries(nope=1)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        store.claim(occ(), now=NOW.replace(tzinfo=None), owner="a", lease=LEASE, late=False)


def test_a_row_written_by_hand_still_renders(store: Store) -> None:
    d = store.claim(occ(), now=NOW, owner="a", lease=LEASE, late=False)
    assert d is not None
    with store.engine.begin() as conn:
        conn.execute(update(deliveries).values(occurrence=None))
    got = store.get(d.id)
    assert got is not None and got.occurrence is None
    assert got.to_occurrence() == occ()


# ---- commitment states -------------------------------------------------------------------------


R1 = "meti-2025-12-10-g7-idt"
R2 = "meti-2026-06-15-g7-trade"


def test_commitment_states_done_snooze_reopen(store: Store) -> None:
    assert store.states() == {}
    until = NOW + dt.timedelta(days=1)
    assert store.snooze("c1", release_id=R1, until=until, by="U1", now=NOW)
    assert store.set_done("c2", release_id=R1, by="U2", now=NOW)
    states = store.states()
    assert set(states) == {(R1, "c1"), (R1, "c2")}
    c1, c2 = states[(R1, "c1")], states[(R1, "c2")]
    assert (c1.release_id, c1.status, c1.snoozed_until, c1.updated_by) == (R1, "open", until, "U1")
    assert c1.snoozed_until is not None and c1.snoozed_until.tzinfo == dt.UTC
    assert (c2.status, c2.updated_at) == ("done", NOW)
    later = NOW + dt.timedelta(minutes=1)
    assert store.reopen("c2", release_id=R1, by="U3", now=later)
    assert store.state("c2", release_id=R1).status == "open"
    never = store.state("c3", release_id=R1)
    assert (never.status, never.release_id, never.updated_at) == ("open", R1, None)


def test_a_state_belongs_to_one_release(store: Store) -> None:
    # The same id in two releases (a release re-imported under a new id, say): two states, apart.
    assert store.set_done("c1", release_id=R1, by="U1", now=NOW)
    assert store.state("c1", release_id=R2).status == "open"
    assert store.snooze("c1", release_id=R2, until=NOW + dt.timedelta(days=1), by="U2", now=NOW)
    assert store.state("c1", release_id=R1).status == "done"
    assert {k: (v.status, v.updated_by) for k, v in store.states().items()} == {
        (R1, "c1"): ("done", "U1"),
        (R2, "c1"): ("open", "U2"),
    }


def test_states_by_commitment_picks_each_commitment_its_own_release() -> None:
    from bot.schedule.occurrence import CommitmentState, states_by_commitment

    done = CommitmentState(commitment_id="c1", release_id=R1, status="done")
    other = CommitmentState(commitment_id="c2", release_id=R2, status="done")
    states = {(R1, "c1"): done, (R2, "c2"): other}
    # c2 of R1 is loaded, the stored c2 is R2's (a release no longer loaded): it does not apply.
    assert states_by_commitment(states, [(R1, "c1"), (R1, "c2"), (R1, "c3")]) == {"c1": done}


def test_a_reminder_row_carries_its_release_and_a_digest_none(store: Store) -> None:
    reminder = Occurrence(
        kind="reminder", key="reminder:c1:d7", channel="C1", at=NOW, commitment_id="c1", release_id=R2
    )
    got = store.claim(reminder, now=NOW, owner="a", lease=LEASE, late=False)
    digest = store.claim(occ(), now=NOW, owner="a", lease=LEASE, late=False)
    assert got is not None and digest is not None
    assert (got.release_id, got.to_occurrence()) == (R2, reminder)
    assert digest.release_id is None and digest.to_occurrence().release_id is None
    # A row whose stored occurrence has no release (logged before v0003) takes the column's.
    with store.engine.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == digest.id).values(release_id=R1))
    row = store.get(digest.id)
    assert row is not None and row.to_occurrence().release_id == R1


def test_an_older_click_does_not_overwrite_a_newer_one(store: Store) -> None:
    assert store.set_done("c1", release_id=R1, by="U1", now=NOW + dt.timedelta(minutes=1))
    assert not store.reopen("c1", release_id=R1, by="U2", now=NOW)  # processed late by a slow instance
    state = store.state("c1", release_id=R1)
    assert (state.status, state.updated_by) == ("done", "U1")


# ---- replay protection -------------------------------------------------------------------------


def test_first_sight_is_true_once_per_key_within_the_ttl(store: Store) -> None:
    ttl = dt.timedelta(minutes=5)
    assert store.first_sight("sig:1", now=NOW, ttl=ttl)
    assert not store.first_sight("sig:1", now=NOW + dt.timedelta(minutes=4), ttl=ttl)
    assert store.first_sight("sig:2", now=NOW, ttl=ttl)
    # Past the ttl the key is new again (Slack's 5-minute window refuses it before it gets here).
    assert store.first_sight("sig:1", now=NOW + ttl, ttl=ttl)
    assert not store.first_sight("sig:1", now=NOW + ttl, ttl=ttl)


def test_first_sight_is_true_for_exactly_one_of_racing_instances(store: Store, store_url: str) -> None:
    stores = [Store(store_url) for _ in range(4)]
    try:
        ttl = dt.timedelta(minutes=5)
        for i in range(5):
            got = race(4, lambda t, i=i: stores[t].first_sight(f"sig:{i}", now=NOW, ttl=ttl))
            assert sum(got) == 1, got
    finally:
        for s in stores:
            s.close()


def test_first_sight_forgets_old_keys(store: Store) -> None:
    from bot.schedule.store import seen_requests

    ttl = dt.timedelta(minutes=5)
    for i in range(3):
        assert store.first_sight(f"old:{i}", now=NOW, ttl=ttl)
    assert store.first_sight("new", now=NOW + dt.timedelta(minutes=10), ttl=ttl)
    with store.engine.connect() as conn:
        keys = set(conn.execute(text("SELECT key FROM seen_requests")).scalars())
    assert keys == {"new"} and seen_requests.name == "seen_requests"


def test_two_presses_at_once_change_the_state_once(store_url: str) -> None:
    # Two instances (two Stores on one database) handle Done, and Snooze, for the same commitment at the
    # same moment: exactly one of each wins, so exactly one reminder message is rewritten.
    with Store(store_url) as a, Store(store_url) as b:
        until = NOW + dt.timedelta(days=1)
        snoozes = [
            a.snooze("c1", release_id=R1, until=until, by="U1", now=NOW),
            b.snooze("c1", release_id=R1, until=until, by="U2", now=NOW),
        ]
        assert sorted(snoozes) == [False, True]
        later = until + dt.timedelta(days=1)
        assert b.snooze("c1", release_id=R1, until=later, by="U2", now=until), "a snooze that ran out"
        dones = [a.set_done("c1", release_id=R1, by="U1", now=NOW + dt.timedelta(days=3))]
        dones.append(b.set_done("c1", release_id=R1, by="U2", now=NOW + dt.timedelta(days=3)))
        assert dones == [True, False]
        nine = NOW + dt.timedelta(days=9)
        assert not a.snooze("c1", release_id=R1, until=nine, by="U3", now=NOW + dt.timedelta(days=4))
        assert a.state("c1", release_id=R1).status == "done"
        assert a.reopen("c1", release_id=R1, by="U3", now=NOW + dt.timedelta(days=5))


def test_latest_reminders_are_the_newest_sent_one_per_channel_of_that_commitment_only(store: Store) -> None:
    def sent(key: str, channel: str, minutes: int, *, release_id: str | None = R1) -> str:
        at = NOW + dt.timedelta(minutes=minutes)
        o = occ(key, channel=channel, at=at).model_copy(update={"commitment_id": key.split(":")[1]})
        d = store.claim(o.model_copy(update={"release_id": release_id}), now=at, owner="a", lease=LEASE, late=False)
        assert d is not None
        ts = f"{minutes}.000001"
        assert store.mark_sent(d.id, ts=ts, now=at, owner="a")
        return ts

    sent("reminder:c_1:d7", "C1", 1)
    newest = sent("reminder:c_1:d1", "C1", 2)
    in_dm = sent("reminder:c_1:d1", "U0DM00001", 3)
    sent("reminder:cx1:d1", "C1", 4)  # `_` is no wildcard: another commitment
    sent("reminder:c_10:d1", "C1", 5)  # the prefix is reminder:<id>: with its colon
    sent("reminder:c_1:d0", "C2", 6, release_id=R2)  # a namesake of another release
    # Pending (not sent): nothing to rewrite.
    assert store.claim(occ("reminder:c_1:d0", channel="C3"), now=NOW, owner="a", lease=LEASE, late=False)
    found = store.latest_reminders("c_1", release_id=R1, limit=10)
    assert [(d.channel, d.message_ts) for d in found] == [("U0DM00001", in_dm), ("C1", newest)]
    assert len(store.latest_reminders("c_1", release_id=R1, limit=1)) == 1
