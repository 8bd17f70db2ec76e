"""The delivery log and commitment states: SQLite for one instance, PostgreSQL for several."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from bot.audit import table as audit_table
from bot.audit.models import Change
from bot.errors import ConfigError, DatabaseTooNew
from bot.migrations import revisions
from bot.schedule.occurrence import CommitmentState, Occurrence, StateKey

logger = logging.getLogger(__name__)

# failed: Slack refused it for good (not_in_channel, ...); held: it may have been posted and Slack's
# history could not tell, so it is neither re-sent nor forgotten. Both are final until an admin acts.
DeliveryStatus = Literal["pending", "sent", "skipped", "failed", "held"]
STATUSES: tuple[DeliveryStatus, ...] = ("pending", "sent", "skipped", "failed", "held")
Identity = tuple[str, str, str, dt.datetime]

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_MIGRATING = threading.Lock()
# Any constant works: it only has to be the same for every instance of the bot.
_PG_SCHEMA_LOCK = 0x67375F6C6F67
_ERROR_MAX = 2000
# The one release the bot shipped before it held a library: v0003 files older states and reminders under it.
LEGACY_RELEASE_ID = "meti-2025-12-10-g7-idt"


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out; SQLite keeps naive UTC text, PostgreSQL timestamptz.

    SQLite compares these as text, so every value must be UTC in one format for `<`, `=` and the
    unique constraint to agree with time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the delivery log stores aware UTC times only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("scheduled_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("late", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(255)),
    Column("lease_until", UtcDateTime()),
    Column("next_attempt_at", UtcDateTime()),
    Column("last_error", Text),
    Column("message_ts", String(32)),
    Column("sent_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    # The whole occurrence (lang, timezone, ids), so a retry can render what the first attempt would have.
    Column("occurrence", JSON),
    # Fencing token: every claim adds one, so a holder that slept through a takeover cannot send.
    Column("lease_epoch", Integer, nullable=False, default=0, server_default="0"),
    # When a send last began: from then on the post may be in Slack, until history or an answer says.
    Column("send_started_at", UtcDateTime()),
    # History checks of an unknown outcome that failed (rate limited, 5xx): enough of them and it is held.
    Column("checks", Integer, nullable=False, default=0, server_default="0"),
    # A reminder's release (its commitment's); NULL for a digest, which spans releases. Not part of the
    # identity: keys were unique before releases were and stay as they were, so nothing is posted twice.
    Column("release_id", String(255)),
    UniqueConstraint("kind", "key", "channel", "scheduled_at", name="uq_deliveries_identity"),
    CheckConstraint(
        "status IN ('pending', 'sent', 'skipped', 'failed', 'held')",
        name="ck_deliveries_status",
    ),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_scheduled_at", "scheduled_at"),
    Index("ix_deliveries_message", "channel", "message_ts"),
)

commitment_states = Table(
    "commitment_states",
    metadata,
    Column("commitment_id", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("snoozed_until", UtcDateTime()),
    Column("updated_by", String(255)),
    Column("updated_at", UtcDateTime()),
    Column("release_id", String(255), nullable=False),
    # Who pressed "I'll take it" and when (v0005); NULL: nobody has taken it.
    Column("assignee", String(255)),
    Column("assigned_at", UtcDateTime()),
    # The date an admin set with `/g7 admin due` on top of the data file's, and whether it is confirmed;
    # NULL: as in the data file (bot.schedule.effective).
    Column("due_override", Date),
    Column("due_confirmed", Boolean),
    PrimaryKeyConstraint("release_id", "commitment_id", name="pk_commitment_states"),
    CheckConstraint("status IN ('open', 'done')", name="ck_commitment_states_status"),
)

# Signed Slack requests already executed (replay protection), shared by every instance.
seen_requests = Table(
    "seen_requests",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("seen_at", UtcDateTime(), nullable=False),
    Index("ix_seen_requests_seen_at", "seen_at"),
)

# Who changed what, from where, before -> after (bot.audit): appended in the change's own transaction.
audit_log = audit_table.define(metadata, UtcDateTime())
# The state columns each kind of change is about: what its audit entry's before and after show.
_STATUS_COLUMNS = ("status", "snoozed_until")
_ASSIGN_COLUMNS = ("assignee", "assigned_at")
_DUE_COLUMNS = ("due_override", "due_confirmed")


@dataclass(frozen=True)
class DbTimeouts:
    """How long one session may wait or hold: a stalled peer delays the others by seconds, not minutes.

    PostgreSQL: `lock` (lock_timeout) bounds waiting for a row another session locked, `statement`
    (statement_timeout) any one statement, `idle_in_transaction` a session that stopped mid-transaction
    (a frozen instance), after which the server ends it and its locks go. SQLite: `busy` bounds waiting
    for the write lock.
    """

    lock: float = 3.0
    statement: float = 10.0
    idle_in_transaction: float = 10.0
    busy: float = 5.0


class Delivery(BaseModel):
    """One row of the delivery log.

    `reclaimed` is not a column: claim() and claim_retries() set it when they took over a row that
    already existed, i.e. an earlier attempt may have reached Slack and the channel must be checked
    before posting again.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    kind: str
    key: str
    channel: str
    scheduled_at: dt.datetime
    status: DeliveryStatus
    late: bool
    attempts: int
    lease_owner: str | None
    lease_until: dt.datetime | None
    next_attempt_at: dt.datetime | None
    last_error: str | None
    message_ts: str | None
    sent_at: dt.datetime | None
    created_at: dt.datetime
    occurrence: Occurrence | None = None
    lease_epoch: int = 0
    send_started_at: dt.datetime | None = None
    checks: int = 0
    release_id: str | None = None
    reclaimed: bool = False

    @property
    def outcome_unknown(self) -> bool:
        """A send began and neither Slack's answer nor its history has said whether it landed."""
        return self.status == "pending" and self.send_started_at is not None

    @property
    def identity(self) -> Identity:
        return (self.kind, self.key, self.channel, self.scheduled_at)

    def to_occurrence(self) -> Occurrence:
        """The occurrence as claimed; rows without one (written by hand) get the defaults.

        A row logged before the database knew releases has its release in the column only (v0003 filled it).
        """
        if self.occurrence is not None:
            if self.occurrence.release_id is None and self.release_id is not None:
                return self.occurrence.model_copy(update={"release_id": self.release_id})
            return self.occurrence
        return Occurrence.model_validate(
            {
                "kind": self.kind,
                "key": self.key,
                "channel": self.channel,
                "at": self.scheduled_at,
                "release_id": self.release_id,
            }
        )


