"""A local stand-in for Slack's Web API and Socket Mode, for tests and benchmarks (loopback only).

Run it with `with SlackStandIn() as slack:`; point the bot at `slack.api_url` (SLACK_API_URL).
It records every call, answers the methods the bot uses, and can inject faults (429 with
Retry-After, 5xx, slow answers) and enforce Slack-like rate limits on chat.postMessage.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import WSMsgType, web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float


@dataclass
class Fault:
    """Answer the next `times` calls of `method` with `status` (and Retry-After), or delay them."""

    method: str
    status: int = 500
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0
    body: dict[str, Any] | None = None
    # Close the connection without answering (the client sees ServerDisconnectedError).
    disconnect: bool = False
    # Do the call's work first (a chat.postMessage is posted and shows in history at once), then delay,
    # disconnect or answer with the fault: Slack did it, but its answer comes late, never, or wrong.
    posted_first: bool = False
    # Answer with this text (and `content_type`) instead of Slack's JSON: a proxy's page, say.
    raw: str | None = None
    content_type: str = "text/html"
    # Answer 200 with a JSON body cut short and close the connection (the client cannot read the answer).
    truncated: bool = False


@dataclass
class RateLimit:
    """Slack-like limits for chat.postMessage: per channel (with a burst) and workspace-wide."""

    per_channel_per_sec: float = 1.0
    channel_burst: int = 1
    workspace_per_sec: float | None = None
    workspace_burst: int = 1


class _Bucket:
    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class SlackStandIn:
    host: str = "127.0.0.1"
    port: int = 0
    locales: dict[str, str] = field(default_factory=dict)
    # users.info `tz` by user (default Asia/Tokyo); None: the user has none (a bot, say), so it is left out.
    timezones: dict[str, str | None] = field(default_factory=dict)
    rate_limit: RateLimit | None = None
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Socket Mode: envelopes to push to a connected client, and the acks it sent back.
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    # Slack pings every Socket Mode connection every few seconds; None: never (a silent Slack).
    ws_ping_interval: float | None = 5.0
    on_call: Callable[[Call], None] | None = None
    # conversations.history leaves message metadata out (as if Slack had dropped it).
    strip_metadata: bool = False
    # Channels that are not plain internal ones: what conversations.info adds to its answer, e.g.
    # {"C1": {"is_ext_shared": True, "is_shared": True}} for a Slack Connect channel.
    channel_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Channels Slack refuses posts to, with its error, answered as Slack does (HTTP 200, ok false):
    # "not_in_channel", "channel_not_found" (conversations.info says so too), "is_archived" (info: is_archived).
    channel_errors: dict[str, str] = field(default_factory=dict)
    # Tokens Slack no longer accepts, with the error every method answers them ("token_revoked", "invalid_auth").
    token_errors: dict[str, str] = field(default_factory=dict)
    # The bot token's scopes; None: every scope (files.getUploadURLExternal checks files:write,
    # usergroups.users.list usergroups:read).
    scopes: frozenset[str] | None = None
    # The workspace's user groups: id -> member user ids (usergroups.users.list); others: no_such_subteam.
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    # Users conversations.open refuses, with Slack's error: "user_not_found", "user_disabled", "cannot_dm_bot".
    user_errors: dict[str, str] = field(default_factory=dict)
    # The app's Home tab (features.app_home.home_tab_enabled); off: views.publish answers not_enabled.
    home_tab_enabled: bool = True

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.rate_limited = 0
        self._buckets: dict[str, _Bucket] = {}
        self._workspace: _Bucket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._ws_clients: list[_Socket] = []
        self.ws_connected = threading.Event()
        # Every WebSocket URL apps.connections.open handed out carries a one-time ticket, as Slack's do.
        self.tickets: list[str] = []
        self._unused_tickets: set[str] = set()
        self.ws_connections = 0
        self._ws_changed = threading.Condition()
        self.ack_received = threading.Event()
        # The external upload flow: file id -> what getUploadURLExternal was told and the bytes POSTed
        # to its upload_url; `shared` is what completeUploadExternal shared, in order.
        self.uploads: dict[str, dict[str, Any]] = {}
        self.shared: list[dict[str, Any]] = []
        self._file_ids = itertools.count(1)
        # views.publish: every view published, in order, as (user id, view), and each user's current one.
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.home_views: dict[str, dict[str, Any]] = {}

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def __enter__(self) -> SlackStandIn:
        self._thread = threading.Thread(target=self._run, name="slack-standin", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            # An unclosed loop leaks its self-pipe sockets: a ResourceWarning, an error under pytest.
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        # slack_sdk sends some methods (users.info, conversations.history) as GET with query arguments.
        app.router.add_get("/api/{method}", self._api)
        app.router.add_get("/ws", self._ws)
        # files.getUploadURLExternal hands out upload URLs here (Slack's are on files.slack.com).
        app.router.add_post("/upload/{file_id}", self._upload)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._started.set()
        await self._stop.wait()
        for socket in list(self._ws_clients):
            await socket.ws.close()
        # Connections still open (e.g. a request the client aborted half-way) are closed here, not left to
        # the garbage collector, whose ResourceWarning would fail whichever test happens to run next.
        server = runner.server
        transports = list(getattr(server, "_connections", {}).values()) if server is not None else []
        await runner.cleanup()
        for transport in transports:
            if not transport.is_closing():
                transport.abort()
        # Closing a transport finishes in callbacks the loop runs next (aiohttp 3.14 closes a connection
        # whose request was never whole, e.g. one the client aborted, that way): let them run before
        # the loop is closed, or its socket is left open (a ResourceWarning, an error under pytest).
        for _ in range(3):
            await asyncio.sleep(0)

    # ---- helpers for tests -------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts(self) -> list[Call]:
        return self.calls_to("chat.postMessage")

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def push_envelope(self, envelope: dict[str, Any]) -> int:
        """Send a Socket Mode envelope to every connected client that is not silenced; how many got it."""
        assert self._loop is not None
        sent = 0
        for socket in list(self._ws_clients):
            if socket.silent or socket.ws.closed:
                continue
            future = asyncio.run_coroutine_threadsafe(socket.ws.send_str(json.dumps(envelope)), self._loop)
            try:
                future.result(5)
            except (ConnectionError, RuntimeError):  # it was closing
                continue
            sent += 1
        return sent

    def disconnect(self, reason: str) -> int:
        """Slack's `disconnect` message (refresh_requested, link_disabled, warning) to every client."""
        return self.push_envelope({"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}})

    def drop_connections(self) -> None:
        """Cut every WebSocket without a close frame, as a lost network or a restarted Slack host does."""
        assert self._loop is not None
        for socket in list(self._ws_clients):
            self._loop.call_soon_threadsafe(socket.transport.abort)

    def silence_connections(self) -> None:
        """The open WebSockets stay open but go quiet: no pings, no pongs, no envelopes, acks ignored.

        That is what a client sees when Slack stops routing to a connection it still holds open
        (bolt-python #1529). Connections opened later are healthy.
        """
        for socket in list(self._ws_clients):
            socket.silent = True

    def wait_for_connections(self, count: int, timeout: float) -> bool:
        """Until `count` WebSockets in all have been greeted with hello."""
        with self._ws_changed:
            return self._ws_changed.wait_for(lambda: self.ws_connections >= count, timeout)

    def open_connections(self) -> int:
        return sum(1 for socket in self._ws_clients if not socket.ws.closed)

    # ---- Web API ------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        args: dict[str, Any]
        if request.content_type == "application/json":
            args = json.loads(raw or b"{}")
        else:
            args = dict(parse_qsl(raw.decode(), keep_blank_values=True))
            args.update(request.query)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else args.get("token")
        call = Call(method, args, token, time.monotonic())
        fault = self._take_fault(method)
        with self._lock:
            self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        done: dict[str, Any] | web.Response | None = None
        if fault is not None and fault.posted_first:
            done = self._handle(method, args, token)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.disconnect and request.transport is not None:
                request.transport.close()
                return web.Response(status=204)
            if fault.raw is not None:
                return web.Response(text=fault.raw, status=fault.status, content_type=fault.content_type)
            if fault.truncated and request.transport is not None:
                cut = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "100"})
                await cut.prepare(request)
                await cut.write(b'{"ok": true, "ts": "1')
                request.transport.close()
                return cut
            if fault.status != 200 or fault.body is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                body = fault.body or {"ok": False, "error": "ratelimited" if fault.status == 429 else "fatal_error"}
                return web.json_response(body, status=fault.status, headers=headers)
        result = done if done is not None else self._handle(method, args, token)
        if isinstance(result, web.Response):
            return result
        return web.json_response(result)

    def _handle(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any] | web.Response:
        refused = self.token_errors.get(token or "")
        if refused is not None:
            return {"ok": False, "error": refused}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        result: dict[str, Any] | web.Response = handler(args, token)
        return result

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _m_auth_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not token:
            return {"ok": False, "error": "not_authed"}
        return {
            "ok": True,
            "url": "https://local.invalid/",
            "team": "Local",
            "user": "g7bot",
            "team_id": "T0LOCAL",
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
        }

    def _m_users_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = args.get("user", "")
        answer: dict[str, Any] = {"id": user, "name": user.lower()}
        # Slack gives the locale only when asked (include_locale=true; slack_sdk sends a bool as 1).
        if str(args.get("include_locale", "")).lower() in {"1", "true"}:
            answer["locale"] = self.locales.get(user, "ja-JP")
        # Slack gives every person's time zone (tz, its label and offset in seconds); a bot has none.
        tz = self.timezones.get(user, "Asia/Tokyo")
        if tz is not None:
            answer["tz"] = tz
            answer["tz_label"] = tz
            try:
                offset = dt.datetime.now(ZoneInfo(tz)).utcoffset()
            except (ZoneInfoNotFoundError, ValueError):
                offset = None  # a name Slack would not give: tests use it for a zone this machine lacks
            answer["tz_offset"] = int(offset.total_seconds()) if offset is not None else 0
        return {"ok": True, "user": answer}

    def _m_apps_connections_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not token or not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        ticket = f"ticket-{uuid.uuid4()}"
        with self._lock:
            self.tickets.append(ticket)
            self._unused_tickets.add(ticket)
        return {"ok": True, "url": f"ws://{self.host}:{self.port}/ws?ticket={ticket}&app_id=A0LOCAL"}

    def _rate_limited(self, channel: str) -> float:
        limit = self.rate_limit
        if limit is None:
            return 0.0
        with self._lock:
            if limit.workspace_per_sec is not None:
                if self._workspace is None:
                    self._workspace = _Bucket(limit.workspace_per_sec, limit.workspace_burst)
                wait = self._workspace.take()
                if wait:
                    return wait
            bucket = self._buckets.setdefault(channel, _Bucket(limit.per_channel_per_sec, limit.channel_burst))
            return bucket.take()

    def _m_chat_postMessage(self, args: dict[str, Any], token: str | None) -> dict[str, Any] | web.Response:
        channel = str(args.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        refused = self.channel_errors.get(channel)
        if refused is not None:
            return {"ok": False, "error": refused}
        wait = self._rate_limited(channel)
        if wait:
            with self._lock:
                self.rate_limited += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, round(wait + 0.4)))},
            )
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {
            "ts": ts,
            "channel": channel,
            "text": args.get("text"),
            "blocks": args.get("blocks"),
            "metadata": args.get("metadata"),
            # A bot token posts as the bot (auth.test's bot_id); any other token is someone else.
            "bot_id": "B0BOT" if (token or "").startswith("xoxb-") else None,
        }
        with self._lock:
            self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        key = (str(args.get("channel")), str(args.get("ts")))
        with self._lock:
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key].update(text=args.get("text"), blocks=args.get("blocks"))
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _m_conversations_history(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = str(args.get("channel"))
        oldest = float(args.get("oldest") or 0)
        with self._lock:
            found = [m for (c, _), m in self.messages.items() if c == channel and float(m["ts"]) >= oldest]
        if self.strip_metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": sorted(found, key=lambda m: m["ts"], reverse=True), "has_more": False}

    def _m_conversations_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        refused = self.channel_errors.get(channel)
        # A public channel needs channels:read, a private one groups:read (Slack's missing_scope names it).
        needed = "groups:read" if channel.startswith("G") else "channels:read"
        if self.scopes is not None and needed not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(self.scopes))}
        if not channel or refused == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        info: dict[str, Any] = {
            "id": channel,
            "name": channel.lower(),
            "is_channel": channel.startswith("C"),
            "is_private": channel.startswith("G"),
            "is_im": channel.startswith("D"),
            "is_archived": refused == "is_archived",
            "is_member": refused != "not_in_channel",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_connected_team_ids": [],
            "context_team_id": "T0LOCAL",
            "shared_team_ids": ["T0LOCAL"],
        }
        info.update(self.channel_info.get(channel, {}))
        return {"ok": True, "channel": info}

    def _m_conversations_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if len(users) != 1 or not users[0].startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        refused = self.user_errors.get(users[0])
        if refused is not None:
            return {"ok": False, "error": refused}
        # One DM channel per user, the same every time (Slack returns the existing one).
        return {"ok": True, "channel": {"id": "D" + users[0][1:]}}

    def dms(self, user: str) -> list[dict[str, Any]]:
        """The messages posted in the bot's DM with `user`, oldest first."""
        channel = "D" + user[1:]
        with self._lock:
            return sorted((m for (c, _), m in self.messages.items() if c == channel), key=lambda m: m["ts"])

    def _m_usergroups_users_list(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        # Slack: `usergroup` is required (invalid_arguments without it), an id that is no group of the
        # workspace is no_such_subteam, and the method needs usergroups:read (missing_scope, with `needed`).
        if self.scopes is not None and "usergroups:read" not in self.scopes:
            provided = ",".join(sorted(self.scopes))
            return {"ok": False, "error": "missing_scope", "needed": "usergroups:read", "provided": provided}
        group = str(args.get("usergroup") or "")
        if not group:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            members = self.usergroups.get(group)
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    def _m_chat_postEphemeral(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        # Slack: channel and user are required, a channel the bot cannot see is channel_not_found, one it is
        # not in not_in_channel; text, blocks or attachments must be given (no_text). Nothing joins history.
        channel, user = str(args.get("channel") or ""), str(args.get("user") or "")
        refused = self.channel_errors.get(channel)
        if not channel or refused == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        if refused in {"not_in_channel", "is_archived"}:
            return {"ok": False, "error": refused}
        if not user.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": f"{int(time.time())}.000000"}

    # ---- views.publish: the Home tab -----------------------------------------------------------
    def _m_views_publish(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not token:
            return {"ok": False, "error": "not_authed"}
        user = str(args.get("user_id") or "")
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                view = None
        if not user or not isinstance(view, dict) or view.get("type") != "home":
            return _invalid_arguments("[ERROR] must provide an object of type home [json-pointer:/view]")
        if not user.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        if not self.home_tab_enabled:
            return {"ok": False, "error": "not_enabled"}
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            return _invalid_arguments("[ERROR] missing required field: blocks [json-pointer:/view]")
        if len(blocks) > MAX_VIEW_BLOCKS:
            too_many = f"[ERROR] no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]"
            return _invalid_arguments(too_many)
        problem = _block_problem(blocks)
        if problem is not None:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": [problem]}}
        # One Home view per user, kept across publishes (Slack's id is the app's for that user).
        view = {**view, "id": f"V{user[1:]}", "team_id": "T0LOCAL"}
        with self._lock:
            self.published.append((user, view))
            self.home_views[user] = view
        return {"ok": True, "view": view}

    # ---- files: the external upload flow (files.upload is retired) ----------------------------
    def _m_files_upload(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": False, "error": "method_deprecated"}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not token:
            return {"ok": False, "error": "not_authed"}
        if self.scopes is not None and "files:write" not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": "files:write", "provided": ",".join(self.scopes)}
        filename = str(args.get("filename") or "")
        length = str(args.get("length") or "")
        if not filename or not length.isdigit() or int(length) <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):010d}"
        with self._lock:
            self.uploads[file_id] = {"filename": filename, "length": int(length), "bytes": None}
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not token:
            return {"ok": False, "error": "not_authed"}
        files = args.get("files")
        try:
            listed = json.loads(files) if isinstance(files, str) else files
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(listed, list) or not listed or not all(isinstance(f, dict) and f.get("id") for f in listed):
            return {"ok": False, "error": "invalid_arguments"}
        channel = args.get("channel_id")
        if channel is not None and str(channel)[:1] not in {"C", "D", "G"}:
            return {"ok": False, "error": "channel_not_found"}
        done = []
        with self._lock:
            for f in listed:
                upload = self.uploads.get(str(f["id"]))
                # Slack completes only what was uploaded: an id it never gave, or whose bytes never came.
                if upload is None or upload["bytes"] is None:
                    return {"ok": False, "error": "file_not_found"}
            for f in listed:
                upload = self.uploads[str(f["id"])]
                entry = {
                    "id": f["id"],
                    "title": f.get("title") or upload["filename"],
                    "name": upload["filename"],
                    "bytes": upload["bytes"],
                    "channel_id": channel,
                    "initial_comment": args.get("initial_comment"),
                    "thread_ts": args.get("thread_ts"),
                }
                self.shared.append(entry)
                done.append({"id": f["id"], "title": entry["title"]})
        return {"ok": True, "files": done}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        body = await request.read()
        call = Call(
            "upload", {"file_id": file_id, "size": len(body)}, request.headers.get("Authorization"), time.monotonic()
        )
        fault = self._take_fault("upload")
        with self._lock:
            self.calls.append(call)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return web.Response(status=fault.status, text="upload failed")
        with self._lock:
            upload = self.uploads.get(file_id)
            if upload is None:
                return web.Response(status=404, text="not found")
            upload["bytes"] = body
        return web.Response(text=f"OK - {len(body)}")

    # ---- Socket Mode ---------------------------------------------------------------------------
    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            valid = ticket in self._unused_tickets
            self._unused_tickets.discard(ticket)
        if not valid:
            return web.Response(status=401, text="invalid or used ticket")
        # autoping off: the stand-in answers pings itself, so that a silenced connection can stop answering.
        ws = web.WebSocketResponse(heartbeat=None, autoping=False, timeout=1.0)
        await ws.prepare(request)
        assert request.transport is not None
        socket = _Socket(ws, request.transport)
        self._ws_clients.append(socket)
        pinger = asyncio.create_task(self._ping(socket))
        try:
            await ws.send_str(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": len(self._ws_clients),
                        "debug_info": {"host": "standin", "approximate_connection_time": 18060},
                        "connection_info": {"app_id": "A0LOCAL"},
                    }
                )
            )
            with self._ws_changed:
                self.ws_connections += 1
                self._ws_changed.notify_all()
            self.ws_connected.set()
            for envelope in list(self.envelopes):
                await ws.send_str(json.dumps(envelope))
            async for msg in ws:
                if socket.silent:
                    continue
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    with self._lock:
                        self.acks.append(data)
                    self.ack_received.set()
        finally:
            pinger.cancel()
            self._ws_clients.remove(socket)
        return ws

    async def _ping(self, socket: _Socket) -> None:
        interval = self.ws_ping_interval
        if interval is None:
            return
        while not socket.ws.closed:
            await asyncio.sleep(interval)
            if not socket.silent:
                try:
                    await socket.ws.ping(b"standin")
                except (ConnectionError, RuntimeError):
                    return


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport
    silent: bool = False


