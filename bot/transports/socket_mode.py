"""Socket Mode: one outbound WebSocket to Slack, watched for silence, replaced with backoff, stoppable at any time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.listeners.middleware import ENVELOPE_HEADER

logger = logging.getLogger(__name__)

# apps.connections.open answers these when the app-level token itself is wrong: retrying cannot help.
# not_allowed_token_type: a bot token (xoxb-) was given as SLACK_APP_TOKEN.
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type"})

# The WebSocket URL carries a one-time connection ticket; anyone holding it can take the connection.
_URL = re.compile(r"\b(wss?://[^/\s'\"?]+)[^\s'\"]*")
_TOKEN = re.compile(r"\bx(?:app|ox[abposr])-[0-9A-Za-z-]+")


def redact(text: str) -> str:
    """`text` without Socket Mode URLs (past their host) or Slack tokens."""
    return _TOKEN.sub("(redacted token)", _URL.sub(r"\1/(redacted)", text))


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message holds a Socket Mode URL or a token (slack_sdk logs responses at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_REDACT = RedactSecrets()
# Loggers that see apps.connections.open's answer or our own connection details. A filter on a logger
# applies only to records logged on that very logger, so these are the exact names, not parents.
_GUARDED = ("slack_sdk.web.async_base_client", "slack_bolt", __name__)


def guard_logs() -> None:
    """Attach the redacting filter to the loggers that could carry the ticket or a token (idempotent)."""
    for name in _GUARDED:
        target = logging.getLogger(name)
        if _REDACT not in target.filters:
            target.addFilter(_REDACT)


@dataclass(frozen=True)
class SocketModeOptions:
    """How the connection is watched and replaced; the defaults suit Slack, tests shrink them to seconds."""

    ping_interval: float = 10.0  # our own pings keep proxies and NAT from idling the socket out
    silence: float = 30.0  # Slack pings every connection; this long without a ping or envelope means it is dead
    backoff: float = 1.0  # first delay after a failed attempt; doubles each time
    backoff_max: float = 60.0
    auth_attempts: int = 3  # app token refused this many times in a row: exit 78 instead of retrying forever
    connect_timeout: float = 10.0  # apps.connections.open and the WebSocket handshake, each
    close_timeout: float = 1.0  # a silent peer never answers our close frame
    handler_grace: float = 3.0  # on stop, let commands in progress send their acks


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry `attempt` (1-based): doubling from `base` up to `cap`, the upper half jittered.

    The jitter keeps many instances from reconnecting in step after a Slack outage; the lower half
    keeps a retry from coming right back.
    """
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 30))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class _AttemptFailed(Exception):
    def __init__(self, reason: str, *, retry_after: float = 0.0):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _AppTokenRefused(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


@dataclass
class _Ended:
    """Why a connection that was established came to an end."""

    reason: str
    hello: bool  # Slack greeted it, so it worked for a while: the failure count starts again
    routine: bool = False  # Slack's regular refresh: reconnect at once and log at INFO


class _Link(AsyncBaseSocketModeClient):
    """The one WebSocket, as Bolt's send_async_response expects to write acks to it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.logger = logger

    async def send_message(self, message: str) -> None:
        await self.ws.send_str(message)


def _describe(exc: BaseException) -> str:
    # aiohttp's connection errors quote the URL, ticket included.
    text = redact(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _Supervisor:
    app: AsyncApp
    app_token: str
    options: SocketModeOptions
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        base = self.app.client
        self.ssl = base.ssl
        self.proxy = base.proxy
        # A client of its own: no retry handlers (this loop owns the backoff) and a guarded logger.
        self.web = AsyncWebClient(
            base_url=base.base_url,
            timeout=int(self.options.connect_timeout),
            ssl=base.ssl,
            proxy=base.proxy,
            retry_handlers=[],
        )
        self.handlers: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Connect and keep a connection; returns only by cancellation, or raises ConfigError (app token refused)."""
        async with aiohttp.ClientSession() as session:
            failures = 0
            refusals = 0
            delay = 0.0
            while True:
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    url = await self._open()
                    ended = await self._hold(session, url)
                except _AppTokenRefused as refused:
                    refusals += 1
                    failures += 1
                    if refusals >= self.options.auth_attempts:
                        raise _refused_error(refused.error, refusals) from None
                    delay = self._delay(failures)
                    logger.warning(
                        "Socket Mode: Slack refused SLACK_APP_TOKEN (%s), attempt %d of %d; next attempt in %.1f s",
                        refused.error,
                        refusals,
                        self.options.auth_attempts,
                        delay,
                    )
                    continue
                except _AttemptFailed as failed:
                    refusals = 0  # "in a row": an outage in between says nothing about the token
                    failures += 1
                    delay = max(self._delay(failures), failed.retry_after)
                    logger.warning(
                        "Socket Mode: connection attempt %d failed (%s); next attempt in %.1f s",
                        failures,
                        failed.reason,
                        delay,
                    )
                    continue
                refusals = 0
                if ended.routine:
                    failures, delay = 0, 0.0
                    logger.info("Socket Mode: %s; reconnecting now", ended.reason)
                    continue
                # A connection that never said hello is one more failed attempt; one that did starts a new count.
                failures = failures + 1 if not ended.hello else 1
                delay = self._delay(failures)
                logger.warning("Socket Mode: %s; reconnecting in %.1f s (attempt %d)", ended.reason, delay, failures)

    def _delay(self, attempt: int) -> float:
        return backoff_delay(attempt, base=self.options.backoff, cap=self.options.backoff_max, rng=self.rng)

    async def _open(self) -> str:
        """apps.connections.open: a fresh WebSocket URL (with its one-time ticket)."""
        try:
            async with asyncio.timeout(self.options.connect_timeout):
                response = await self.web.apps_connections_open(app_token=self.app_token)
        except SlackApiError as exc:
            status = exc.response.status_code
            data = exc.response.data
            error = str(data.get("error") or "") if isinstance(data, dict) else ""
            if error in AUTH_ERRORS:
                raise _AppTokenRefused(error) from None
            retry_after = 0.0
            if status == 429:
                with contextlib.suppress(TypeError, ValueError):
                    retry_after = float(exc.response.headers.get("Retry-After", 0))
            reason = f"apps.connections.open answered HTTP {status} {error}".rstrip()
            raise _AttemptFailed(reason, retry_after=retry_after) from None
        except (SlackClientError, aiohttp.ClientError, OSError) as exc:
            # TimeoutError is an OSError: Slack did not answer within connect_timeout.
            raise _AttemptFailed(f"apps.connections.open: {_describe(exc)}") from None
        url = response.get("url")
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise _AttemptFailed("apps.connections.open gave no WebSocket URL")
        return url

    async def _hold(self, session: aiohttp.ClientSession, url: str) -> _Ended:
        """Serve one connection until it ends: closed, dropped, silent, or replaced at Slack's request."""
        try:
            async with asyncio.timeout(self.options.connect_timeout):
                ws = await session.ws_connect(
                    url,
                    autoping=False,  # Slack's pings are the liveness signal: we answer and count them ourselves
                    heartbeat=None,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self.options.close_timeout),
                    proxy=self.proxy,
                    ssl=self.ssl if self.ssl is not None else True,
                )
        except (aiohttp.ClientError, OSError) as exc:
            raise _AttemptFailed(f"WebSocket: {_describe(exc)}") from None
        pinger = asyncio.create_task(self._ping(ws))
        try:
            return await self._receive(ws)
        finally:
            pinger.cancel()
            await ws.close()

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> _Ended:
        link = _Link(ws)
        silence = self.options.silence
        heard = self.clock()
        hello = False
        while True:
            remaining = heard + silence - self.clock()
            if remaining <= 0:
                # bolt-python #1529: a socket can stay open while Slack no longer routes anything to it.
                return _Ended(f"Slack sent nothing for {silence:g} s (no ping, no envelope)", hello=hello)
            try:
                message = await ws.receive(timeout=remaining)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.PING:
                heard = self.clock()
                # A pong into a socket that just broke: the next receive reports it.
                with contextlib.suppress(aiohttp.ClientError, ConnectionError, RuntimeError):
                    await ws.pong(message.data)
            elif message.type == aiohttp.WSMsgType.TEXT:
                heard = self.clock()
                ended = self._on_text(link, message.data, hello=hello)
                if isinstance(ended, _Ended):
                    return ended
                hello = hello or ended
            elif message.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED}:
                return _Ended(f"the connection was closed (code {ws.close_code})", hello=hello)
            elif message.type == aiohttp.WSMsgType.ERROR:
                return _Ended(f"the connection failed ({_describe(ws.exception() or ConnectionError())})", hello=hello)
            # A PONG only answers our own ping: it does not show that Slack still delivers to this socket.

    def _on_text(self, link: _Link, data: str, *, hello: bool) -> _Ended | bool:
        """Handle one text frame; an _Ended when Slack asks for a new connection, else whether it was hello."""
        try:
            message = json.loads(data)
        except ValueError:
            logger.warning("Socket Mode: ignored a frame that is not JSON (%d bytes)", len(data))
            return False
        if not isinstance(message, dict):
            return False
        kind = message.get("type")
        if kind == "hello":
            logger.info("connected to Slack in Socket Mode")
            return True
        if kind == "disconnect":
            reason = str(message.get("reason") or "no reason given")
            if reason == "warning":  # Slack says it will refresh soon; the refresh_requested that follows acts
                return False
            if reason == "link_disabled":
                return _Ended(
                    "Slack ended the connection: Socket Mode is off in the app settings (link_disabled)", hello
                )
            return _Ended(f"Slack asked for a new connection ({reason})", hello, routine=reason == "refresh_requested")
        request = SocketModeRequest.from_dict(message)
        if request is None:
            logger.debug("Socket Mode: ignored a %s message without an envelope", kind)
            return False
        task = asyncio.create_task(self._dispatch(link, request))
        self.handlers.add(task)
        task.add_done_callback(self.handlers.discard)
        return False

    async def _dispatch(self, link: _Link, request: SocketModeRequest) -> None:
        # Only the type and id: the payload holds what users typed.
        logger.debug("Socket Mode: envelope %s (%s)", request.envelope_id, request.type)
        started = time.time()
        headers = dict(build_headers(request) or {})
        # Envelopes carry no signature: the replay guard (bot.listeners.middleware) keys on the envelope id.
        headers[ENVELOPE_HEADER] = request.envelope_id
        response = await self.app.async_dispatch(
            AsyncBoltRequest(mode="socket_mode", body=request.payload, headers=headers)
        )
        try:
            await send_async_response(link, request, response, started)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            # Slack sends an envelope again on the next connection when its ack is lost.
            logger.warning("Socket Mode: could not ack envelope %s (%s)", request.envelope_id, _describe(exc))

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self.options.ping_interval)
            try:
                await ws.ping(b"g7bot")
            except (aiohttp.ClientError, ConnectionError, RuntimeError):
                return  # the receive loop sees the broken connection, or the silence

    async def finish_handlers(self, timeout: float) -> None:
        """Let the commands being handled send their acks (bounded), then cancel the rest."""
        pending = set(self.handlers)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


