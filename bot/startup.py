"""Start-up: settings -> manifest -> runtime -> App, then serve over HTTP or Socket Mode, or run locally."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app import build_app
from bot.errors import ConfigError
from bot.manifest import AppManifest, load_manifest, socket_mode_mismatch_warning
from bot.runtime import Runtime
from bot.settings import Settings
from bot.transports import local

logger = logging.getLogger(__name__)


@dataclass
class Started:
    settings: Settings
    manifest: AppManifest
    runtime: Runtime
    app: AsyncApp

    async def ask(self, text: str, *, user_id: str | None = None) -> dict[str, Any]:
        return await local.ask(self.app, self.runtime.command, text, user_id=user_id or local.LOCAL_USER)

    def console(self) -> int:
        return asyncio.run(self._console())

    async def _console(self) -> int:
        interactive = sys.stdin.isatty()
        command = self.runtime.command
        if interactive:
            print(f"g7bot console: type what follows {command} (help, summary, bilateral france, ...). "
                  "Ctrl-D or `exit` quits.")
        while True:
            try:
                line = await asyncio.to_thread(input, f"{command} " if interactive else "")
            except EOFError:
                return 0
            if line.strip() in {"exit", "quit", ":q"}:
                return 0
            message = await self.ask(line)
            print(local.as_text(message))

    def serve(self) -> int:
        warning = socket_mode_mismatch_warning(self.manifest, app_token_set=self.settings.app_token is not None)
        if warning:
            logger.warning("%s", warning)
        if self.settings.app_token is not None:
            asyncio.run(self._serve_socket_mode())
        else:
            if self.settings.signing_secret is None:
                raise ConfigError("environment", [("SLACK_SIGNING_SECRET", "required to serve HTTP mode "
                                                   "(or set SLACK_APP_TOKEN for Socket Mode)")])
            asyncio.run(self._serve_http())
        return 0

    async def _serve_http(self) -> None:
        from bot.transports.http import build_server

        server = build_server(self.app, host=self.settings.host, port=self.settings.port,
                              log_level=self.settings.log_level)
        logger.info("serving HTTP on %s:%s (POST /slack/events, GET /healthz)", self.settings.host,
                    self.settings.port)
        await server.serve()

    async def _serve_socket_mode(self) -> None:
        from bot.transports.socket_mode import run_socket_mode

        assert self.settings.app_token is not None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_socket_mode(self.app, self.settings.app_token.get_secret_value(), stop=stop)


def start(settings: Settings, *, local: bool = False) -> Started:
    """Load and validate everything; a bad file raises ConfigError before anything listens."""
    manifest = load_manifest(settings.manifest)
    runtime = Runtime.create(settings, command=manifest.command)
    if local:
        # No Slack calls from the local shells, whatever tokens the environment holds.
        settings = settings.model_copy(update={"bot_token": None, "signing_secret": None})
        runtime.settings = settings
    app = build_app(runtime)
    return Started(settings=settings, manifest=manifest, runtime=runtime, app=app)