MAX_VIEW_BLOCKS = 100
# What Slack checks in a view's blocks (a subset): known types, texts present and within their limits.
_BLOCK_TYPES = {"section", "divider", "header", "context", "actions", "image", "rich_text", "markdown", "input"}
_TEXT_LIMITS = {"section": 3000, "header": 150}


def _invalid_arguments(message: str) -> dict[str, Any]:
    return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [message]}}


def _block_problem(blocks: list[Any]) -> str | None:
    """Why Slack would answer invalid_blocks, or None: the first problem found, in Slack's words."""
    ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/view/blocks/{index}]"
        if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
            return f"[ERROR] unsupported type {where}"
        kind = block["type"]
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in ids:
                return f"[ERROR] duplicate block_id {block_id!r} {where}"
            ids.add(block_id)
        text = (block.get("text") or {}).get("text")
        if kind in _TEXT_LIMITS:
            if not text and not block.get("fields"):
                return f"[ERROR] missing required field: text {where}"
            if text and len(text) > _TEXT_LIMITS[kind]:
                return f"[ERROR] must be less than {_TEXT_LIMITS[kind] + 1} characters {where}/text"
        if kind == "section" and len(block.get("fields") or []) > 10:
            return f"[ERROR] no more than 10 items allowed {where}/fields"
        if kind in {"actions", "context"}:
            elements = block.get("elements") or []
            limit = 25 if kind == "actions" else 10
            if not elements or len(elements) > limit:
                return f"[ERROR] must provide 1 to {limit} elements {where}/elements"
            if kind == "actions":
                for element in elements:
                    label = ((element or {}).get("text") or {}).get("text") or ""
                    if not label or len(label) > 75 or len(str(element.get("value") or "")) > 2000:
                        return f"[ERROR] invalid button {where}/elements"
    return None


def posts_by_channel(calls: list[Call]) -> dict[str, list[Call]]:
    out: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        out[str(call.args.get("channel"))].append(call)
    return out
