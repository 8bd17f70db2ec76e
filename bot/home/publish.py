"""Publishing Home tabs (views.publish): on app_home_opened, and again for recent viewers when a follow-up changes.

What each tab shows is built off the event loop (the states are a database read); a failed publish is logged
with Slack's error and never raised: the tab just keeps its previous content.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.home.select import DeskKey, select_home
from bot.home.view import build_home_view
from bot.library import Library
from bot.release.models import Lang
from bot.text import log_safe

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.schedule.service import FollowupService

logger = logging.getLogger(__name__)

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")


def build_views(
    service: FollowupService,
    library: Library,
    viewers: Mapping[str, tuple[Lang, frozenset[str]]],
    *,
    now: dt.datetime,
    command: str,
) -> dict[str, dict[str, Any]]:
    """Each viewer's view (user id -> (language, their user groups)); one read of the states for all. Blocking."""
    states = service.states()
    commitments = service.commitments()
    tz = service.schedule().reminder_timezone()
    views: dict[str, dict[str, Any]] = {}
    for user_id, (lang, groups) in viewers.items():
        desks: set[DeskKey] = library.owners.desks_of(user_id, library, groups_of_user=groups)
        selection = select_home(
            commitments, states, now, user_id=user_id, desks=desks, default_release_id=library.default.id, tz=tz
        )
        views[user_id] = build_home_view(
            selection, states, user_id=user_id, lang=lang, now=now, tz=tz, library=library, command=command
        )
    return views


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return log_safe(str(exc.response.get("error") or "error"))
    return type(exc).__name__


async def publish_home(runtime: Runtime, client: AsyncWebClient, user_ids: Iterable[str]) -> int:
    """Publish the Home tab of each of `user_ids` (Slack user ids; anything else is skipped); how many Slack took."""
    service = runtime.services
    users = [u for u in dict.fromkeys(user_ids) if _SLACK_USER.match(u)]
    if service is None or not users or not client.token:
        return 0
    now = runtime.clock()
    library = runtime.library.current
    # Desks owned through a user group: its members as the service knows them (usergroups.users.list, cached
    # and logged there; a group that cannot be read gives its desks to its entry's users only).
    known = service.usergroup_members
    await known.refresh(library.owners.usergroups(), now=now)
    viewers: dict[str, tuple[Lang, frozenset[str]]] = {}
    for user_id in users:
        lang = await runtime.locales.lang_for(user_id, client) or runtime.settings.default_lang
        groups = frozenset(g for g, members in known.members.items() if user_id in members)
        viewers[user_id] = (lang, groups)
    views = await asyncio.to_thread(build_views, service, library, viewers, now=now, command=runtime.command)
    published = 0
    for user_id, view in views.items():
        try:
            await client.views_publish(user_id=user_id, view=view)
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            logger.warning("views.publish for %s failed: %s", log_safe(user_id), _reason(exc))
            continue
        published += 1
    return published


async def refresh_homes(runtime: Runtime, client: AsyncWebClient, *, home_user: str | None = None) -> int:
    """After a change: the tabs of whoever opened theirs recently in this process, and `home_user`'s (who
    pressed a button on their tab, perhaps opened through another instance, which this one did not see)."""
    recent = runtime.home.recent(now=runtime.clock())
    return await publish_home(runtime, client, [*recent, *([home_user] if home_user else [])])
