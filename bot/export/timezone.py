"""The time zone an export is written in: the requester's Slack time zone (users.info `tz`), else the schedule's."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.schedule.models import zone
from bot.text import log_safe

logger = logging.getLogger(__name__)

_LOOKUP_TIMEOUT = 5.0


def zone_or_none(name: object) -> ZoneInfo | None:
    """The IANA zone `name` names, None for anything else (missing, empty, unknown to this machine)."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return zone(name)
    except ValueError:
        return None


async def user_timezone(
    client: AsyncWebClient, user_id: str, *, fallback: ZoneInfo, timeout: float = _LOOKUP_TIMEOUT
) -> ZoneInfo:
    """`user_id`'s time zone as Slack has it (users.info `tz`, e.g. "Europe/Paris"); `fallback` when Slack
    cannot say (an error, no `tz`, a name this machine does not know). The export is still sent either way."""
    try:
        response = await asyncio.wait_for(client.users_info(user=user_id), timeout=timeout)
    except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        logger.warning("users.info failed for %s: %r; the export uses %s", log_safe(user_id), exc, fallback.key)
        return fallback
    user = response.get("user") or {}
    found = zone_or_none(user.get("tz") if isinstance(user, dict) else None)
    if found is None:
        logger.info("no usable time zone in users.info for %s; the export uses %s", log_safe(user_id), fallback.key)
        return fallback
    return found
