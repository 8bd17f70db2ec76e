"""Start-up: settings -> manifest -> runtime -> App, then serve over HTTP or Socket Mode, or run locally."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import math
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot import heap
from bot.app import build_app
from bot.blocks import render_message
from bot.errors import BotError, ConfigError
from bot.library.loader import load_library
from bot.library.owner import LibraryOwner
from bot.listeners import Registered
from bot.manifest import AppManifest, load_manifest, socket_mode_mismatch_warning
from bot.runtime import Runtime, utc_now
from bot.schedule.service import FollowupService, Poster, load_files
from bot.schedule.store import DbTimeouts, Store
from bot.schedule.wiring import start_scheduler, stop_scheduler
from bot.settings import Settings
from bot.text import escape
from bot.transports import local as local_transport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Started:
    settings: Settings
    manifest: AppManifest
    runtime: Runtime
    app: AsyncApp
    # What the app listens for (the manifest check holds manifest.yml to it).
    registered: Registered

    @property
    def service(self) -> FollowupService:
        service = self.runtime.services
        assert service is not None, "start() wires the follow-up service"
        return service

    async def ask(self, text: str, *, user_id: str | None = None) -> dict[str, Any]:
        # What a person typed: Slack escapes &, < and > in a slash command's text, and so does the console.
        message = await local_transport.ask(
            self.app, self.runtime.command, escape(text), user_id=user_id or local_transport.LOCAL_USER
        )
        await self.service.settle()
        return message

    def console(self) -> int:
        return asyncio.run(self._console())

    async def _console(self) -> int:
        # The console runs the scheduler too: digests and reminders print here when they fall due.
        scheduler = start_scheduler(self.service, self.runtime.clock)
        try:
            return await self._read_eval_print()
        finally:
            await stop_scheduler(scheduler, self.service, drain=2.0)

    async def _read_eval_print(self) -> int:
        interactive = sys.stdin.isatty()
        command = self.runtime.command
        if interactive:
            print(
                f"g7bot console: type what follows {command} (help, summary, bilateral france, ...). "
                "Ctrl-D or `exit` quits."
            )
        while True:
            try:
                line = await asyncio.to_thread(input, f"{command} " if interactive else "")
            except EOFError:
                return 0
            if line.strip() in {"exit", "quit", ":q"}:
                return 0
            message = await self.ask(line)
            print(render_message(message))

    def serve(self) -> int:
        warning = socket_mode_mismatch_warning(self.manifest, app_token_set=self.settings.app_token is not None)
        if warning:
            logger.warning("%s", warning)
        missing = missing_for_serve(self.settings)
        if missing:
            raise ConfigError("environment", missing)
        heap.settle()  # start(serving=True) did; anything made since is settled too
        if self.settings.app_token is not None:
            run(self._serve_socket_mode())
        else:
            run(self._serve_http())
        return 0

    async def _serve_http(self) -> None:
        from bot.app import learn_installation
        from bot.readiness import ReadinessChecks
        from bot.transports.http import build_server

        scheduler: AsyncIOScheduler | None = None

        async def on_startup() -> None:
            nonlocal scheduler
            try:
                installed = await learn_installation(self.runtime, self.app.client)
                logger.info("installed in workspace %s", installed.describe())
            except Exception as exc:
                # Bolt's auth.test on the first request tries again; /readyz reports a dead token.
                logger.warning("auth.test failed at start (%s); the first request tries again", type(exc).__name__)
            scheduler = start_scheduler(self.service, self.runtime.clock)

        async def on_shutdown() -> None:
            if scheduler is not None:
                await stop_scheduler(scheduler, self.service)

        server = build_server(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            log_level=self.settings.log_level,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            signing_secret=self.settings.signing_secret.get_secret_value() if self.settings.signing_secret else None,
            readiness=ReadinessChecks(
                store=self.service.store,
                client=self.app.client,
                service=self.service,
                tick_seconds=self.settings.tick_seconds,
                auth_every=self.settings.auth_check_seconds,
            ),
        )
        logger.info(
            "serving HTTP on %s:%s (POST /slack/events, GET /healthz, GET /readyz)",
            self.settings.host,
            self.settings.port,
        )
        await server.serve()

    async def _serve_socket_mode(self) -> None:
        from bot.transports.socket_mode import SocketModeOptions, run_socket_mode

        s = self.settings
        assert s.app_token is not None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(sig: signal.Signals) -> None:
            logger.info("%s received: closing the Socket Mode connection", sig.name)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        options = SocketModeOptions(
            ping_interval=s.socket_ping_seconds,
            silence=s.socket_silence_seconds,
            backoff=s.socket_backoff_seconds,
            backoff_max=s.socket_backoff_max_seconds,
        )
        scheduler = start_scheduler(self.service, self.runtime.clock)
        try:
            await run_socket_mode(self.app, s.app_token.get_secret_value(), stop=stop, options=options)
        finally:
            await stop_scheduler(scheduler, self.service)


def missing_for_serve(settings: Settings) -> list[tuple[str, str]]:
    """Every variable `serve` needs and lacks: Socket Mode with SLACK_APP_TOKEN, else HTTP."""
    missing: list[tuple[str, str]] = []
    mode = "Socket Mode" if settings.app_token is not None else "HTTP mode"
    if settings.bot_token is None:
        missing.append(("SLACK_BOT_TOKEN", f"required to serve {mode}: the bot token xoxb-..."))
    if settings.app_token is None and settings.signing_secret is None:
        missing.append(("SLACK_SIGNING_SECRET", "required to serve HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"))
    return missing


def run(main: Coroutine[Any, Any, None]) -> None:
    """Serve on uvloop, as uvicorn.Server.run() would; uvicorn applies its loop setting only there."""
    try:
        import uvloop
    except ImportError:  # uvicorn[standard] has no uvloop on Windows
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def start(
    settings: Settings,
    *,
    local: bool = False,
    poster: Poster | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    serving: bool = False,
) -> Started:
    """Load and validate everything; a bad file raises ConfigError before anything listens.

    `local`: the console and `ask`: no Slack calls whatever tokens the environment holds, and
    scheduled posts print to the terminal instead of going to Slack. `serving`: for `g7bot serve` only,
    start-up runs with the cycle collector paused and what it loaded is settled (bot.heap), a third of a
    large library's start-up.
    """
    if not serving:
        return _start(settings, local=local, poster=poster, clock=clock)
    with heap.collector_paused():
        started = _start(settings, local=local, poster=poster, clock=clock)
        heap.settle()
    return started


def _start(
    settings: Settings, *, local: bool, poster: Poster | None, clock: Callable[[], dt.datetime]
) -> Started:
    manifest = load_manifest(settings.manifest)
    owner = LibraryOwner(load_library(settings))
    library = owner.current
    # Answers need the library, not the schedule: locally a bad one is only a warning.
    loaded = load_files(settings, library, on_bad_schedule=_warn_bad_schedule if local else None)
    if not local:
        from bot.check import owner_placeholder_warnings, placeholder_warnings

        warnings = placeholder_warnings(settings, loaded.schedule, library)
        for line in [*warnings, *owner_placeholder_warnings(settings, library.owners)]:
            logger.warning("%s", line)
    if local:
        settings = settings.model_copy(update={"bot_token": None, "signing_secret": None})
    if poster is None:
        poster = local_transport.ConsolePoster() if local or settings.bot_token is None else build_poster(settings)
    services = FollowupService(
        settings=settings,
        store=open_store(
            settings.console_database if local else settings.database,
            setting="the console's delivery log (var/ in the working directory)" if local else "G7BOT_DATABASE_URL",
            wait_seconds=settings.database_wait_seconds,
            connect=functools.partial(
                Store,
                timeouts=db_timeouts(settings),
                # An older database's states and reminders are filed under their commitments' releases.
                release_of={c.id: c.release_id or library.default.id for c in loaded.commitments.commitments},
            ),
        ),
        poster=poster,
        library=owner,
        loaded=loaded,
        clock=clock,
    )
    # Complete before any listener is registered: build_app hands the listeners this, nothing fills it in later.
    runtime = Runtime.create(settings, command=manifest.command, library=owner, services=services, clock=clock)
    built = build_app(runtime)
    return Started(settings=settings, manifest=manifest, runtime=runtime, app=built.app, registered=built.registered)


def _warn_bad_schedule(error: ConfigError) -> None:
    print(
        "g7bot: warning: the schedule is not valid, so nothing is scheduled here "
        f"(`g7bot serve` refuses it):\n{error.describe()}",
        file=sys.stderr,
    )


class DatabaseUnavailable(BotError):
    """The database did not answer within G7BOT_DATABASE_WAIT_SECONDS: an outage, not a configuration error."""


# Answers from PostgreSQL that waiting will not change: the URL or the server's set-up is wrong.
_CONNECT_TIMEOUT_SECONDS = 10
_PERMANENT_DATABASE_ERRORS = ("does not exist", "authentication failed", "no password supplied", "not permitted")


def open_store(
    url: str,
    *,
    setting: str,
    wait_seconds: float,
    connect: Callable[[str], Store] = Store,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Store:
    """The delivery log at `url`, waiting up to `wait_seconds` (with backoff) for a database that is down.

    A SQLite file that cannot be created or opened, or a PostgreSQL server that refuses the URL, is a
    ConfigError naming `setting`; a server that does not answer in time raises DatabaseUnavailable.
    """
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A host that drops packets would hold each attempt for the system's TCP timeout (minutes).
        timeout = max(1, min(_CONNECT_TIMEOUT_SECONDS, math.ceil(wait_seconds)))
        url = parsed.update_query_dict({"connect_timeout": str(timeout)}).render_as_string(hide_password=False)
    deadline = monotonic() + wait_seconds
    delay, attempt = 0.5, 1
    while True:
        try:
            return connect(url)
        except OSError as exc:
            # Store creates the SQLite file's folder: a file in the way, no permission, a read-only disk.
            raise ConfigError(
                "environment", [(setting, f"cannot create the folder for {shown}: {exc.strerror or exc}")]
            ) from None
        except DBAPIError as exc:
            reason = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
            sqlite = parsed.get_backend_name() == "sqlite"
            # A SQLite file that another process holds locked will be free again; any other SQLite error
            # (not a database, read-only, cannot be opened) is the path's fault.
            if (sqlite and "locked" not in reason and "busy" not in reason) or any(
                p in reason for p in _PERMANENT_DATABASE_ERRORS
            ):
                raise ConfigError("environment", [(setting, f"cannot open {shown}: {reason}")]) from None
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise DatabaseUnavailable(
                    f"the database {shown} did not answer within {wait_seconds:g} s "
                    f"(G7BOT_DATABASE_WAIT_SECONDS, {attempt} attempt(s)); last error: {reason}"
                ) from None
            wait = min(delay, remaining)
            logger.warning(
                "database %s not reachable (attempt %d): %s; trying again in %.1f s", shown, attempt, reason, wait
            )
            sleep(wait)
            delay, attempt = min(delay * 2, 10.0), attempt + 1


def db_timeouts(settings: Settings) -> DbTimeouts:
    """How long a database session may wait or hold (G7BOT_DB_*_TIMEOUT_SECONDS)."""
    return DbTimeouts(
        lock=settings.db_lock_timeout_seconds,
        statement=settings.db_statement_timeout_seconds,
        idle_in_transaction=settings.db_idle_timeout_seconds,
        busy=settings.db_busy_timeout_seconds,
    )


def build_poster(settings: Settings) -> Poster:
    from bot.schedule.pacing import ChannelPacer
    from bot.schedule.poster import Poster
    from bot.schedule.slack_client import build_post_client

    assert settings.bot_token is not None
    pacer = ChannelPacer(1.0, workspace_rate=settings.post_rate, workspace_burst=settings.post_burst)
    client = build_post_client(
        settings.bot_token.get_secret_value(), settings.api_url, timeout=settings.slack_timeout_seconds
    )
    return Poster(client, pacer=pacer)
