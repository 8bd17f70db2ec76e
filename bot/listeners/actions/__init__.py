"""Block actions: the Done, Snooze and Reopen buttons on follow-up reminders and on the Home tab."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.home.publish import publish_home
from bot.runtime import Runtime
from bot.schedule.content import ACTION_IDS
from bot.text import log_safe

logger = logging.getLogger(__name__)

FOLLOWUP_ACTIONS = re.compile("^(" + "|".join(ACTION_IDS) + ")$")


def may_press(
    runtime: Runtime, *, user_id: str, user_team: str | None, team_id: str | None, enterprise_id: str | None
) -> bool:
    """Who may press Done and Snooze (G7BOT_FOLLOWUP_ACTORS): members of the installed workspace, or admins.

    The middleware has already refused other workspaces; a user from another one (a Slack Connect
    channel) is refused here by the team Slack gives for the user.
    """
    if not user_id or not runtime.admits(team_id=team_id, enterprise_id=enterprise_id):
        return False
    if user_team is not None and not runtime.admits(team_id=user_team, enterprise_id=enterprise_id):
        return False
    if runtime.settings.followup_actors == "admins":
        return runtime.is_admin(user_id, team_id=team_id, enterprise_id=enterprise_id)
    return True


def register(app: AsyncApp, runtime: Runtime) -> tuple[str, ...]:
    @app.action(FOLLOWUP_ACTIONS)
    async def handle_followup_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        service = runtime.services
        if service is None:
            logger.warning("follow-up button pressed but the scheduler is not running here")
            return
        user = body.get("user") or {}
        user_id = str(user.get("id") or "")
        action_id = str(action.get("action_id") or "")
        if not may_press(
            runtime,
            user_id=user_id,
            user_team=user.get("team_id"),
            team_id=context.team_id,
            enterprise_id=context.enterprise_id,
        ):
            logger.warning(
                "follow-up button %s from %s refused (G7BOT_FOLLOWUP_ACTORS=%s)",
                log_safe(action_id),
                log_safe(user_id),
                runtime.settings.followup_actors,
            )
            return
        container = body.get("container") or {}
        if container.get("type") == "view":
            # On the Home tab: no message to find in the delivery log; the change re-publishes the tab.
            async def press_in_home() -> None:
                try:
                    changed = await service.press_in_home(
                        action_id=action_id,
                        commitment_id=str(action.get("value", "")),
                        user_id=user_id,
                        now=runtime.clock(),
                    )
                    if not changed:
                        # Someone else got there first: the presser's tab is out of date, so redraw it.
                        await publish_home(runtime, app.client, [user_id])
                except Exception:
                    logger.exception("home button %s failed", log_safe(action_id))

            service.spawn(press_in_home())
            return
        # Where the button was, as Slack says; press() acts only if the delivery log has that message.
        message = container
        channel = str(message.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        ts = str(message.get("message_ts") or (body.get("message") or {}).get("ts") or "")

        async def press() -> None:
            try:
                await service.press(
                    action_id=action_id,
                    commitment_id=str(action.get("value", "")),
                    user_id=user_id,
                    channel=channel,
                    ts=ts,
                    now=runtime.clock(),
                )
            except Exception:
                logger.exception("follow-up button %s failed", log_safe(action_id))

        # The ack goes back at once; the store update and chat.update follow on the loop.
        service.spawn(press())

    return ACTION_IDS
