"""Events: app_home_opened publishes the person's Home tab; a follow-up change re-publishes recent ones."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.home.publish import publish_home, refresh_homes
from bot.runtime import Runtime
from bot.text import log_safe

logger = logging.getLogger(__name__)

APP_HOME_OPENED = "app_home_opened"


def register(app: AsyncApp, runtime: Runtime) -> tuple[str, ...]:
    client = app.client
    service = runtime.services

    async def on_change(home_user: str | None) -> None:
        try:
            await refresh_homes(runtime, client, home_user=home_user)
        except Exception:
            logger.exception("re-publishing Home tabs failed")

    if service is not None:
        service.on_change.append(on_change)

    @app.event(APP_HOME_OPENED)
    async def home_opened(event: dict[str, Any]) -> None:
        # The Messages and About tabs send the event too; only the Home tab is ours to draw.
        if event.get("tab") != "home":
            return
        user_id = str(event.get("user") or "")
        if service is None:
            logger.warning("Home tab opened by %s but the follow-ups are not running here", log_safe(user_id))
            return
        runtime.home.opened(user_id, now=runtime.clock())

        async def publish() -> None:
            try:
                await publish_home(runtime, client, [user_id])
            except Exception:
                logger.exception("publishing the Home tab of %s failed", log_safe(user_id))

        # Bolt acks the event when this returns; the database read and views.publish follow on the loop.
        service.spawn(publish())

    return (APP_HOME_OPENED,)