def _delivery(row: Row[Any], *, reclaimed: bool = False) -> Delivery:
    values = dict(row._mapping)
    return Delivery.model_validate({**values, "reclaimed": reclaimed})


class Store:
    """The delivery log: every post is claimed here before it is sent, and marked after.

    Every method takes `now`; nothing here reads the clock. Each method is one short transaction that
    starts with its write, so SQLite takes the write lock first and waits (busy timeout) instead of
    failing to upgrade a read lock.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        timeouts: DbTimeouts | None = None,
        release_of: Mapping[str, str] | None = None,
    ):
        """Open the database at `url` and migrate it to head (see upgrade(); `release_of` is passed on)."""
        parsed = make_url(url)
        self.dialect: str = parsed.get_backend_name()
        if self.dialect not in {"sqlite", "postgresql"}:
            raise ConfigError(
                "database url",
                [("url", f"expected sqlite:///path or postgresql+psycopg://..., got {parsed.drivername}")],
            )
        self.url = parsed.render_as_string(hide_password=True)
        self.timeouts = timeouts or DbTimeouts()
        self.engine: Engine
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, parsed.database, echo=echo, busy=self.timeouts.busy)
        else:
            self.engine = _postgres_engine(url, echo=echo, timeouts=self.timeouts)
        self._purged_at: dt.datetime | None = None
        try:
            self.upgrade(release_of=release_of)
        except DatabaseTooNew:
            self.engine.dispose()  # nothing will use it: a newer g7bot's database is left as it is
            raise

    # ---- lifecycle ---------------------------------------------------------------------------
    def upgrade(self, *, release_of: Mapping[str, str] | None = None, attempts: int = 5) -> None:
        """Migrate the database to the newest schema (Alembic, bot/migrations); safe for instances starting together.

        A database made by the release before migrations existed (tables, no alembic_version) is stamped
        with the baseline first, which is its schema exactly, then upgraded like any other.

        `release_of` maps a commitment id to its release id (the loaded library's): v0003 files the
        states and reminders of a database from a single-release bot under it, and any id it does not
        name under LEGACY_RELEASE_ID, the one release earlier versions shipped.
        """
        self._schema(lambda conn: _migrate(conn, release_of=release_of), attempts=attempts, unless=_at_head)

    def downgrade(self, revision: str) -> None:
        """Take the schema back to `revision` (an admin's step before running an older version).

        v0003 goes back to "0002" unless one commitment id has states in two releases, which 0002
        cannot hold: then it refuses (RuntimeError saying which) and changes nothing.
        """
        self._schema(lambda conn: _downgrade(conn, revision), attempts=1)

    def _schema(
        self,
        change: Callable[[Connection], None],
        *,
        attempts: int,
        unless: Callable[[Connection], bool] | None = None,
    ) -> None:
        """Run `change` in one transaction that no other instance's schema change overlaps.

        `unless` is read first, without a lock: when it holds (the schema is at head) nothing is locked,
        so a start does not wait for a peer's writes.
        """
        for attempt in range(1, attempts + 1):
            try:
                # Alembic's op and context are module globals: one migration at a time per process.
                with _MIGRATING, self.engine.begin() as conn:
                    if unless is not None and unless(conn):
                        return
                    if self.dialect == "postgresql":
                        # A migration may wait for locks longer than a tick's statements are allowed to.
                        conn.execute(text("SET LOCAL statement_timeout = '120s'"))
                        conn.execute(text("SET LOCAL lock_timeout = '60s'"))
                        # Serialises concurrent upgrades of one database; released at commit.
                        conn.execute(select(func.pg_advisory_xact_lock(_PG_SCHEMA_LOCK)))
                    else:
                        # The write lock before the version is read again: a second instance waits here
                        # (busy timeout) and then finds the schema at head. Without it pysqlite would run
                        # each DDL statement in a transaction of its own, and a failed step would half-apply.
                        # (The look above read no row into a transaction: pysqlite begins one only to write.)
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    change(conn)
                return
            except DBAPIError as exc:
                # SQLite has no advisory lock: another instance created a table between our look and ours.
                # A database that cannot be reached is no race: the caller waits for it (open_store).
                if attempt == attempts or _unreachable(exc):
                    raise
                logger.info("schema upgrade raced another instance (%s); trying again", type(exc.orig).__name__)

    def create_all(self) -> None:
        """The schema at its newest (an alias of upgrade(), kept for callers of the first release)."""
        self.upgrade()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _insert(self, table: Table = deliveries) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    # ---- replay protection -------------------------------------------------------------------
    def first_sight(self, key: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """True when `key` was not seen within `ttl` before `now`, recording it; atomic across instances.

        An entry older than `ttl` counts as unseen and is refreshed in the same statement; entries older
        than `ttl` are deleted at most once per `ttl` by each instance.
        """
        with self._tx() as conn:
            first = (
                conn.execute(self._first_sight_stmt, {"key": key, "now": now, "cutoff": now - ttl}).first() is not None
            )
            if self._purged_at is None or now - self._purged_at >= ttl:
                conn.execute(delete(seen_requests).where(seen_requests.c.seen_at <= now - ttl))
                self._purged_at = now
        return first

    @functools.cached_property
    def _first_sight_stmt(self) -> Any:
        # Built once: constructing an ON CONFLICT statement costs more than running it (it is on every request).
        stmt = self._insert(seen_requests).values(key=bindparam("key"), seen_at=bindparam("now"))
        return stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"seen_at": stmt.excluded.seen_at},
            where=seen_requests.c.seen_at <= bindparam("cutoff"),
        ).returning(seen_requests.c.key)

    # ---- claiming ----------------------------------------------------------------------------
    def claim(
        self, occ: Occurrence, *, now: dt.datetime, owner: str, lease: dt.timedelta, late: bool
    ) -> Delivery | None:
        """Lease `occ` to `owner`; None when another owner holds it or it is already sent, skipped or final.

        Every claim, first or takeover, adds one to the row's lease_epoch: the fencing token the holder
        shows at every later step (begin_send, the marks).
        """
        values = _new_row(occ, now=now, status="pending", late=late)
        values.update(lease_owner=owner, lease_until=now + lease, lease_epoch=1)
        stmt = (
            self._insert()
            .values(**values)
            .on_conflict_do_nothing(index_elements=["kind", "key", "channel", "scheduled_at"])
            .returning(*deliveries.c)
        )
        with self._tx() as conn:
            row = conn.execute(stmt).first()
            if row is not None:
                return _delivery(row)
            takeover = (
                update(deliveries)
                .where(
                    deliveries.c.kind == occ.kind,
                    deliveries.c.key == occ.key,
                    deliveries.c.channel == occ.channel,
                    deliveries.c.scheduled_at == occ.at,
                    _claimable(now, owner),
                )
                .values(**_lease(owner, now, lease), late=deliveries.c.late | late)
                .returning(*deliveries.c)
            )
            row = conn.execute(takeover).first()
        return _delivery(row, reclaimed=True) if row is not None else None

    def claim_retries(
        self,
        *,
        now: dt.datetime,
        owner: str,
        lease: dt.timedelta,
        limit: int,
        exclude: Collection[int] = (),
    ) -> list[Delivery]:
        """Take pending rows whose retry time has come and whose lease expired or is `owner`'s own.

        `owner`'s own rows come back at once (after a database error, say), except those in `exclude`:
        the ones this process is still working on.
        """
        candidates = select(deliveries.c.id).where(_claimable(now, owner))
        if exclude:
            candidates = candidates.where(deliveries.c.id.not_in(list(exclude)))
        candidates = candidates.order_by(deliveries.c.scheduled_at, deliveries.c.id).limit(limit)
        with self._tx() as conn:
            ids = list(conn.execute(candidates).scalars())
        claimed: list[Delivery] = []
        for delivery_id in ids:
            # Another instance may take any of these between the select and here: the WHERE decides.
            stmt = (
                update(deliveries)
                .where(deliveries.c.id == delivery_id, _claimable(now, owner))
                .values(**_lease(owner, now, lease))
                .returning(*deliveries.c)
            )
            with self._tx() as conn:
                row = conn.execute(stmt).first()
            if row is not None:
                claimed.append(_delivery(row, reclaimed=True))
        return claimed

    # ---- the fence ---------------------------------------------------------------------------
    def _held_by(self, delivery_id: int, owner: str, epoch: int | None) -> Any:
        """The row is pending and still leased to `owner` under `epoch` (no takeover since)."""
        clauses = [deliveries.c.id == delivery_id, deliveries.c.status == "pending", deliveries.c.lease_owner == owner]
        if epoch is not None:
            clauses.append(deliveries.c.lease_epoch == epoch)
        return and_(*clauses)

    def begin_send(
        self,
        delivery_id: int,
        *,
        owner: str,
        epoch: int,
        now: dt.datetime,
        lease: dt.timedelta,
        settle: dt.timedelta,
    ) -> bool:
        """Right before a send: True when the row is still `owner`'s under `epoch`, recording that a send began.

        In one statement: renews the lease from `now`, sets send_started_at (from now on the post may be
        in Slack) and next_attempt_at = now + settle (nobody, this owner included, acts on the row
        again before Slack has had `settle` to show the post in its history), and resets `checks`.
        """
        stmt = (
            update(deliveries)
            .where(self._held_by(delivery_id, owner, epoch))
            # A new send is a new unknown: its failed history checks are counted afresh.
            .values(lease_until=now + lease, send_started_at=now, next_attempt_at=now + settle, checks=0)
        )
        with self._tx() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def renew(
        self, delivery_id: int, *, owner: str, now: dt.datetime, lease: dt.timedelta, epoch: int | None = None
    ) -> bool:
        """Extend `owner`'s lease from `now` (while it waits); False when the row is no longer ours."""
        stmt = update(deliveries).where(self._held_by(delivery_id, owner, epoch)).values(lease_until=now + lease)
        with self._tx() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    # ---- outcomes ----------------------------------------------------------------------------
    def mark_sent(self, delivery_id: int, *, ts: str, now: dt.datetime, owner: str) -> bool:
        """Record the post. A post is a fact: it is recorded even if our lease was lost or the row held."""
        values = {
            "status": "sent",
            "message_ts": ts,
            "sent_at": now,
            "lease_owner": owner,
            "lease_until": None,
            "next_attempt_at": None,
        }
        open_ = and_(deliveries.c.id == delivery_id, deliveries.c.status.in_(["pending", "held"]))
        with self._tx() as conn:
            ours = conn.execute(
                update(deliveries).where(open_, deliveries.c.lease_owner == owner).values(**values)
            ).rowcount
            if ours == 1:
                return True
            taken = conn.execute(update(deliveries).where(open_).values(**values)).rowcount
            recorded = None if taken else conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        if taken == 1:
            logger.warning("delivery %s: lease lost before it was marked sent (ts %s)", delivery_id, ts)
            return True
        if recorded is not None and recorded.status == "sent" and recorded.message_ts == ts:
            # Another instance found this very post in the history and recorded it first.
            logger.info("delivery %s: posted as %s, already recorded", delivery_id, ts)
            return False
        logger.error(
            "delivery %s: posted as %s but the log already had it as %s (%s)",
            delivery_id,
            ts,
            recorded.status if recorded is not None else "missing",
            recorded.message_ts if recorded is not None else None,
        )
        return False

    def mark_failed(
        self,
        delivery_id: int,
        *,
        error: str,
        now: dt.datetime,
        retry_at: dt.datetime,
        owner: str,
        epoch: int | None = None,
    ) -> bool:
        """Slack said no (nothing was posted): count the attempt, release the lease, retry at `retry_at`."""
        return self._release(
            delivery_id,
            owner,
            epoch,
            what="failure",
            next_at=retry_at,
            error=error,
            attempts=deliveries.c.attempts + 1,
            send_started_at=None,
        )

    def mark_unknown(
        self,
        delivery_id: int,
        *,
        error: str,
        now: dt.datetime,
        check_at: dt.datetime,
        owner: str,
        epoch: int | None = None,
    ) -> bool:
        """The send's outcome is unknown (timeout, dropped answer, 5xx): release it, to be looked for at `check_at`.

        send_started_at stays set, so whoever takes it next looks in Slack's history before any resend.
        """
        return self._release(
            delivery_id,
            owner,
            epoch,
            what="unknown outcome",
            next_at=check_at,
            error=error,
            where=deliveries.c.send_started_at.is_not(None),
            attempts=deliveries.c.attempts + 1,
        )

    def mark_check_failed(
        self,
        delivery_id: int,
        *,
        error: str,
        now: dt.datetime,
        retry_at: dt.datetime,
        owner: str,
        epoch: int | None = None,
    ) -> bool:
        """A history check of an unknown outcome could not be made: count it, look again at `retry_at`."""
        return self._release(
            delivery_id,
            owner,
            epoch,
            what="failed check",
            next_at=retry_at,
            error=error,
            checks=deliveries.c.checks + 1,
        )

    def _release(
        self,
        delivery_id: int,
        owner: str,
        epoch: int | None,
        *,
        what: str,
        next_at: dt.datetime,
        error: str,
        where: Any = None,
        **values: Any,
    ) -> bool:
        """Give up `owner`'s lease on a still-pending row, to be taken again at `next_at`, noting `error`."""
        held = self._held_by(delivery_id, owner, epoch)
        stmt = (
            update(deliveries)
            .where(held if where is None else and_(held, where))
            .values(
                lease_owner=None, lease_until=None, next_attempt_at=next_at, last_error=error[:_ERROR_MAX], **values
            )
        )
        return self._mark(stmt, delivery_id, owner, what)

    def finish(
        self,
        delivery_id: int,
        *,
        status: Literal["failed", "held", "skipped"],
        reason: str,
        now: dt.datetime,
        owner: str,
        epoch: int | None = None,
    ) -> bool:
        """End the row as `failed` (Slack refused it for good), `held` (an outcome nobody can tell) or
        `skipped` (refused before any send, e.g. for an externally shared channel)."""
        stmt = (
            update(deliveries)
            .where(self._held_by(delivery_id, owner, epoch))
            .values(
                status=status,
                lease_owner=None,
                lease_until=None,
                next_attempt_at=None,
                last_error=reason[:_ERROR_MAX],
            )
        )
        return self._mark(stmt, delivery_id, owner, status)

    def _mark(self, stmt: Any, delivery_id: int, owner: str, what: str) -> bool:
        with self._tx() as conn:
            done = bool(conn.execute(stmt).rowcount == 1)
        if not done:
            logger.warning("delivery %s: %s not recorded, the lease is no longer %s's", delivery_id, what, owner)
        return done

    def record_skipped(self, occ: Occurrence, *, now: dt.datetime, reason: str) -> bool:
        """Log `occ` as skipped unless it is already in the log; True when this call recorded it."""
        values = _new_row(occ, now=now, status="skipped", late=True)
        values["last_error"] = reason[:_ERROR_MAX]
        stmt = (
            self._insert()
            .values(**values)
            .on_conflict_do_nothing(index_elements=["kind", "key", "channel", "scheduled_at"])
            .returning(deliveries.c.id)
        )
        with self._tx() as conn:
            return conn.execute(stmt).first() is not None

    def problems(self, *, limit: int) -> list[Delivery]:
        """What admins should see: failed and held rows, rows skipped for a Slack Connect channel (reason
        external_channel, bot.schedule.connect), and pending ones that failed at least once."""
        stmt = (
            select(deliveries)
            .where(
                or_(
                    deliveries.c.status.in_(["failed", "held"]),
                    and_(deliveries.c.status == "skipped", deliveries.c.last_error.like("external_channel%")),
                    and_(deliveries.c.status == "pending", deliveries.c.attempts + deliveries.c.checks > 0),
                )
            )
            .order_by(deliveries.c.scheduled_at.desc(), deliveries.c.id.desc())
            .limit(limit)
        )
        with self._tx() as conn:
            return [_delivery(row) for row in conn.execute(stmt)]

    # ---- reading -----------------------------------------------------------------------------
    def known(self, since: dt.datetime) -> set[Identity]:
        """Identities in the log (any status) scheduled at or after `since`."""
        stmt = select(deliveries.c.kind, deliveries.c.key, deliveries.c.channel, deliveries.c.scheduled_at).where(
            deliveries.c.scheduled_at >= since
        )
        with self._tx() as conn:
            return {(r.kind, r.key, r.channel, r.scheduled_at) for r in conn.execute(stmt)}

    def deliveries(self, **filters: object) -> list[Delivery]:
        """Rows whose columns equal the given values, e.g. deliveries(status="pending", channel="C1")."""
        unknown = set(filters) - set(deliveries.c.keys())
        if unknown:
            raise TypeError(f"not a deliveries column: {', '.join(sorted(unknown))}")
        stmt = (
            select(deliveries)
            .where(*(deliveries.c[name] == value for name, value in filters.items()))
            .order_by(deliveries.c.scheduled_at, deliveries.c.id)
        )
        with self._tx() as conn:
            return [_delivery(row) for row in conn.execute(stmt)]

    def get(self, delivery_id: int) -> Delivery | None:
        with self._tx() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        return _delivery(row) if row is not None else None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(STATUSES, 0)
        stmt = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        with self._tx() as conn:
            for status, count in conn.execute(stmt):
                out[status] = count
        return out

    def last_sent_at(self, channel: str | None = None) -> dt.datetime | None:
        """When a digest or reminder was last recorded sent (to `channel`, or anywhere); None if never."""
        stmt = select(func.max(deliveries.c.sent_at)).where(
            deliveries.c.status == "sent", deliveries.c.kind != "notice"
        )
        if channel is not None:
            stmt = stmt.where(deliveries.c.channel == channel)
        with self._tx() as conn:
            value: dt.datetime | None = conn.execute(stmt).scalar()
        return value

    def find_by_message(self, channel: str, ts: str) -> Delivery | None:
        stmt = select(deliveries).where(deliveries.c.channel == channel, deliveries.c.message_ts == ts)
        with self._tx() as conn:
            row = conn.execute(stmt).first()
        return _delivery(row) if row is not None else None

    def latest_reminders(self, commitment_id: str, *, release_id: str, limit: int) -> list[Delivery]:
        """The latest sent reminder of `commitment_id` in each channel or DM (keys reminder:<id>:…), newest
        first, at most `limit` of them (read from at most 10 times as many rows)."""
        stmt = (
            select(deliveries)
            .where(
                deliveries.c.kind == "reminder",
                deliveries.c.status == "sent",
                deliveries.c.message_ts.is_not(None),
                deliveries.c.key.startswith(f"reminder:{commitment_id}:", autoescape=True),
                # A row logged before the database knew releases has none.
                or_(deliveries.c.release_id.is_(None), deliveries.c.release_id == release_id),
            )
            .order_by(deliveries.c.sent_at.desc(), deliveries.c.id.desc())
            .limit(limit * 10)
        )
        latest: dict[str, Delivery] = {}
        with self._tx() as conn:
            for row in conn.execute(stmt):
                delivery = _delivery(row)
                latest.setdefault(delivery.channel, delivery)
                if len(latest) >= limit:
                    break
        return list(latest.values())

    # ---- commitment states -------------------------------------------------------------------
    # A state is keyed by (release id, commitment id): the commitment of one release, never a namesake
    # in another. `states_by_commitment` (bot.schedule.occurrence) picks the loaded library's.
    def states(self) -> dict[StateKey, CommitmentState]:
        """Every stored state, by (release id, commitment id)."""
        with self._tx() as conn:
            rows = conn.execute(select(commitment_states)).all()
        return {(row.release_id, row.commitment_id): CommitmentState.model_validate(dict(row._mapping)) for row in rows}

    def state(self, commitment_id: str, *, release_id: str) -> CommitmentState:
        """The state of `commitment_id` of release `release_id`; open (the default) when nobody changed it."""
        stmt = select(commitment_states).where(
            commitment_states.c.release_id == release_id, commitment_states.c.commitment_id == commitment_id
        )
        with self._tx() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return CommitmentState(commitment_id=commitment_id, release_id=release_id)
        return CommitmentState.model_validate(dict(row._mapping))

    def set_done(
        self, commitment_id: str, *, release_id: str, by: str, now: dt.datetime, audit: Change | None = None
    ) -> bool:
        """Mark done; False when it already was (two presses at once, on any instances: one wins)."""
        still_open = commitment_states.c.status != "done"
        return self._set_state(
            commitment_id,
            release_id=release_id,
            status="done",
            snoozed_until=None,
            by=by,
            now=now,
            only_if=still_open,
            audit=audit,
        )

    def snooze(
        self,
        commitment_id: str,
        *,
        release_id: str,
        until: dt.datetime,
        by: str,
        now: dt.datetime,
        audit: Change | None = None,
    ) -> bool:
        """Snooze until `until`; False when it is done or already snoozed past `now` (one of two presses wins)."""
        awake = and_(
            commitment_states.c.status != "done",
            or_(commitment_states.c.snoozed_until.is_(None), commitment_states.c.snoozed_until <= now),
        )
        return self._set_state(
            commitment_id,
            release_id=release_id,
            status="open",
            snoozed_until=until,
            by=by,
            now=now,
            only_if=awake,
            audit=audit,
        )

    def reopen(
        self, commitment_id: str, *, release_id: str, by: str, now: dt.datetime, audit: Change | None = None
    ) -> bool:
        """Open again (undo Done); with `audit`, only a done one, and the entry is written with the change."""
        was_done = None if audit is None else commitment_states.c.status == "done"
        return self._set_state(
            commitment_id,
            release_id=release_id,
            status="open",
            snoozed_until=None,
            by=by,
            now=now,
            only_if=was_done,
            audit=audit,
        )

    def _set_state(
        self,
        commitment_id: str,
        *,
        release_id: str,
        status: Literal["open", "done"],
        snoozed_until: dt.datetime | None,
        by: str,
        now: dt.datetime,
        only_if: Any = None,
        audit: Change | None = None,
    ) -> bool:
        """Upsert; a click older than the stored one (a slow instance) does not overwrite a newer one.

        `only_if` is a further condition on the stored row, checked in the same statement (compare and set).
        With `audit`, a change that happens is recorded in audit_log in the same transaction; one that
        does not (the compare and set refused it) records nothing.
        """
        values: Mapping[str, object] = {
            "release_id": release_id,
            "commitment_id": commitment_id,
            "status": status,
            "snoozed_until": snoozed_until,
            "updated_by": by,
            "updated_at": now,
        }
        insert = (
            postgresql.insert(commitment_states) if self.dialect == "postgresql" else sqlite.insert(commitment_states)
        )
        stmt = insert.values(**values)

        def attempt(conn: Connection, unchanged: Any = None) -> bool:
            upsert = stmt.on_conflict_do_update(
                index_elements=["release_id", "commitment_id"],
                set_={name: stmt.excluded[name] for name in ("status", "snoozed_until", "updated_by", "updated_at")},
                where=and_(
                    or_(
                        commitment_states.c.updated_at.is_(None),
                        commitment_states.c.updated_at <= stmt.excluded.updated_at,
                    ),
                    true() if only_if is None else only_if,
                    true() if unchanged is None else unchanged,
                ),
            )
            return conn.execute(upsert.returning(commitment_states.c.commitment_id)).first() is not None

        if audit is None:
            with self._tx() as conn:
                return attempt(conn)
        from bot.audit.log import record_state_change  # it reads audit_log from here

        key = {"release_id": release_id, "commitment_id": commitment_id}
        return record_state_change(
            self._tx, attempt, table=commitment_states, key=key, change=audit, at=now, columns=_STATUS_COLUMNS
        )

    def assign(
        self,
        commitment_id: str,
        *,
        release_id: str,
        assignee: str,
        now: dt.datetime,
        audit: Change | None = None,
    ) -> bool:
        """Give the commitment to `assignee` ("I'll take it"); False when somebody already has it.

        Compare and set in one statement: of two presses at once, on any instances, one wins and the other
        changes nothing (read `state()` to tell its presser who has it). Done, Snooze and their times are
        left as they are: taking a follow-up is not acting on it.
        """
        return self._upsert_state(
            commitment_id,
            release_id=release_id,
            values={"assignee": assignee, "assigned_at": now},
            only_if=commitment_states.c.assignee.is_(None),
            now=now,
            audit=audit,
            columns=_ASSIGN_COLUMNS,
        )

    def set_due(
        self,
        commitment_id: str,
        *,
        release_id: str,
        due: dt.date | None,
        confirmed: bool | None,
        now: dt.datetime,
        audit: Change | None = None,
    ) -> bool:
        """Set the date an admin gave (`due`, and whether it is `confirmed`) over the data file's; None, None
        drops it. False when the stored values are these already (nothing changed, nothing recorded)."""
        different = or_(
            commitment_states.c.due_override.is_distinct_from(due),
            commitment_states.c.due_confirmed.is_distinct_from(confirmed),
        )
        return self._upsert_state(
            commitment_id,
            release_id=release_id,
            values={"due_override": due, "due_confirmed": confirmed},
            only_if=different,
            now=now,
            audit=audit,
            columns=_DUE_COLUMNS,
        )

    def _upsert_state(
        self,
        commitment_id: str,
        *,
        release_id: str,
        values: Mapping[str, object],
        only_if: Any,
        now: dt.datetime,
        audit: Change | None,
        columns: Collection[str],
    ) -> bool:
        """Write `values` into the commitment's state row (made open if there is none) when `only_if` holds of
        the stored row; with `audit`, the entry (before -> after of `columns`) in the same transaction."""
        insert = (
            postgresql.insert(commitment_states) if self.dialect == "postgresql" else sqlite.insert(commitment_states)
        )
        stmt = insert.values(release_id=release_id, commitment_id=commitment_id, status="open", **values)

        def attempt(conn: Connection, unchanged: Any = None) -> bool:
            upsert = stmt.on_conflict_do_update(
                index_elements=["release_id", "commitment_id"],
                set_={name: stmt.excluded[name] for name in values},
                where=and_(only_if, true() if unchanged is None else unchanged),
            )
            return conn.execute(upsert.returning(commitment_states.c.commitment_id)).first() is not None

        if audit is None:
            with self._tx() as conn:
                return attempt(conn)
        from bot.audit.log import record_state_change

        key = {"release_id": release_id, "commitment_id": commitment_id}
        return record_state_change(
            self._tx, attempt, table=commitment_states, key=key, change=audit, at=now, columns=columns
        )


def _unreachable(exc: DBAPIError) -> bool:
    """The error came from connecting (server down, refused, unknown database), not from a statement."""
    return bool(exc.connection_invalidated) or exc.statement is None or "connect" in str(exc.orig).lower()


def _claimable(now: dt.datetime, owner: str) -> Any:
    """Pending, its retry time (if any) has come, and nobody else's live lease is on it."""
    return and_(
        deliveries.c.status == "pending",
        or_(
            deliveries.c.lease_until.is_(None),
            deliveries.c.lease_until < now,
            # Our own claims come back at once (after a database error, say): only others wait the lease out.
            deliveries.c.lease_owner == owner,
        ),
        or_(deliveries.c.next_attempt_at.is_(None), deliveries.c.next_attempt_at <= now),
    )


def _lease(owner: str, now: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    """The values of a (re)claim: a new lease and a new epoch, which fences off every earlier holder."""
    return {"lease_owner": owner, "lease_until": now + lease, "lease_epoch": deliveries.c.lease_epoch + 1}


def _new_row(occ: Occurrence, *, now: dt.datetime, status: DeliveryStatus, late: bool) -> dict[str, Any]:
    return {
        "kind": occ.kind,
        "key": occ.key,
        "channel": occ.channel,
        "scheduled_at": occ.at,
        "status": status,
        "late": late,
        "attempts": 0,
        "created_at": now,
        "occurrence": occ.model_dump(mode="json"),
        "release_id": occ.release_id,
    }


def _alembic_config(conn: Connection, *, release_of: Mapping[str, str] | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    # Read by v0003 (bot.migrations.versions.v0003_release_key): whose release an old commitment id is.
    config.attributes["release_of"] = dict(release_of or {})
    return config


def head_revision() -> str:
    """The newest migration's revision id (read from the migration files: alembic is imported only to migrate)."""
    return revisions.head_revision()


def _known_revisions() -> frozenset[str]:
    return revisions.known_revisions()


def _refuse_unknown_revisions(conn: Connection) -> None:
    """DatabaseTooNew when a newer g7bot migrated the database: a revision this code has no migration for."""
    for revision in conn.execute(text("SELECT version_num FROM alembic_version")).scalars():
        if revision not in _known_revisions():
            shown = conn.engine.url.render_as_string(hide_password=True)
            raise DatabaseTooNew(database=shown, revision=revision, head=head_revision())


def _at_head(conn: Connection) -> bool:
    if "alembic_version" not in inspect(conn).get_table_names():
        return False
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]


def _migrate(conn: Connection, *, release_of: Mapping[str, str] | None = None) -> None:
    """Bring the schema on `conn` to head; nothing to do when it is there already (another instance did it)."""
    if _at_head(conn):
        return
    names = set(inspect(conn).get_table_names())
    if "alembic_version" in names:
        _refuse_unknown_revisions(conn)
    from alembic import command

    config = _alembic_config(conn, release_of=release_of)
    if "deliveries" in names and "alembic_version" not in names:
        # Written by the release before migrations: its tables are the baseline's, exactly.
        logger.info("delivery log without a schema version: stamping it with the baseline")
        command.stamp(config, "0001")
    command.upgrade(config, "head")


def _downgrade(conn: Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(conn), revision)


def _postgres_engine(url: str, *, echo: bool, timeouts: DbTimeouts) -> Engine:
    engine = create_engine(url, echo=echo, pool_pre_ping=True)
    settings = {
        "lock_timeout": timeouts.lock,
        "statement_timeout": timeouts.statement,
        "idle_in_transaction_session_timeout": timeouts.idle_in_transaction,
    }

    @event.listens_for(engine, "connect")
    def _session_timeouts(dbapi_conn: Any, _record: object) -> None:
        # Per session, not in the URL: the URL's own `options` (e.g. a search_path) must stay as given.
        cursor = dbapi_conn.cursor()
        try:
            for name, seconds in settings.items():
                cursor.execute(f"SET {name} = {max(1, round(seconds * 1000))}")
        finally:
            cursor.close()
        dbapi_conn.commit()

    return engine


def _sqlite_engine(url: str, database: str | None, *, echo: bool, busy: float) -> Engine:
    busy_ms = max(1, round(busy * 1000))
    memory = not database or database == ":memory:"
    if not database or memory:
        engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": busy})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: object) -> None:
        cursor = dbapi_conn.cursor()
        try:
            if not memory:
                # WAL: readers never wait for the writer; the busy timeout makes writers queue.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    return engine


__all__ = [
    "LEGACY_RELEASE_ID",
    "STATUSES",
    "DbTimeouts",
    "Delivery",
    "DeliveryStatus",
    "Identity",
    "Store",
    "UtcDateTime",
    "audit_log",
    "head_revision",
]
