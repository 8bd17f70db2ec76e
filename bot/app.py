"""build_app(runtime) -> the one Bolt AsyncApp that HTTP, Socket Mode, `ask` and `console` all use."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import register_listeners
from bot.runtime import Runtime

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


def build_app(runtime: Runtime) -> AsyncApp:
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
    runtime.registered = register_listeners(app, runtime)
    return app
