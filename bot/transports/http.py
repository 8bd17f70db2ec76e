"""HTTP mode: an ASGI app (POST /slack/events, GET /healthz, GET /readyz) served by uvicorn."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

import uvicorn
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
# Slack's own payloads are far smaller; anything bigger is not from Slack.
MAX_BODY = 1024 * 1024
# Slack's rule: a request whose timestamp is further than this from our clock is refused (replays).
MAX_CLOCK_SKEW = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# Rejections are counted and summarised once per interval, so no sender can grow the log faster.
REJECTION_INTERVAL = 10.0


def signature_problem(secret: bytes, body: bytes, headers: Mapping[str, str], *, now: float) -> str | None:
    """None when Slack signed `body` with `secret`; else why not, in a few fixed words (never a header's value).

    Slack's scheme (v0): HMAC-SHA256 of `v0:<timestamp>:<body>`. Anything malformed (a timestamp that
    is not a plain number, a huge or negative one, a signature of the wrong shape) is a refusal, not
    an error.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return "unsigned"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed timestamp"
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return "stale timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed signature"
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    return None


class RejectionLog:
    """The log of refused requests: the first of an interval gets a line, the rest one summary line with counts.

    Whatever an unauthenticated sender does, this writes at most two lines per interval, and never
    any part of a request but its size and path.
    """

    def __init__(self, *, interval: float = REJECTION_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._window_end: float | None = None
        self._counts: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None

    def reject(self, status: int, reason: str, *, size: int, path: str) -> None:
        now = self.clock()
        if self._window_end is not None and now >= self._window_end:
            self.flush()
        if self._window_end is not None:
            self._counts[f"{status} {reason}"] += 1
            return
        self._window_end = now + self.interval
        logger.warning(
            "refused a %d-byte request to %s with %d: %s (more refusals are counted: one line per %g s)",
            size,
            path,
            status,
            reason,
            self.interval,
        )
        try:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self.flush)
        except RuntimeError:  # no loop (a direct call in a test): the next rejection flushes
            self._timer = None

    def flush(self) -> None:
        """Write the summary of the interval so far, if anything was counted, and start a new one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._counts:
            total = sum(self._counts.values())
            detail = ", ".join(f"{n} × {what}" for what, n in self._counts.most_common())
            logger.warning("refused %d more request(s) in the last %g s: %s", total, self.interval, detail)
        self._counts.clear()
        self._window_end = None


class CountInvalidHTTP(logging.Filter):
    """uvicorn logs a line per unparseable HTTP request: count those with the other refusals instead."""

    def __init__(self, rejections: RejectionLog):
        super().__init__()
        self.rejections = rejections

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Invalid HTTP request"):
            self.rejections.reject(400, "not HTTP", size=0, path="the port")
            return False
        return True


class Readiness(Protocol):
    """What /readyz asks: ready or not, and a JSON-able report with the reasons."""

    async def report(self) -> tuple[bool, dict[str, Any]]: ...


class MalformedBody(ValueError):
    """A body Bolt cannot parse: bad JSON, or JSON that is not an object. Slack never sends one."""


def build_bolt_request(raw_body: str, headers: dict[str, str], query: str = "") -> AsyncBoltRequest:
    """A Bolt request whose body is parsed correctly.

    Bolt 1.30 treats any form body containing the substring "payload" as an interactivity payload,
    so `/g7 payload` would arrive as an empty body and go unanswered. Interactivity bodies have a
    `payload` field; a slash command's form merely mentions the word in its text.

    Bolt parses the body before anything checks the signature, so anyone can send one it chokes on
    (`payload=x`, `{x`, `[1]`): that raises MalformedBody rather than a traceback and a 500.
    """
    try:
        # {**headers}: Bolt's parameter is an invariant dict of str | Sequence[str].
        request = AsyncBoltRequest(body=raw_body, query=query, headers={**headers})
    except (ValueError, AttributeError, TypeError) as exc:
        raise MalformedBody(f"not a Slack request body ({type(exc).__name__})") from exc
    if request.body or not raw_body or raw_body.lstrip().startswith("{"):
        return request
    form = dict(parse_qsl(raw_body, keep_blank_values=True))
    if "payload" in form:
        return request
    request.body = form
    request.context = build_async_context(AsyncBoltContext({}), form)
    return request


class SlackASGI:
    """The bot's ASGI application: Slack's events endpoint (signature checked first), health and readiness."""

    def __init__(
        self,
        app: AsyncApp,
        *,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
        signing_secret: str | None = None,
        readiness: Readiness | None = None,
        rejections: RejectionLog | None = None,
    ):
        self.app = app
        self.ready = False
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        # Checked here, before Bolt parses or logs anything: Bolt logs the body of a badly signed request.
        secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", None)
        self.secret = secret.encode() if secret else None
        self.readiness = readiness
        self.rejections = rejections or RejectionLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            if self.ready:
                await _respond(send, 200, b'{"status":"ok"}', "application/json")
            else:
                await _respond(send, 503, b'{"status":"starting"}', "application/json")
            return
        if path == READY_PATH and method in ("GET", "HEAD"):
            await self._ready(send)
            return
        if path != EVENTS_PATH:
            await _respond(send, 404, b"Not Found")
            return
        if method != "POST":
            await _respond(send, 405, b"Method Not Allowed", extra=[(b"allow", b"POST")])
            return
        body = await _read_body(receive)
        if body is None:
            self.rejections.reject(413, "body over 1 MiB", size=MAX_BODY, path=path)
            await _respond(send, 413, b"Payload Too Large")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.secret is not None:
            problem = signature_problem(self.secret, body, headers, now=time.time())
            if problem is not None:
                self.rejections.reject(401, problem, size=len(body), path=path)
                await _respond(send, 401, b'{"error":"invalid request"}', "application/json")
                return
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            # Slack sends UTF-8; a replacement character would make Bolt's own signature check fail (and log).
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            self.rejections.reject(400, "body not UTF-8", size=len(body), path=path)
            await _respond(send, 400, b"Bad Request")
            return
        try:
            request = build_bolt_request(text, headers, query)
        except MalformedBody as exc:
            # No traceback and no body in the log, whoever sent it.
            self.rejections.reject(400, str(exc), size=len(body), path=path)
            await _respond(send, 400, b"Bad Request")
            return
        response = await self.app.async_dispatch(request)
        out_headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, values in response.headers.items()
            for value in values
            if name.lower() != "content-length"
        ]
        await _respond(send, response.status, response.body.encode("utf-8"), extra=out_headers, content_type=None)

    async def _ready(self, send: Send) -> None:
        if not self.ready:
            ok, report = False, {"status": "starting"}
        elif self.readiness is None:
            ok, report = True, {"status": "ready"}
        else:
            ok, report = await self.readiness.report()
        await _respond(send, 200 if ok else 503, json.dumps(report).encode(), "application/json")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.on_startup is not None:
                    await self.on_startup()
                self.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                self.rejections.flush()
                # uvicorn re-raises SIGTERM once serve() returns: stop the scheduler here, not after.
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str | None = "text/plain; charset=utf-8",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    headers.extend(extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_server(
    app: AsyncApp,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    signing_secret: str | None = None,
    readiness: Readiness | None = None,
) -> uvicorn.Server:
    """uvicorn, the production ASGI server (not Bolt's development server)."""
    asgi = SlackASGI(
        app, on_startup=on_startup, on_shutdown=on_shutdown, signing_secret=signing_secret, readiness=readiness
    )
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        access_log=False,
        log_level=log_level.lower(),
        server_header=False,
    )
    # uvicorn configured its loggers just now (Config.__init__); the filter goes on after.
    uvicorn_errors = logging.getLogger("uvicorn.error")
    for old in [f for f in uvicorn_errors.filters if isinstance(f, CountInvalidHTTP)]:
        uvicorn_errors.removeFilter(old)
    uvicorn_errors.addFilter(CountInvalidHTTP(asgi.rejections))
    return uvicorn.Server(config)
