"""Bolt middleware every request passes: the installed workspace only, a replay acknowledged once, safe Bolt logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.runtime import FirstSight, Installation, Runtime, SeenInMemory
from bot.text import log_safe
from bot.transports.http import RejectionLog

logger = logging.getLogger(__name__)

# Slack refuses a request timestamp older than this, so a replay is only possible within it.
REPLAY_WINDOW = dt.timedelta(minutes=5)
# Socket Mode envelopes carry no signature; the transport passes the envelope id in this header so
# a redelivered (unacknowledged) envelope is recognised.
ENVELOPE_HEADER = "x-slack-envelope-id"
# Replays acknowledged and ignored, for the log: summarised like refused requests.
replays = RejectionLog()


def acknowledged() -> BoltResponse:
    """200 with an empty body: Slack shows nothing, and nothing was run."""
    return BoltResponse(status=200, body="")


def request_key(req: AsyncBoltRequest) -> str | None:
    """What makes a request unique: its signature and timestamp (HTTP), else the envelope or Slack's ids.

    Hashed to a fixed length (the seen_requests key is at most 255 characters), behind a readable kind.
    """
    signature = _header(req, "x-slack-signature")
    timestamp = _header(req, "x-slack-request-timestamp")
    if signature and timestamp:
        return _key("sig", f"{timestamp}:{signature}")
    envelope = _header(req, ENVELOPE_HEADER)
    if envelope:
        return _key("envelope", envelope)
    if req.mode == "socket_mode" and isinstance(req.body, dict):
        # A redelivered envelope carries the same payload: Slack's own id of the event or interaction.
        for name in ("event_id", "trigger_id"):
            value = req.body.get(name)
            if isinstance(value, str) and value:
                return _key(name, value)
    return None


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def kind_of(body: object) -> str:
    """What a request is, for a log line: its type or command, never its content."""
    if not isinstance(body, dict):
        return "unknown"
    return log_safe(body.get("command") or body.get("type") or "unknown", limit=40)


def _header(req: AsyncBoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return str(values[0]) if values else None


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Installed workspace first, then replays; Bolt has verified the signature and run auth.test before."""

    @app.middleware
    async def only_the_installed_workspace(
        context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        result = context.authorize_result
        if runtime.workspace.installation is None and result is not None and result.bot_token:
            # Bolt's single-workspace authorization has just run auth.test with the bot token: that is the install.
            installed = Installation(team_id=result.team_id, enterprise_id=result.enterprise_id)
            runtime.workspace.learn(installed)
            logger.info("serving workspace %s", log_safe(installed.describe()))
        if not runtime.admits(team_id=context.team_id, enterprise_id=context.enterprise_id):
            logger.warning(
                "refused a request from workspace %s (enterprise %s): not the installed one",
                log_safe(context.team_id),
                log_safe(context.enterprise_id),
            )
            return acknowledged()
        return await next()

    @app.middleware
    async def replays_are_acknowledged_once(
        req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        key = request_key(req)
        if key is None:
            return await next()
        seen = runtime.seen
        try:
            first = await _first_sight(seen, key, now=runtime.clock())
        except Exception as exc:
            # The request is authentic and every action that changes anything needs the same database:
            # answering (read-only) beats refusing while the database is down.
            logger.warning("could not record a request as seen (%s); handling it anyway", type(exc).__name__)
            first = True
        if not first:
            # Whoever captured a signed request can replay it: counted, one line per interval.
            replays.reject(200, f"replay ({key.split(':', 1)[0]})", size=len(req.raw_body), path=req.mode)
            return acknowledged()
        return await next()


async def _first_sight(seen: FirstSight, key: str, *, now: dt.datetime) -> bool:
    if isinstance(seen, SeenInMemory):
        return seen.first_sight(key, now=now, ttl=REPLAY_WINDOW)
    import asyncio

    # A database round trip: off the event loop.
    return await asyncio.to_thread(seen.first_sight, key, now=now, ttl=REPLAY_WINDOW)


class WithoutRequestBody(logging.Filter):
    """Bolt logs the whole body of a badly signed request: keep the line, drop the body."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "body:" in message:
            # The headers quoted before it come from the sender too: escaped and shortened.
            record.msg = log_safe(message.split("body:", 1)[0].rstrip(" ,("), limit=300) + " (body not logged))"
            record.args = ()
        return True


_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class LogSafe(logging.Filter):
    """Bolt's own lines may quote a request (an unhandled one, say): escape them into one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # Only lines that would break (most of Bolt's are JSON-escaped already and stay as they are).
        if _LINE_BREAKING.search(message):
            record.msg, record.args = log_safe(message, limit=2000), ()
        return True


def quiet_bolt_logs() -> None:
    """Install the filters once per process on the loggers Bolt quotes requests to."""
    for name, kind in (("slack_bolt.RequestVerification", WithoutRequestBody), ("slack_bolt", LogSafe)):
        target = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in target.filters):
            target.addFilter(kind())