def _refused_error(error: str, attempts: int) -> ConfigError:
    return ConfigError(
        "environment",
        [
            (
                "SLACK_APP_TOKEN",
                f"Slack refused the app-level token ({error}) {attempts} times in a row: generate a new one "
                "with the connections:write scope (Basic Information → App-Level Tokens) and restart",
            )
        ],
    )


async def run_socket_mode(
    app: AsyncApp,
    app_token: str,
    *,
    stop: asyncio.Event,
    options: SocketModeOptions | None = None,
    rng: random.Random | None = None,
) -> None:
    """Serve Slack over Socket Mode until `stop` is set, in whatever state the connection is.

    Raises ConfigError when Slack keeps refusing the app token.
    """
    guard_logs()
    supervisor = _Supervisor(app, app_token, options or SocketModeOptions(), rng=rng or random.Random())
    connection = asyncio.create_task(supervisor.run(), name="socket-mode")
    stopping = asyncio.create_task(stop.wait(), name="socket-mode-stop")
    try:
        await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not connection.done():
            await supervisor.finish_handlers(supervisor.options.handler_grace)
            # Cancelling works in every state: waiting for apps.connections.open, connected, or backing off.
            connection.cancel()
        await asyncio.wait({connection})
        await supervisor.finish_handlers(0)
        logger.info("Socket Mode stopped")
    if not connection.cancelled() and (error := connection.exception()) is not None:
        raise error
