"""Block actions: the Done and Snooze buttons on follow-up reminders."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.runtime import Runtime
from bot.schedule.content import ACTION_IDS

logger = logging.getLogger(__name__)

FOLLOWUP_ACTIONS = re.compile("^(" + "|".join(ACTION_IDS) + ")$")


def register(app: AsyncApp, runtime: Runtime) -> tuple[str, ...]:
    @app.action(FOLLOWUP_ACTIONS)
    async def handle_followup_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        service = runtime.services
        if service is None:
            logger.warning("follow-up button pressed but the scheduler is not running here")
            return
        message = body.get("container") or {}
        channel = str(message.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        ts = str(message.get("message_ts") or (body.get("message") or {}).get("ts") or "")
        user_id = str((body.get("user") or {}).get("id") or "")

        async def press() -> None:
            try:
                await service.press(
                    action_id=action["action_id"],
                    commitment_id=str(action.get("value", "")),
                    user_id=user_id,
                    channel=channel,
                    ts=ts,
                    now=runtime.clock(),
                )
            except Exception:
                logger.exception("follow-up button %s failed", action.get("action_id"))

        # The ack goes back at once; the store update and chat.update follow on the loop.
        service.spawn(press())

    return ACTION_IDS
