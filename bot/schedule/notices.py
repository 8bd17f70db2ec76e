"""Admin DMs about posts that fail for good: once per admin, channel and error, as deliveries of kind "notice".

A notice is a row of the delivery log like any post, so it is claimed, fenced and marked sent the same
way and two instances send one DM. Its identity is (notice, notice:<channel>:<error>, <admin user id>,
<when that channel last had a post sent>): the same failure seen again, after a restart or by another
instance, is the same row; once the channel works again, a new failure is a new notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from bot.blocks import build_message
from bot.messages import msg
from bot.release.models import Lang
from bot.reply import Reply, Section
from bot.schedule.occurrence import Occurrence
from bot.schedule.owners import is_user_id, where
from bot.schedule.store import Delivery, Store

NOTICE_KIND = "notice"
# The notice's channel for errors of the app or its token, not of one channel: told once, not per channel.
ANY_CHANNEL = "*"
# Slack errors about the token itself: nothing can be posted, a DM neither. Logged at ERROR, /readyz reports
# the token (auth.test) and `/g7 admin schedule` lists the failed posts.
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
# Errors of the app's installation (its scopes, its token type): every channel fails alike.
APP_ERRORS = frozenset({"missing_scope", "no_permission", "not_allowed_token_type"})
# A notice for a channel that never had a post sent.
_NEVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_LISTED = 5

# What to do about each error, by its messages.py key; anything else gets notice.fix.other.
_FIX = {
    "not_in_channel": "notice.fix.not_in_channel",
    "channel_not_found": "notice.fix.channel_not_found",
    "is_archived": "notice.fix.is_archived",
    "external_channel": "notice.fix.external_channel",
    "missing_scope": "notice.fix.reinstall",
    "no_permission": "notice.fix.reinstall",
    "not_allowed_token_type": "notice.fix.reinstall",
    "restricted_action": "notice.fix.restricted",
    "restricted_action_read_only_channel": "notice.fix.restricted",
    "restricted_action_thread_only_channel": "notice.fix.restricted",
    "restricted_action_non_threadable_channel": "notice.fix.restricted",
    "team_access_not_granted": "notice.fix.restricted",
    "ekm_access_denied": "notice.fix.restricted",
    "msg_too_long": "notice.fix.too_long",
    "too_many_attachments": "notice.fix.bug",
    "invalid_blocks": "notice.fix.bug",
    "invalid_blocks_format": "notice.fix.bug",
    "invalid_metadata_format": "notice.fix.bug",
    "invalid_metadata_schema": "notice.fix.bug",
    "metadata_too_large": "notice.fix.bug",
    "no_text": "notice.fix.bug",
    "invalid_arguments": "notice.fix.bug",
    # conversations.open, for a reminder DMed to a desk's owner (data/owners.yml, notify: dm).
    "user_not_found": "notice.fix.dm_user",
    "user_disabled": "notice.fix.dm_user",
    "user_not_visible": "notice.fix.dm_user",
    "cannot_dm_bot": "notice.fix.dm_user",
}


def notice_scope(channel: str, error: str) -> str:
    """The channel a notice is about: the channel itself, or ANY_CHANNEL for an error of the whole app."""
    return ANY_CHANNEL if error in APP_ERRORS else channel


def notice_key(channel: str, error: str) -> str:
    return f"notice:{notice_scope(channel, error)}:{error}"


def parse_notice_key(key: str) -> tuple[str, str]:
    """(channel, error) of a notice key; ValueError for anything else."""
    kind, channel, error = key.split(":", 2)
    if kind != NOTICE_KIND or not channel or not error:
        raise ValueError(f"not a notice key: {key!r}")
    return channel, error


def notice_occurrences(
    admins: Collection[str], *, channel: str, error: str, since: dt.datetime | None, lang: Lang
) -> list[Occurrence]:
    """One notice per admin about `error` in `channel`; `since`: when that channel last had a post sent."""
    at = since if since is not None else _NEVER
    key = notice_key(channel, error)
    return [
        Occurrence(kind=NOTICE_KIND, key=key, channel=admin, at=at, lang=lang, timezone="UTC")
        for admin in sorted(admins)
    ]


def _when(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def build_notice_reply(*, channel: str, error: str, failures: Sequence[Delivery], lang: Lang) -> Reply:
    """The DM: what failed (channel, which digests or reminders), Slack's error, and how to fix it."""
    if error == "external_channel":
        what = msg("notice.external", lang, channel=channel)
    elif channel == ANY_CHANNEL:
        what = msg("notice.every_channel", lang, error=error)
    elif is_user_id(channel):
        what = msg("notice.dm_failed", lang, user=channel, error=error)
    else:
        what = msg("notice.failed", lang, channel=channel, error=error)
    listed = [f"• `{d.key}` ({_when(d.scheduled_at)}, {where(d.channel)})" for d in failures[:_LISTED]]
    if len(failures) > _LISTED:
        listed.append(msg("notice.more", lang, count=len(failures) - _LISTED))
    sections = [Section(text=what)]
    if listed:
        sections.append(Section(text=f"*{msg('notice.which', lang)}*\n" + "\n".join(listed)))
    fix = msg(_FIX.get(error, "notice.fix.other"), lang, channel=channel, error=error)
    sections.append(Section(text=f"*{msg('notice.how', lang)}*\n{fix}"))
    return Reply(title=msg("notice.title", lang), sections=sections, footer=[msg("notice.once", lang)])


class AdminNotices:
    """Which admins to tell, and each notice's message, rendered from the delivery log when it is sent."""

    def __init__(self, store: Store, admins: Collection[str], *, lang: Lang = "ja"):
        self.store = store
        self.admins = frozenset(admins)
        self.lang: Lang = lang

    def occurrences(self, channel: str, error: str) -> list[Occurrence]:
        """The notices to claim for `error` in `channel` (none without admins or for a dead token)."""
        if not self.admins or error in TOKEN_ERRORS:
            return []
        scope = notice_scope(channel, error)
        since = self.store.last_sent_at(None if scope == ANY_CHANNEL else scope)
        return notice_occurrences(self.admins, channel=channel, error=error, since=since, lang=self.lang)

    def render(self, delivery: Delivery, now: dt.datetime) -> dict[str, Any]:
        """The DM of notice `delivery`, listing the posts the log has as ended by its error (newest first)."""
        channel, error = parse_notice_key(delivery.key)
        failures = [d for d in self._ended(channel, error) if d.kind != NOTICE_KIND]
        lang = delivery.to_occurrence().lang
        return build_message(build_notice_reply(channel=channel, error=error, failures=failures, lang=lang))

    def _ended(self, channel: str, error: str) -> list[Delivery]:
        status = "skipped" if error == "external_channel" else "failed"
        filters: dict[str, object] = {"status": status}
        if channel != ANY_CHANNEL:
            filters["channel"] = channel
        rows = [d for d in self.store.deliveries(**filters) if (d.last_error or "").split(":", 1)[0] == error]
        return sorted(rows, key=lambda d: (d.scheduled_at, d.id), reverse=True)
