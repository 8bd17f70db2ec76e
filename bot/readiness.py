"""GET /readyz: the delivery log answers, the bot token is still valid, and the scheduler still ticks."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

logger = logging.getLogger(__name__)

# auth.test errors that mean the token itself is no good (as opposed to Slack being slow or down).
TOKEN_DEAD = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
# The scheduler counts as stalled after this many tick intervals without a tick (and never under a minute:
# a large fan-out keeps one tick busy for a while).
STALE_TICKS = 4
MIN_STALE_SECONDS = 60.0
# A tick still running (posting a large fan-out at Slack's pace) counts as alive this many times longer.
BUSY_FACTOR = 10
CHECK_TIMEOUT = 3.0


class StoreLike(Protocol):
    dialect: str
    url: str
    engine: Engine


class ServiceLike(Protocol):
    @property
    def last_tick(self) -> dt.datetime | None: ...

    def clock(self) -> dt.datetime: ...

    @property
    def ticking(self) -> bool: ...


class ReadinessChecks:
    """The three checks behind /readyz; each reason is short and fixed, the details go to the log (once)."""

    def __init__(
        self,
        *,
        store: StoreLike | None,
        client: AsyncWebClient | None,
        service: ServiceLike | None,
        tick_seconds: float,
        auth_every: float,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.client = client if client is not None and client.token else None
        self.service = service
        self.stale_after = max(STALE_TICKS * tick_seconds, MIN_STALE_SECONDS)
        self.auth_every = auth_every
        self.monotonic = monotonic
        self.started: dt.datetime | None = service.clock() if service is not None else None
        self._token: tuple[float, str | None] | None = None
        self._token_lock = asyncio.Lock()
        self._db_pending: asyncio.Future[None] | None = None
        self._last_reasons: dict[str, str | None] = {}

    async def report(self) -> tuple[bool, dict[str, Any]]:
        checks = {
            "database": await self.database(),
            "slack_token": await self.token(),
            "scheduler": self.scheduler(),
        }
        reasons = {name: reason for name, reason in checks.items() if reason is not None}
        for name, reason in checks.items():
            if self._last_reasons.get(name, None) != reason:
                # One line when a check changes state, not one per probe.
                if reason is None:
                    logger.info("readiness: %s ok again", name)
                else:
                    logger.warning("readiness: %s: %s", name, reason)
                self._last_reasons[name] = reason
        report: dict[str, Any] = {
            "status": "ready" if not reasons else "not ready",
            "checks": {name: reason or "ok" for name, reason in checks.items()},
        }
        if reasons:
            report["reasons"] = [f"{name}: {reason}" for name, reason in reasons.items()]
        return not reasons, report

    # ---- database ----------------------------------------------------------------------------
    async def database(self) -> str | None:
        if self.store is None:
            return None
        if self._db_pending is not None and not self._db_pending.done():
            # The previous probe is still stuck in a connect: do not pile up threads behind it.
            return "unreachable (the last check has not returned)"
        self._db_pending = asyncio.ensure_future(asyncio.to_thread(_probe, self.store))
        try:
            await asyncio.wait_for(asyncio.shield(self._db_pending), timeout=CHECK_TIMEOUT)
        except TimeoutError:
            return f"unreachable (no answer within {CHECK_TIMEOUT:g} s)"
        except Exception as exc:
            logger.debug("database probe failed", exc_info=True)
            return f"unreachable ({_describe(exc)})"
        return None

    # ---- Slack -------------------------------------------------------------------------------
    async def token(self) -> str | None:
        """auth.test at most every `auth_every` seconds; only a dead token counts, not a slow Slack."""
        if self.client is None:
            return None
        async with self._token_lock:
            now = self.monotonic()
            if self._token is not None and now - self._token[0] < self.auth_every:
                return self._token[1]
            previous = self._token[1] if self._token is not None else None
            try:
                await asyncio.wait_for(self.client.auth_test(), timeout=CHECK_TIMEOUT)
                reason = None
            except SlackApiError as exc:
                error = str(exc.response.get("error", "")) if exc.response is not None else ""
                reason = f"bot token refused by Slack ({error})" if error in TOKEN_DEAD else previous
            except Exception:
                # Slack unreachable or slow says nothing about the token: keep what we knew.
                reason = previous
            self._token = (now, reason)
            return reason

    # ---- scheduler ---------------------------------------------------------------------------
    def scheduler(self) -> str | None:
        service = self.service
        if service is None:
            return None
        last = service.last_tick or self.started
        if last is None:
            return None
        age = (service.clock() - last).total_seconds()
        if service.ticking:
            if age > self.stale_after * BUSY_FACTOR:
                return f"one tick has been running for {age:.0f} s"
            return None
        if age > self.stale_after:
            return f"no tick for {age:.0f} s (expected every {self.stale_after / STALE_TICKS:g} s)"
        return None


def _probe(store: StoreLike) -> None:
    """One real round trip to the delivery log; a SQLite file that is gone is not silently re-created."""
    if store.dialect == "sqlite":
        database = make_url(store.url).database
        if database and database != ":memory:":
            path = Path(database).expanduser()
            if not path.is_file():
                raise FileNotFoundError("the SQLite file is missing")
            # mode=rw: never create the file; a new connection, since a pooled one keeps a deleted file open.
            with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=CHECK_TIMEOUT)) as conn:
                conn.execute("SELECT 1 FROM deliveries LIMIT 1").fetchall()
            return
    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _describe(exc: BaseException) -> str:
    # The type only: a driver's message can carry a host name or a path, and /readyz is unauthenticated.
    return type(exc).__name__
