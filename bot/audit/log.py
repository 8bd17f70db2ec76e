"""Writing and reading audit_log: one entry per change, in the change's own transaction; never updated or deleted."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ColumnElement, Table, and_, false, func, select
from sqlalchemy.engine import Connection, Row

from bot.audit.models import AuditEntry, Change

if TYPE_CHECKING:
    from bot.schedule.store import Store

logger = logging.getLogger(__name__)

# A change that keeps meeting another instance's changes to the same row gives up (and records nothing).
_ATTEMPTS = 5
# Columns that say who last changed a state row and when: the audit entry itself says that.
_BOOKKEEPING = {"updated_by", "updated_at"}


def _table() -> Table:
    from bot.schedule.store import audit_log

    return audit_log


def _json(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def snapshot(
    table: Table, row: Row[Any] | None, key: Mapping[str, object], columns: Collection[str] | None = None
) -> dict[str, Any] | None:
    """A state row as the audit keeps it: every column but its key and bookkeeping (or only `columns`, those
    the change is about), JSON-ready; None: no row."""
    if row is None:
        return None
    values = row._mapping
    kept = [c.name for c in table.c if c.name not in key and c.name not in _BOOKKEEPING]
    return {name: _json(values[name]) for name in kept if columns is None or name in columns}


def _unchanged(table: Table, row: Row[Any]) -> ColumnElement[bool]:
    """The stored row is still exactly `row` (JSON columns aside, which have no equality in PostgreSQL)."""
    values = row._mapping
    return and_(*(c.is_not_distinct_from(values[c.name]) for c in table.c if not isinstance(c.type, JSON)))


def record_state_change(
    tx: Callable[[], AbstractContextManager[Connection]],
    attempt: Callable[[Connection, ColumnElement[bool]], bool],
    *,
    table: Table,
    key: Mapping[str, object],
    change: Change,
    at: dt.datetime,
    columns: Collection[str] | None = None,
) -> bool:
    """Run `attempt` (a compare-and-set upsert of `table`'s row `key`) and, if it changed the row, append the entry.

    Both happen in one transaction. `attempt` gets a further condition, that the row is still the one read
    as "before", so the entry's before is exact even when another instance changes the row in between; when
    that is why it failed, it is tried again on the new row. A press that lost (the compare-and-set refused
    it) writes nothing. `columns`: the state's columns the entry's before and after show (default: all).
    """
    where = [table.c[name] == value for name, value in key.items()]
    for _ in range(_ATTEMPTS):
        with tx() as conn:
            before = conn.execute(select(table).where(*where)).first()
            guard = false() if before is None else _unchanged(table, before)
            if attempt(conn, guard):
                after = conn.execute(select(table).where(*where)).first()
                _insert(
                    conn,
                    change,
                    at=at,
                    before=snapshot(table, before, key, columns),
                    after=snapshot(table, after, key, columns),
                )
                return True
            now_row = conn.execute(select(table).where(*where)).first()
            if (before is None and now_row is None) or (
                before is not None and now_row is not None and tuple(before) == tuple(now_row)
            ):
                return False  # the compare-and-set itself refused it
    logger.warning("%s on %s not recorded: the row kept changing under it", change.action, change.commitment_id)
    return False


def _insert(
    conn: Connection,
    change: Change,
    *,
    at: dt.datetime,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> int:
    values = {**change.model_dump(), "at": at, "before": before, "after": after}
    row = conn.execute(_table().insert().values(**values).returning(_table().c.id)).first()
    assert row is not None
    return int(row[0])


class AuditLog:
    """The audit record of one database. It appends and reads; there is no way here to change or remove an entry."""

    def __init__(self, store: Store):
        self._engine = store.engine

    def record(
        self,
        change: Change,
        *,
        at: dt.datetime,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry for a change made elsewhere (a reload, a digest posted now); its own transaction."""
        with self._engine.begin() as conn:
            entry_id = _insert(conn, change, at=at, before=before, after=after)
            row = conn.execute(select(_table()).where(_table().c.id == entry_id)).one()
        return _entry(row)

    def entries(self, *, commitment_id: str | None = None, limit: int = 20, offset: int = 0) -> list[AuditEntry]:
        """Newest first; for one commitment if given."""
        table = _table()
        stmt = select(table).order_by(table.c.id.desc()).limit(limit).offset(offset)
        if commitment_id is not None:
            stmt = stmt.where(table.c.commitment_id == commitment_id)
        with self._engine.connect() as conn:
            return [_entry(row) for row in conn.execute(stmt)]

    def count(self, *, commitment_id: str | None = None) -> int:
        table = _table()
        stmt = select(func.count()).select_from(table)
        if commitment_id is not None:
            stmt = stmt.where(table.c.commitment_id == commitment_id)
        with self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def __iter__(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first."""
        table = _table()
        with self._engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.id)).all()
        return iter([_entry(row) for row in rows])


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry.model_validate(dict(row._mapping))
