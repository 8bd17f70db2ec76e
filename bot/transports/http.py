"""HTTP mode: an ASGI app (POST /slack/events, GET /healthz) served by uvicorn."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
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
# Slack's own payloads are far smaller; anything bigger is not from Slack.
MAX_BODY = 1024 * 1024


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
    """The bot's ASGI application: Slack's events endpoint and a health check."""

    def __init__(
        self,
        app: AsyncApp,
        *,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
    ):
        self.app = app
        self.ready = False
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

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
        if path != EVENTS_PATH:
            await _respond(send, 404, b"Not Found")
            return
        if method != "POST":
            await _respond(send, 405, b"Method Not Allowed", extra=[(b"allow", b"POST")])
            return
        body = await _read_body(receive)
        if body is None:
            await _respond(send, 413, b"Payload Too Large")
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            request = build_bolt_request(body.decode("utf-8", errors="replace"), headers, query)
        except MalformedBody as exc:
            # Unsigned noise from anyone who can reach the port: no traceback, no body in the log.
            logger.warning("rejected a %d-byte request to %s: %s", len(body), path, exc)
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
) -> uvicorn.Server:
    """uvicorn, the production ASGI server (not Bolt's development server)."""
    config = uvicorn.Config(
        SlackASGI(app, on_startup=on_startup, on_shutdown=on_shutdown),
        host=host,
        port=port,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        access_log=False,
        log_level=log_level.lower(),
        server_header=False,
    )
    return uvicorn.Server(config)
