"""build_app(runtime): the one Bolt AsyncApp that HTTP, Socket Mode, `ask` and `console` use, and what it registered."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Registered, middleware, register_listeners
from bot.runtime import Installation, Runtime

logger = logging.getLogger(__name__)


async def _local_authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
    # With no bot token the bot still answers (console, ask): there is just nobody to call the Web API as.
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


def build_web_client(runtime: Runtime) -> AsyncWebClient:
    s = runtime.settings
    return AsyncWebClient(
        token=s.bot_token.get_secret_value() if s.bot_token else None,
        base_url=s.api_url,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
        ],
    )


async def learn_installation(runtime: Runtime, client: AsyncWebClient) -> Installation:
    """The installed workspace, from auth.test of the bot token (the start of `serve`)."""
    result = await client.auth_test()
    installed = Installation(team_id=result.get("team_id"), enterprise_id=result.get("enterprise_id"))
    runtime.workspace.learn(installed)
    return installed


@dataclass(frozen=True)
class BuiltApp:
    """The app, and what its listeners listen for (the manifest check holds manifest.yml to it)."""

    app: AsyncApp
    registered: Registered


def build_app(runtime: Runtime) -> BuiltApp:
    """The app on `runtime`, which is complete already: its listeners are given everything they use."""
    s = runtime.settings
    client = build_web_client(runtime)
    app = AsyncApp(
        client=client,
        signing_secret=s.signing_secret.get_secret_value() if s.signing_secret else "",
        request_verification_enabled=s.signing_secret is not None,
        authorize=None if client.token else _local_authorize,
        # Our listeners answer in the ack itself, in well under a millisecond: running them inline
        # avoids Bolt's 10 ms ack-polling loop and a second HTTP call per command.
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    middleware.quiet_bolt_logs()
    middleware.register(app, runtime)

    @app.error
    async def unhandled(error: Exception, body: dict[str, Any]) -> BoltResponse:
        # Listeners turn their own failures into replies (listeners.guard); this is for the rest
        # (a middleware, Bolt itself): logged with a reference, and Slack gets a plain 500.
        ref = uuid.uuid4().hex[:8]
        logger.error("unhandled error (ref %s) on a %s request", ref, middleware.kind_of(body), exc_info=error)
        return BoltResponse(status=500, body="")

    return BuiltApp(app=app, registered=register_listeners(app, runtime))
