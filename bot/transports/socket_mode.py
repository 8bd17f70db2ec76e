"""Socket Mode: the bot connects out to Slack (no inbound port), the recommended mode for ministry networks."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

logger = logging.getLogger(__name__)


async def run_socket_mode(app: AsyncApp, app_token: str, *, stop: asyncio.Event) -> None:
    """Connect (apps.connections.open via the app's Web API base URL) and serve until `stop` is set."""
    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    logger.info("connected to Slack in Socket Mode")
    try:
        await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
